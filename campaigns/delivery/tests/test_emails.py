"""The campaign email: personalised, escaped, sanitised, Outlook-safe, and sent for real in a test send."""

import email
import email.policy
import html as html_lib
import re

import pytest
from django.urls import reverse

from campaigns.delivery.emails import html_to_text, landing_url_for, render_campaign_email
from campaigns.models import Asset, AssetEvent
from campaigns.tests.asset_helpers import make_email, make_employee, make_image, make_meeting
from campaigns.tests.landing_helpers import bilingual

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture
def project(project):
    project.refresh_from_db()
    return project


def _render(asset, employee):
    return render_campaign_email(asset=asset, employee=employee, landing_url=landing_url_for(asset.project, employee))


@pytest.mark.django_db
def test_it_personalises_subject_preheader_body_and_text(project, owner):
    asset = make_email(project, owner)
    rendered = _render(asset, make_employee())
    assert rendered.subject == "Hej Anna, därför byter vi system"
    assert rendered.preheader.endswith("dagar kvar till driftstart")
    assert "Hej Anna!" in rendered.html
    assert "Den 1 mars 2027 byter vi ekonomisystem." in rendered.html
    assert "Hej Anna!" in rendered.text
    assert "{{" not in rendered.html and "{{" not in rendered.text


@pytest.mark.django_db
def test_it_shows_a_hostile_imported_name_as_text(project, owner):
    asset = make_email(project, owner)
    rendered = _render(asset, make_employee(first_name=HOSTILE_NAME))
    assert HOSTILE_NAME not in rendered.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered.html
    assert "<img src=x" not in rendered.html
    # The plain-text part is not HTML: the name reads exactly as it was imported.
    assert f"Hej {HOSTILE_NAME}!" in rendered.text
    assert rendered.subject == f"Hej {HOSTILE_NAME}, därför byter vi system"


@pytest.mark.django_db
def test_it_sanitises_rich_text_again_when_rendering(project, owner):
    asset = make_email(project, owner)
    # Written around the forms and services, as a careless import or admin edit could.
    Asset.objects.filter(pk=asset.pk).update(
        body='<p onclick="steal()">Hej</p><script>alert(1)</script><style>p{}</style>'
        '<iframe src="https://evil.example"></iframe><a href="javascript:alert(1)">klick</a>'
    )
    asset.refresh_from_db()
    rendered = _render(asset, make_employee())
    body = rendered.html.split('class="body', 1)[1]
    for bad in ("<script", "alert(1)", "onclick", "<iframe", "evil.example", "javascript:", "p{}"):
        assert bad not in body
    assert "Hej" in body and "klick" in body


@pytest.mark.django_db
def test_it_refuses_a_javascript_link_made_of_a_merge_value(project, owner):
    asset = make_email(project, owner, body='<p><a href="{{ first_name }}">min sida</a></p>')
    rendered = _render(asset, make_employee(first_name="javascript:alert(1)"))
    assert 'href="javascript' not in rendered.html


@pytest.mark.django_db
def test_it_uses_an_absolute_hero_image_with_alt_text_and_the_brand(project, owner, settings):
    settings.SITE_URL = "https://launchpad.example.se"
    image = make_image(project, owner, alt="Två kollegor vid en skärm")
    asset = make_email(project, owner, image=image)
    employee = make_employee()
    html = _render(asset, employee).html
    assert f'src="https://launchpad.example.se{image.email.url}"' in html
    assert 'alt="Två kollegor vid en skärm"' in html
    assert project.primary_color in html and project.accent_color in html
    landing_url = landing_url_for(project, employee)
    assert landing_url.startswith("https://launchpad.example.se/")
    assert f'href="{landing_url}"' in html


@pytest.mark.django_db
def test_it_is_an_outlook_safe_table_layout_with_inlined_css(project, owner):
    html = _render(make_email(project, owner), make_employee()).html
    assert 'role="presentation"' in html
    assert "<!--[if mso]>" in html and 'width="600"' in html
    assert 'class="headline font" style="' in html
    # Only the media queries (and Outlook's own font) stay in style tags; the rest is inlined.
    assert html.count("<style") == 2 and "@media" in html and "<!--[if mso]><style>" in html


@pytest.mark.django_db
def test_an_email_without_a_preheader_previews_the_lede(project, owner):
    rendered = _render(make_email(project, owner, preheader=""), make_employee())
    assert rendered.preheader == " ".join(project.lede.split())
    assert "mso-hide:all" in rendered.html and rendered.preheader in html_lib.unescape(rendered.html)


@pytest.mark.django_db
def test_text_on_a_light_brand_colour_is_dark(project, owner):
    project.primary_color = "#ffd400"
    project.hero_image = make_image(project, owner, alt="Två kollegor vid en skärm")
    project.save(update_fields=["primary_color", "hero_image"])
    html = _render(make_email(project, owner), make_employee()).html
    hero = re.search(r'<img [^>]*alt="Två kollegor vid en skärm"[^>]*>', html).group(0)
    assert "color:#1d2433" in hero.replace(" ", "") and 'width="600" height="300"' in hero
    assert re.search(r'class="button-link font"[^>]*color: ?#1d2433', html)
    assert "color:#1d2433" in re.search(r"<center [^>]*>", html).group(0).replace(" ", "")  # Outlook's VML button


@pytest.mark.django_db
def test_quotes_become_table_cells_and_long_links_may_break(project, owner):
    link = "https://intranet.example.se/sites/atlas/Delade%20dokument/lathund.pdf?web=1&download=0"
    body = f'<blockquote><p>Citat</p></blockquote><p><a href="{link}">{link}</a> och <a href="{link}">lathunden</a></p>'
    html = _render(make_email(project, owner, body=body), make_employee()).html
    assert "<blockquote" not in html and re.search(r'<td class="quote-cell font"[^>]*border-left: 3px solid', html)
    assert ">https://intranet.<wbr>example.<wbr>se/<wbr>sites/<wbr>atlas/<wbr>" in html and "&amp;<wbr>download" in html
    assert ">lathunden</a>" in html  # words are left alone
    assert f'href="{link.replace("&", "&amp;")}"' in html  # the address itself is untouched


@pytest.mark.django_db
def test_it_shows_the_meeting_card_with_its_sessions(project, owner):
    meeting = make_meeting(project, owner)
    rendered = _render(make_email(project, owner, meeting=meeting), make_employee())
    assert "Informationsträff om nya ekonomisystemet" in rendered.html
    assert "Måndag 15 februari" in rendered.html and "09:00–10:00" in rendered.html
    assert "Aulan, Storgatan 1" in rendered.html
    assert "Aulan, Storgatan 1" in rendered.text


@pytest.mark.django_db
def test_it_renders_in_the_employees_language_body_and_everything_around_it(project, owner):
    bilingual(project)
    meeting = make_meeting(project, owner)
    meeting.set_translation("en", {"headline": "Information meeting on the new finance system"})
    meeting.save()
    session = meeting.sessions.get()
    session.set_translation("en", {"place": "The Hall, 1 Main Street"})
    session.save()
    asset = make_email(project, owner, body="<p>{{ go_live }}</p>", meeting=meeting)
    asset.set_translation(
        "en",
        {
            "subject": "Why we are changing, {{ first_name }}",
            "body": "<p>Live on {{ go_live }}</p>",
            "button_label": "Read on",
        },
    )
    asset.save()

    swedish = _render(asset, make_employee(language="sv"))
    english = _render(asset, make_employee(email="john@example.se", first_name="John", language="en"))

    assert "1 mars 2027" in swedish.text and swedish.subject == "Hej Anna, därför byter vi system"
    assert 'lang="sv"' in swedish.html and "Aulan, Storgatan 1" in swedish.html
    assert english.subject == "Why we are changing, John"
    assert "Live on 1 March 2027" in english.text and "Read on" in english.html
    assert 'lang="en"' in english.html and "Monday 15 February" in english.html  # the meeting card's date
    assert "Information meeting on the new finance system" in english.html and "The Hall, 1 Main Street" in english.html
    assert "because Nytt ekonomisystem affects your work in Ekonomi" in english.html  # the footer
    for swedish_word in ("mars", "Måndag", "Läs mer", "Aulan", "påverkar"):
        assert swedish_word not in english.html


@pytest.mark.django_db
def test_an_email_not_yet_written_in_the_readers_language_comes_whole_in_the_primary_one(project, owner):
    bilingual(project)
    asset = make_email(project, owner, body="<p>{{ go_live }}</p>")  # no English version
    finnish_reader = make_employee(email="aino@example.se", language="fi")  # a language the project lacks

    for employee in (make_employee(email="john@example.se", language="en"), finnish_reader):
        rendered = _render(asset, employee)
        assert 'lang="sv"' in rendered.html and "1 mars 2027" in rendered.text
        assert "March" not in rendered.html and "because" not in rendered.html  # never a mix


@pytest.mark.django_db
def test_it_says_why_the_employee_gets_it_and_comes_from_the_sponsor(project, owner):
    bilingual(project)
    asset = make_email(project, owner)
    asset.set_translation("en", {"subject": "Why we are changing systems", "body": "<p>On {{ go_live }}.</p>"})
    asset.save()
    rendered = _render(asset, make_employee(language="en"))
    assert "because Nytt ekonomisystem affects your work in Ekonomi" in rendered.html
    assert "Karin Lind" in rendered.from_email
    assert "Karin Lind" in rendered.html and "CFO" in rendered.html


def test_html_to_text_keeps_paragraphs_bullets_and_links():
    text = html_to_text(
        '<p>Hej &amp; välkommen</p><ul><li>Ett</li><li>Två</li></ul><p><a href="https://x.se/">här</a></p>'
    )
    assert text == "Hej & välkommen\n\n• Ett\n• Två\n\nhär (https://x.se/)"


# A real SMTP server for the test send: the `smtp_inbox` fixture of the root conftest.


@pytest.mark.django_db
def test_a_test_send_arrives_at_a_real_smtp_server(client, project, editor, smtp_inbox):
    asset = make_email(project, editor)
    employee = make_employee()
    client.force_login(editor)

    response = client.post(
        reverse("campaigns:asset_test_send", args=[project.slug, asset.pk]), {"employee": employee.pk}
    )

    assert response.status_code == 302
    assert len(smtp_inbox.envelopes) == 1
    envelope = smtp_inbox.envelopes[0]
    assert envelope.rcpt_tos == ["editor@example.se"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "Hej Anna, därför byter vi system" in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert 'role="presentation"' in html and "Hej Anna!" in html
    assert "Hej Anna!" in text and "<p>" not in text
    event = asset.events.get(action=AssetEvent.Action.TEST_SENT)
    assert event.actor == editor and event.detail["to"] == "editor@example.se"


@pytest.mark.django_db
def test_a_viewer_cannot_send_a_test(client, project, viewer, smtp_inbox):
    asset = make_email(project, viewer.memberships.first().project.created_by)
    client.force_login(viewer)
    response = client.post(reverse("campaigns:asset_test_send", args=[project.slug, asset.pk]))
    assert response.status_code == 403
    assert smtp_inbox.envelopes == []
    assert not asset.events.filter(action=AssetEvent.Action.TEST_SENT).exists()


# Threat: a project member picks up a colleague's working personal link from a preview.


@pytest.mark.django_db
def test_previews_and_test_sends_carry_no_working_personal_link(client, project, editor, viewer, smtp_inbox):
    from campaigns.landing import services as landing
    from campaigns.models import LandingToken

    asset = make_email(project, editor)
    anna = make_employee()
    existing = landing.landing_token_for(project=project, employee=anna)  # Anna already has her link
    client.force_login(viewer)

    page = client.get(reverse("campaigns:asset_preview", args=[project.slug, asset.pk]) + f"?employee={anna.pk}")
    framed = client.get(reverse("campaigns:asset_email_html", args=[project.slug, asset.pk]) + f"?employee={anna.pk}")
    client.force_login(editor)
    client.post(reverse("campaigns:asset_test_send", args=[project.slug, asset.pk]), {"employee": anna.pk})

    (message,) = [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp_inbox.envelopes]
    sent = message.get_body(preferencelist=("html",)).get_content()
    for html in (page.content.decode(), framed.content.decode(), sent):
        assert "Hej Anna!" in html  # rendered as Anna gets it …
        assert existing.token not in html and "/p/" not in html  # … but with the general link
        assert f"/l/{project.slug}/" in html
    assert LandingToken.objects.count() == 1  # and no link was made for the preview


@pytest.mark.django_db
def test_a_test_goes_to_several_addresses_in_the_language_chosen(client, project, editor, smtp_inbox):
    bilingual(project)
    asset = make_email(project, editor)
    asset.set_translation("en", {"subject": "Why we are changing systems", "body": "<p>On {{ go_live }}.</p>"})
    asset.save()
    anna = make_employee()  # Swedish
    client.force_login(editor)

    client.post(
        reverse("campaigns:asset_test_send", args=[project.slug, asset.pk]),
        {"employee": anna.pk, "to": "a@example.se, B@example.se", "language": "en"},
    )

    assert sorted(e.rcpt_tos[0] for e in smtp_inbox.envelopes) == ["a@example.se", "b@example.se"]
    message = email.message_from_bytes(smtp_inbox.envelopes[0].content, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="en"' in html and "On 1 March 2027." in html  # rendered in English for this test
    assert asset.events.filter(action=AssetEvent.Action.TEST_SENT).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("to", ["a@x.se,b@x.se,c@x.se,d@x.se,e@x.se,f@x.se", "inte en adress", ""])
def test_a_test_to_too_many_or_broken_addresses_sends_nothing(client, project, editor, smtp_inbox, to):
    asset = make_email(project, editor)
    client.force_login(editor)
    response = client.post(reverse("campaigns:asset_test_send", args=[project.slug, asset.pk]), {"to": to})
    assert response.status_code == 302
    assert smtp_inbox.envelopes == [] and not asset.events.filter(action=AssetEvent.Action.TEST_SENT).exists()
