"""Campaign emails that together take every branch of templates/emails/campaign.html, for the
compatibility check and the browser tests."""

from campaigns.delivery.emails import landing_url_for, render_campaign_email
from campaigns.delivery.tests.test_emails import make_email, make_employee, make_image, make_meeting
from campaigns.projects import services as project_services
from campaigns.tests.asset_helpers import png_upload
from lib.images import process_image

LONG_LINK = (
    "https://contoso.sharepoint.com/sites/Ekonomiavdelningen/Delade%20dokument/Forms/AllItems.aspx"
    "?id=%2Fsites%2FEkonomiavdelningen%2FDelade%20dokument%2FAtlas%2FLathund_leverantorsfakturor.pdf"
)
LONG_WORD = "leverantörsfakturahanteringsprocessförändringsarbetsgruppsmötesprotokollsmallen"
BODY = f"""<p>Hej {{{{ first_name }}}}!</p>
<h2>Vad ändras?</h2><p>Den {{{{ go_live }}}} byter vi system. Läs om {LONG_WORD}.</p>
<h3>Tre saker</h3><ul><li>Fakturor attesteras i mobilen.</li><li>Inköp görs i katalogen.</li><li>Lathunden finns här: <a href="{LONG_LINK}">{LONG_LINK}</a></li></ul>
<h4>I ordning</h4><ol><li>Logga in.</li><li>Välj <strong>Mina fakturor</strong>.</li></ol>
<blockquote><p>Det här gör vardagen enklare för oss alla.</p><blockquote><p>Citat i citat.</p></blockquote></blockquote>
<hr><p><em>Frågor?</em> Skriv till <a href="mailto:atlas@example.se">atlas@example.se</a>.</p>"""


def every_branch(project, owner) -> list[tuple[str, str]]:
    """(name, rendered HTML) of emails covering the template: with and without preheader, logo,
    hero, meeting card (with sessions, and without), signature, lists, quotes and long links."""
    hero = make_image(project, owner, alt="Två kollegor vid en skärm")
    logo = project_services.image_store(
        project=project,
        processed=process_image(png_upload("logo.png", (400, 100))),
        by=owner,
        alt_text="Atlas",
        name="logo.png",
    )
    project.logo, project.hero_image = logo, hero
    project.save(update_fields=["logo", "hero_image"])
    meeting = make_meeting(project, owner)
    empty_meeting = make_meeting(project, owner)
    empty_meeting.sessions.all().delete()
    employee = make_employee()
    emails = {
        "full": make_email(project, owner, body=BODY, meeting=meeting),
        "plain": make_email(project, owner, preheader="", sender_kind="change_manager", button_label=""),
        "no-sessions": make_email(project, owner, meeting=empty_meeting, sender_kind="named", sender_name="Pia Holm"),
    }
    rendered = []
    for name, asset in emails.items():
        html = render_campaign_email(
            asset=asset, employee=employee, landing_url=landing_url_for(project, employee)
        ).html
        rendered.append((name, html))
    project.logo = project.hero_image = None
    project.save(update_fields=["logo", "hero_image"])
    asset = make_email(project, owner, body=BODY)
    rendered.append(
        (
            "no-images",
            render_campaign_email(asset=asset, employee=employee, landing_url=landing_url_for(project, employee)).html,
        )
    )
    return rendered
