"""Campaign emails: one asset rendered for one employee, as HTML (Outlook-safe) and plain text.

User-authored text is never rendered as a Django template. It is sanitised with nh3,
merge fields are substituted by `merge.merge` (values HTML-escaped), the result is
sanitised once more, and only then marked safe and handed to the email template.
"""

import html as html_lib
import logging
import re
from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from campaigns.delivery import merge
from campaigns.delivery.mime import PrebuiltEmail, campaign_message
from campaigns.models import Asset, AssetEvent, ChangeProject, ProjectImage, ReplyTo, SenderKind
from lib.colors import WCAG_AA_NORMAL_TEXT, contrast_with_white
from lib.richtext import html_to_text, sanitize_html

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str
    from_email: str
    reply_to: str = ""


def landing_url_for(project: ChangeProject, employee=None) -> str:
    """The landing page of a project: the employee's personal link (created on first need), else the general one."""
    if employee is not None and getattr(employee, "pk", None):
        from campaigns.landing.services import landing_token_for

        return f"{settings.SITE_URL}/p/{landing_token_for(project=project, employee=employee).token}/"
    return f"{settings.SITE_URL}/l/{project.slug}/"


def preview_landing_url(project: ChangeProject) -> str:
    """The landing link that previews and test sends carry: the general one.

    A preview is rendered "as" a real employee, but must never hand a project member that
    employee's working personal link (they could answer the pulse in a colleague's name).
    """
    return landing_url_for(project)


def absolute_url(url: str) -> str:
    """An absolute address for media in emails, which are read far away from the site."""
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + (url if url.startswith("/") else f"/{url}")


def merge_values(*, project: ChangeProject, employee, landing_url: str, language: str = "") -> dict[str, str]:
    """The values of every merge field for one employee, dates in the language they read it in."""
    language = language or content_language_of(project, employee)
    with translation.override(language):
        go_live = date_format(project.go_live, "j F Y")  # "8 January 2027", "8 januari 2027"
    return {
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "full_name": employee.full_name,
        "department": employee.department,
        "site": employee.site,
        "title": employee.title,
        "landing_url": landing_url,
        "project_name": project.name,
        "go_live": go_live,
        "days_to_go_live": str(project.days_to_go_live()),
        "sponsor_name": project.sponsor_name,
        "sponsor_title": project.in_language(language).sponsor_title,
    }


def sender_of(asset: Asset) -> str:
    """The From header: the sponsor, the change manager or a named sender, at a known address."""
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = asset.sender_email or default_address
    if asset.sender_kind == SenderKind.SPONSOR:
        name = asset.project.sponsor_name or default_name
    elif asset.sender_kind == SenderKind.NAMED:
        name = asset.sender_name or default_name
    else:
        creator = asset.project.created_by
        name = asset.sender_name or (creator.get_full_name() if creator else "") or default_name
    return formataddr((_one_line(name), address))


def reply_to_of(asset: Asset) -> str:
    """The Reply-To header, so that replies reach a person rather than the system address.

    The function mailbox when the change manager chose it (and the project has one); else the
    sender's own address; else the change manager's (the project's creator); else the mailbox.
    """
    project = asset.project
    mailbox = formataddr((_one_line(project.name), project.function_mailbox)) if project.function_mailbox else ""
    if asset.reply_to == ReplyTo.MAILBOX and mailbox:
        return mailbox
    if asset.sender_email:
        name, _address = parseaddr(sender_of(asset))
        return formataddr((name, asset.sender_email))
    creator = project.created_by
    if creator and creator.email:
        return formataddr((_one_line(creator.get_full_name()), creator.email))
    return mailbox


def merged_html(text: str | None, values: dict[str, str]) -> str:
    """User rich text made safe for an email: sanitised, merged with escaped values, sanitised again."""
    return sanitize_html(merge.merge(sanitize_html(text), values, html=True))


def merged_text(text: str | None, values: dict[str, str]) -> str:
    """User rich text as plain text, merged with the values as they are."""
    return merge.merge(html_to_text(sanitize_html(text)), values, html=False)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def content_language_of(project: ChangeProject, employee, asset: Asset | None = None) -> str:
    """The language `employee` reads the project (or `asset`) in: theirs where there is a version in
    it, else the project's primary language. Everything in an email follows it, never mixed: an
    English reader of an email not yet written in English gets the Swedish one, Swedish dates and all."""
    language = project.content_language(getattr(employee, "language", "") or settings.LANGUAGE_CODE)
    if asset is not None and language != project.language and not asset.translation(language):
        return project.language
    return language


def _image_url(image: ProjectImage | None) -> str:
    return absolute_url(image.email.url) if image and image.email else ""


def _aspect(image: ProjectImage | None) -> float:
    """Height ÷ width of an image (every size variant keeps the original's proportions)."""
    if image is None or not image.original_width or not image.original_height:
        return 0.5
    return image.original_height / image.original_width


HERO_WIDTH = 600
LOGO_HEIGHT = 36
BUTTON_HEIGHT = 50


def _button_width(label: str) -> int:
    """The VML button's width for Outlook desktop, which cannot size a shape to its text: about
    9 px a character of 16 px bold Segoe UI, plus the padding and the arrow, within the column.
    From the label as written (merge fields unmerged), so every recipient's copy is the same."""
    return max(160, min(520, 9 * len(label) + 78))


def readable_on(background: str) -> str:
    """White or the body's ink, whichever meets WCAG AA on `background` (for text on brand colours)."""
    return "#ffffff" if contrast_with_white(background) >= WCAG_AA_NORMAL_TEXT else "#1d2433"


_BLOCKQUOTE = re.compile(r"<(/?)blockquote>", re.IGNORECASE)
_LINK_TEXT = re.compile(r"(<a\b[^>]*>)([^<]*)(</a>)", re.IGNORECASE)
_URL_LIKE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_ENTITY_OR_CHAR = re.compile(r"&#?\w+;|.", re.DOTALL)


def _breakable_link(match: re.Match) -> str:
    """A link whose text is an address (an intranet or SharePoint link) may break after its
    punctuation (`<wbr>`), so it wraps on a phone instead of widening the email."""
    opening, label, closing = match.groups()
    if not _URL_LIKE.match(html_lib.unescape(label)):
        return match.group(0)
    scheme = re.match(r"https?://", label, re.IGNORECASE)
    parts = [scheme.group(0)] if scheme else []
    for piece in _ENTITY_OR_CHAR.findall(label[scheme.end() if scheme else 0 :]):
        parts.append(piece)
        if piece in ("/", ".", "?", "&amp;", "=", "-", "_", "#", "%"):
            parts.append("<wbr>")
    return f"{opening}{''.join(parts)}{closing}"


# Word, which draws Outlook desktop, ignores a blockquote's padding and border: a table cell keeps both.
_QUOTE_OPEN = (
    '<table role="presentation" class="quote" width="100%" cellpadding="0" cellspacing="0" border="0">'
    '<tr><td class="quote-cell font">'
)
_QUOTE_CLOSE = '</td></tr><tr><td class="spacer-16" height="16">&nbsp;</td></tr></table>'


def email_body_html(html: str) -> str:
    """Sanitised rich text shaped for email clients: quotes as table cells, long addresses breakable."""
    html = _LINK_TEXT.sub(_breakable_link, html)
    return _BLOCKQUOTE.sub(lambda match: _QUOTE_CLOSE if match.group(1) else _QUOTE_OPEN, html)


def _meeting_card(asset: Asset, language: str) -> dict | None:
    meeting = asset.meeting
    if meeting is None:
        return None
    meeting = meeting.in_language(language)
    sessions = []
    for session in meeting.sessions.all():
        session = session.in_language(language)
        starts, ends = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
        sessions.append(
            {
                "day": date_format(starts, "l j F"),
                "time": f"{date_format(starts, 'H:i')}–{date_format(ends, 'H:i')}",
                "site": session.site,
                "place": session.place,
                "online_url": session.online_url,
            }
        )
    return {"title": meeting.headline or meeting.title, "sessions": sessions}


def render_campaign_email(*, asset: Asset, employee, landing_url: str) -> RenderedEmail:
    """Render an email asset for one employee, in the language they read the project in."""
    language = content_language_of(asset.project, employee, asset)
    asset = asset.in_language(language)
    project = asset.project.in_language(language)
    values = merge_values(project=asset.project, employee=employee, landing_url=landing_url, language=language)
    with translation.override(language):
        subject = _one_line(merge.merge(asset.subject, values, html=False)) or asset.title
        preheader = _one_line(merge.merge(asset.preheader, values, html=False))
        headline = _one_line(merge.merge(asset.headline, values, html=False)) or subject
        button_label = _one_line(merge.merge(asset.button_label, values, html=False)) or _("Read more")
        if not preheader:
            # Without one, the inbox shows the email's first words (the date line) after the subject.
            preheader = _one_line(project.lede)
        image = asset.image or project.hero_image
        context = {
            "lang": translation.get_language(),
            "project": project,
            "primary": project.primary_color,
            "on_primary": readable_on(project.primary_color),
            "accent": project.accent_color,
            "logo_url": _image_url(project.logo),
            "logo_alt": project.logo.alt_text if project.logo else "",
            "logo_height": LOGO_HEIGHT,
            "logo_width": round(LOGO_HEIGHT / _aspect(project.logo)),
            "hero_url": _image_url(image),
            "hero_alt": image.alt_text if image else "",
            "hero_width": HERO_WIDTH,
            "hero_height": round(HERO_WIDTH * _aspect(image)),
            "subject": subject,
            "preheader": preheader,
            "headline": headline,
            # Safe: nh3-sanitised, merged with HTML-escaped values, sanitised again (merged_html);
            # email_body_html only wraps quotes in tables and puts <wbr> into link texts.
            "body_html": mark_safe(email_body_html(merged_html(asset.body, values))),  # noqa: S308
            "body_text": merged_text(asset.body, values),
            "button_label": button_label,
            "button_width": _button_width(f"{asset.button_label or _('Read more')} →"),
            "button_height": BUTTON_HEIGHT,
            "landing_url": landing_url,
            "meeting": _meeting_card(asset, language),
            "signature": _signature(asset, project),
            "go_live": values["go_live"],
            "days_to_go_live": project.days_to_go_live(),
            "department": employee.department,
        }
        html = render_to_string("emails/campaign.html", context)
        text = render_to_string("emails/campaign.txt", context)
    html = css_inline.inline(html)
    return RenderedEmail(
        subject=subject,
        preheader=preheader,
        html=html,
        text=_plain(text),
        from_email=sender_of(asset),
        reply_to=reply_to_of(asset),
    )


def _plain(text: str) -> str:
    """`text` as a plain str. A template's output is marked safe, and the plain-text part, rendered
    with autoescape off, must never pass for HTML when a page shows it (the preview does)."""
    return "".join([text])


def _signature(asset: Asset, project: ChangeProject) -> dict | None:
    if asset.sender_kind == SenderKind.SPONSOR and project.sponsor_name:
        return {"name": project.sponsor_name, "title": project.sponsor_title}
    if asset.sender_name:
        return {"name": asset.sender_name, "title": ""}
    return None


def email_send_test(*, asset: Asset, employee, to: str, by) -> RenderedEmail:
    """Send an email asset, as `employee` would get it, to `to` (the user's own address), and audit it.

    The message is built exactly as a recipient's copy (same MIME, headers, Date and encoding);
    only the subject says it is a test, and links are not routed through the click counter.
    """
    rendered = render_campaign_email(asset=asset, employee=employee, landing_url=preview_landing_url(asset.project))
    build_message(rendered, to=to, subject_prefix=_("[Test] ")).send()
    AssetEvent.objects.create(
        asset=asset,
        actor=by,
        action=AssetEvent.Action.TEST_SENT,
        detail={"to": to, "as": employee.full_name or employee.email},
    )
    logger.info("asset %s: test email sent by user %s", asset.pk, by.pk)
    return rendered


def build_message(rendered: RenderedEmail, *, to: str, subject_prefix: str = "") -> PrebuiltEmail:
    """A rendered email as the message a recipient gets (the MIME of the real send), to `to`."""
    _name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return campaign_message(
        subject=f"{subject_prefix}{rendered.subject}",
        text=rendered.text,
        html=rendered.html,
        from_email=rendered.from_email,
        reply_to=rendered.reply_to,
        to=to,
        message_id=make_msgid(domain=default_address.rpartition("@")[2] or "launchpad.localhost"),
    )
