"""Printed handouts, posters and flyers: variants, their content hash, the PDF and its page previews.

A print asset has one `PrintRender` per variant (site × language × trim or print-ready).
`print_request` makes sure the variants exist, marks the ones whose content changed and
queues the worker after commit; `print_render` does the work for one variant and is safe
to run twice (a conditional UPDATE claims the row). The HTML is rendered by Django from
`templates/print/`, so its hash covers content, brand, language, QR code and template; the
PDF is rebuilt only when that hash changes.
"""

import hashlib
import io
import logging
import uuid
import zipfile
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.template.defaultfilters import truncatewords
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from campaigns.models import Asset, ChangeProject, Channel, MeetingSession, Membership, PrintRender
from lib.colors import contrast_with_white, text_on
from lib.richtext import html_to_text, render_html
from lib.tasks import task_queue_on_commit

logger = logging.getLogger(__name__)

# Queued by name (campaigns/printing/tasks.py), never imported back.
RENDER_TASK = "campaigns.print_tasks.render_print"

TEMPLATES = {
    Channel.HANDOUT: "print/handout.html",
    Channel.POSTER: "print/poster.html",
    Channel.FLYER: "print/flyer.html",
}
# Seconds one render may take inside the worker (SIGALRM); the Celery task's limits sit above it.
RENDER_TIMEOUT = 60
# A row left "rendering" this long was killed by the hard time limit or a lost worker.
STUCK_AFTER = timedelta(minutes=10)
# Wide enough for a sharp 300-CSS-pixel thumbnail on a 2× screen; wider costs render time.
PREVIEW_WIDTH_PX = 640


class PrintUnavailable(Exception):
    """The asset is not a print asset."""


# --- reads -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def template_version() -> str:
    """A digest of every print template and the shipped font, so a template change re-renders."""
    digest = hashlib.sha256()
    folders = [Path(settings.BASE_DIR) / "templates" / "print", Path(settings.BASE_DIR) / "static" / "fonts"]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def is_stuck(render: PrintRender) -> bool:
    """A render left "rendering" by a worker that was killed (hard time limit, out of memory, lost)."""
    return (
        render.status == PrintRender.Status.RENDERING
        and render.started_at is not None
        and render.started_at < timezone.now() - STUCK_AFTER
    )


def landing_url(*, project: ChangeProject, token: str) -> str:
    """The address a printed QR code opens: the landing page, with the printed piece as source."""
    return f"{settings.SITE_URL}/l/{project.slug}/?src={token}"


def print_sites(*, asset: Asset) -> list[str]:
    """The sites a poster or flyer needs its own version for; [""] means one general version."""
    if asset.channel == Channel.HANDOUT or asset.meeting_id is None:
        return [""]
    sites = sorted(
        set(MeetingSession.objects.filter(meeting_id=asset.meeting_id).exclude(site="").values_list("site", flat=True))
    )
    return sites if len(sites) >= 2 else [""]


def _sessions(asset: Asset, site: str) -> list[MeetingSession]:
    if asset.meeting_id:
        sessions = MeetingSession.objects.filter(meeting_id=asset.meeting_id)
    else:
        sessions = MeetingSession.objects.filter(
            meeting__project_id=asset.project_id, meeting__channel=Channel.MEETING
        ).exclude(meeting__status=Asset.Status.CANCELLED)
    if site:
        sessions = sessions.filter(Q(site=site) | Q(site="", online_url__gt=""))
    return list(sessions.filter(ends_at__gte=timezone.now()).order_by("starts_at")[:12])


def _contacts(project: ChangeProject) -> list[dict]:
    contacts = []
    owners = Membership.objects.filter(project=project, role=Membership.Role.OWNER).select_related("user")
    for membership in owners.order_by("created_at")[:1]:
        user = membership.user
        contacts.append(
            {"name": user.get_full_name() or user.username, "role": _("Change manager"), "email": user.email}
        )
    if project.sponsor_name:
        contacts.append({"name": project.sponsor_name, "role": project.sponsor_title or _("Sponsor"), "email": ""})
    return contacts


@lru_cache(maxsize=512)
def _qr_svg(url: str, color: str) -> str:
    import segno

    dark = color if contrast_with_white(color) >= 7 else "#000000"
    # A vector QR code; the print CSS gives it its size (at least 3 cm on posters).
    return segno.make(url, error="m", micro=False).svg_inline(scale=1, border=0, omitsize=True, dark=dark)


def print_language(render: PrintRender) -> str:
    """The language a variant is printed in: its own where the asset has a version in it, else the
    project's primary language (then the whole piece is, never a mix of the two)."""
    asset = render.asset
    if render.language != asset.project.language and not asset.translation(render.language):
        return asset.project.language
    return render.language


def print_context(*, render: PrintRender) -> dict:
    """Everything a print template shows for one variant, in its language."""
    language = print_language(render)
    asset = render.asset.in_language(language)
    project = render.asset.project.in_language(language)
    image = asset.image or project.hero_image
    url = landing_url(project=project, token=render.qr_token)
    short_text = " ".join(html_to_text(asset.body or "").split()) or project.lede
    return {
        "project": project,
        "asset": asset,
        "render": render,
        "language": language,
        "print_ready": render.print_ready,
        "site": render.site,
        "headline": asset.headline or project.name,
        "lede": project.lede,
        "body": render_html(asset.body),
        "short_text": truncatewords(short_text, 40),
        "why": render_html(project.why),
        "what_changes": render_html(project.what_changes),
        "how_it_affects_me": render_html(project.how_it_affects_me),
        "sessions": [session.in_language(language) for session in _sessions(asset, render.site)],
        "contacts": _contacts(project),
        "qr_svg": mark_safe(_qr_svg(url, project.primary_color)),  # noqa: S308 - generated by segno
        "landing_url": url,
        "landing_display": f"{settings.SITE_URL.split('://', 1)[-1]}/l/{project.slug}",
        "primary": project.primary_color,
        "accent": project.accent_color,
        "on_primary": text_on(project.primary_color),
        "on_accent": text_on(project.accent_color),
        "logo_url": project.logo.print.url if project.logo else "",
        "image_url": image.print.url if image else "",
        "image_alt": image.alt_text if image else "",
    }


def print_html(*, render: PrintRender) -> str:
    """The variant's HTML in its own language."""
    with translation.override(print_language(render)):
        return render_to_string(TEMPLATES[render.asset.channel], print_context(render=render))


def content_hash(html: str) -> str:
    return hashlib.sha256(f"{template_version()}\n{html}".encode()).hexdigest()


def print_renders_for_project(*, project: ChangeProject) -> list[PrintRender]:
    """The current PDFs of a project's print assets (cancelled assets left out)."""
    return list(
        PrintRender.objects.filter(
            asset__project=project, asset__channel__in=list(TEMPLATES), status=PrintRender.Status.DONE
        )
        .exclude(asset__status=Asset.Status.CANCELLED)
        .exclude(pdf="")
        .select_related("asset")
        .order_by("asset__offset_days", "asset_id", "site", "language", "print_ready")
    )


# --- writes ----------------------------------------------------------------------------------


def _variants(asset: Asset, language: str | None, print_ready: bool | None) -> set[tuple[str, str, bool]]:
    sites = print_sites(asset=asset)
    # The plain version in the project's language, and in each further language the asset has been
    # written in, always exists; print-ready ones (and languages asked for) are added.
    project = asset.project
    combos = {(project.language, False)}
    combos.update((code, False) for code in project.other_languages if asset.translation(code))
    combos.update(asset.print_renders.values_list("language", "print_ready").distinct())
    if language is not None or print_ready is not None:
        combos.add((language or project.language, bool(print_ready)))
    return {(site, lang, ready) for site in sites for (lang, ready) in combos}


@transaction.atomic
def print_request(
    *,
    asset: Asset,
    language: str | None = None,
    print_ready: bool | None = None,
    force: bool = False,
    enqueue: bool = True,
) -> list[PrintRender]:
    """Bring the asset's variants up to date and queue the worker for the ones that changed.

    Creates the variants it needs (one per site for a poster of a meeting held at several
    sites; `language`/`print_ready` add one), drops variants of sites that no longer exist,
    and marks a variant pending when its content hash changed (or always, with `force`).
    With `enqueue=False` the caller renders the pending variants itself.
    """
    if asset.channel not in TEMPLATES:
        raise PrintUnavailable(asset.channel)
    wanted = _variants(asset, language, print_ready)
    renders = []
    for existing in asset.print_renders.select_for_update():
        if (existing.site, existing.language, existing.print_ready) not in wanted:
            _delete_files(existing)
            existing.delete()
    for site, lang, ready in sorted(wanted):
        render, _created = PrintRender.objects.get_or_create(asset=asset, site=site, language=lang, print_ready=ready)
        render.asset = asset
        changed = content_hash(print_html(render=render)) != render.content_hash
        if force or changed or render.status == PrintRender.Status.FAILED:
            PrintRender.objects.filter(pk=render.pk).update(
                status=PrintRender.Status.PENDING, requested_at=timezone.now(), attempts=0, error=""
            )
            render.refresh_from_db()
        renders.append(render)
    if enqueue and any(r.status == PrintRender.Status.PENDING for r in renders):
        _enqueue_after_commit(asset.pk)
    return renders


def _enqueue_after_commit(asset_id: int) -> None:
    # A broker outage must not break the save (Django logs it); the builder's Render button retries.
    task_queue_on_commit(RENDER_TASK, asset_id)


def print_schedule(*, asset: Asset) -> None:
    """After commit, let the worker bring the printed versions of what `asset` touches up to date.

    Called by the services that save assets, meeting sessions and projects. The worker compares
    content hashes, so an edit that changes nothing printed costs a template render and no PDF.
    """
    if asset.channel in TEMPLATES:
        if asset.status != Asset.Status.CANCELLED:
            _enqueue_after_commit(asset.pk)
    elif asset.channel == Channel.MEETING:
        print_schedule_project(project=asset.project)


def print_schedule_project(*, project: ChangeProject) -> None:
    """`print_schedule` for every print asset of the project (after a brand or story change)."""
    assets = project.assets.filter(channel__in=list(TEMPLATES)).exclude(status=Asset.Status.CANCELLED)
    for asset_id in assets.values_list("pk", flat=True):
        _enqueue_after_commit(asset_id)


def print_request_project(*, project: ChangeProject, force: bool = False, enqueue: bool = True) -> list[PrintRender]:
    """`print_request` for every print asset of a project that is not cancelled."""
    renders = []
    assets = project.assets.filter(channel__in=list(TEMPLATES)).exclude(status=Asset.Status.CANCELLED)
    for asset in assets.select_related("project"):
        renders.extend(print_request(asset=asset, force=force, enqueue=enqueue))
    return renders


def _claim(render: PrintRender) -> bool:
    """Move the row to rendering unless another worker has it; True if this caller does the work."""
    now = timezone.now()
    free = ~Q(status=PrintRender.Status.RENDERING) | Q(started_at__lt=now - STUCK_AFTER)
    claimed = PrintRender.objects.filter(free, pk=render.pk).update(
        status=PrintRender.Status.RENDERING, started_at=now, attempts=F("attempts") + 1
    )
    return claimed == 1


def _fail(render: PrintRender, reason: str) -> None:
    PrintRender.objects.filter(pk=render.pk).update(status=PrintRender.Status.FAILED, error=reason[:500])
    render.refresh_from_db()


def _delete_files(render: PrintRender) -> None:
    names = [render.pdf.name, *render.previews] if render.pdf else list(render.previews)
    for name in names:
        if name:
            default_storage.delete(name)


def pdf_previews(pdf: bytes, *, width_px: int = PREVIEW_WIDTH_PX) -> list[bytes]:
    """One JPEG per page of `pdf`, `width_px` wide (half the time of a PNG, and smaller)."""
    import pypdfium2 as pdfium

    images = []
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            bitmap = page.render(scale=width_px / page.get_width())
            out = io.BytesIO()
            bitmap.to_pil().convert("RGB").save(out, "JPEG", quality=85)
            images.append(out.getvalue())
            page.close()
    finally:
        document.close()
    return images


def print_render(*, render: PrintRender, force: bool = False) -> PrintRender:
    """Render one variant to PDF and page previews, unless its content hash is unchanged.

    Safe to run twice: a second caller finds the row claimed (or up to date) and returns.
    A render that is refused, fails or runs out of time leaves the variant failed, with the reason.
    """
    render = PrintRender.objects.select_related(
        "asset__project__logo", "asset__project__hero_image", "asset__image"
    ).get(pk=render.pk)
    html = print_html(render=render)
    digest = content_hash(html)
    if not force and render.status == PrintRender.Status.DONE and render.content_hash == digest and render.pdf:
        return render
    if is_stuck(render) and not force:
        _fail(render, _("The render was stopped: it took too long or used too much memory."))
        return render
    if not _claim(render):
        return render
    # WeasyPrint is imported here, not at module level, so web processes that only list renders stay lean.
    from lib.pdf import RenderTimeout, html_to_pdf

    started = timezone.now()
    try:
        pdf = html_to_pdf(html, base_url=settings.SITE_URL + "/", timeout=RENDER_TIMEOUT)
        previews = pdf_previews(pdf)
    except RenderTimeout:
        logger.warning("print render %s stopped at the time limit of %ss", render.pk, RENDER_TIMEOUT)
        _fail(
            render,
            _(
                "The render took longer than %(seconds)s seconds and was stopped. Shorten the text or use a smaller image."
            )
            % {"seconds": RENDER_TIMEOUT},
        )
        return render
    except Exception as exc:  # the reason is shown to the user; the worker carries on
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            _fail(render, _("The render took too long and was stopped."))
            raise
        logger.exception("print render %s failed", render.pk)
        _fail(render, _("The PDF could not be made: %(error)s") % {"error": type(exc).__name__})
        return render
    old = PrintRender(pdf=render.pdf.name, previews=render.previews)
    render.pdf.save(render.filename, ContentFile(pdf), save=False)
    render.previews = [
        default_storage.save(
            f"projects/{render.asset.project_id}/print/{uuid.uuid4().hex}-p{n}.jpg", ContentFile(image)
        )
        for n, image in enumerate(previews, start=1)
    ]
    render.page_count = len(previews)
    render.content_hash = digest
    render.status = PrintRender.Status.DONE
    render.error = ""
    render.rendered_at = timezone.now()
    render.save(update_fields=["pdf", "previews", "page_count", "content_hash", "status", "error", "rendered_at"])
    _delete_files(old)
    logger.info("print render %s done in %.2fs", render.pk, (timezone.now() - started).total_seconds())
    return render


def print_render_asset(*, asset_id: int) -> list[PrintRender]:
    """Bring one print asset's variants up to date and render the changed ones (the worker's entry point)."""
    asset = (
        Asset.objects.filter(pk=asset_id, channel__in=list(TEMPLATES))
        .exclude(status=Asset.Status.CANCELLED)
        .select_related("project")
        .first()
    )
    if asset is None:
        return []
    print_request(asset=asset, enqueue=False)
    return [print_render(render=render) for render in asset.print_renders.all()]


def print_pack(*, renders: Iterable[PrintRender]) -> bytes:
    """A ZIP of the given PDFs, one file per variant."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        used: set[str] = set()
        for render in renders:
            name, n = render.filename, 2
            while name in used:
                name, n = f"{render.filename[:-4]}-{n}.pdf", n + 1
            used.add(name)
            with render.pdf.open("rb") as pdf:
                archive.writestr(name, pdf.read())
    return out.getvalue()
