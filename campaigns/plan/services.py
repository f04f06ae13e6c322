"""Writes to the launch plan: assets, their status and approval, plan templates. Every change is audited.

Kept beside `services.py` (projects and teams) because the plan is a workspace of its own.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from campaigns.landing import services as landing
from campaigns.models import (
    PRINT_CHANNELS,
    Asset,
    AssetEvent,
    ChangeProject,
    MeetingSession,
    Membership,
    PlanTemplate,
    PlanTemplateItem,
)
from campaigns.plan.models import _film_path
from campaigns.printing import services as printing
from lib.richtext import sanitize_html
from lib.tasks import task_queue_on_commit

logger = logging.getLogger(__name__)

# Queued by name (campaigns/projects/tasks.py), never imported back.
NOTIFY_TASK = "campaigns.tasks.notify"

RICH_FIELDS = ("body",)
# Fields whose change withdraws an approval: what employees would see, and to whom it goes.
CONTENT_FIELDS = (
    "subject",
    "preheader",
    "sender_kind",
    "sender_name",
    "sender_email",
    "button_label",
    "meeting",
    "headline",
    "body",
    "image",
    "video",
    "captions",
    "video_url",
    "audiences",
    "channel",
)

# status -> statuses a user may move it to (DONE is set by the sender, not by hand)
TRANSITIONS = {
    Asset.Status.DRAFT: {Asset.Status.READY, Asset.Status.CANCELLED},
    Asset.Status.READY: {Asset.Status.DRAFT, Asset.Status.APPROVED, Asset.Status.CANCELLED},
    Asset.Status.APPROVED: {Asset.Status.DRAFT, Asset.Status.SCHEDULED, Asset.Status.CANCELLED},
    Asset.Status.SCHEDULED: {Asset.Status.APPROVED, Asset.Status.CANCELLED},
    Asset.Status.DONE: set(),
    Asset.Status.CANCELLED: {Asset.Status.DRAFT},
}


def _audit(asset: Asset, by, action: str, **detail) -> AssetEvent:
    return AssetEvent.objects.create(asset=asset, actor=by, action=action, detail=detail)


def _display(value) -> str:
    if hasattr(value, "all"):
        return ", ".join(sorted(str(v) for v in value.all()))
    return "" if value is None else str(value)


@transaction.atomic
def asset_create(*, project: ChangeProject, by, audiences=(), **fields) -> Asset:
    """Add an asset to the plan as a draft."""
    for name in RICH_FIELDS:
        if name in fields:
            fields[name] = sanitize_html(fields[name])
    asset = Asset(project=project, created_by=by, **fields)
    asset.full_clean(exclude=["video", "captions"])
    asset.save()
    if audiences:
        asset.audiences.set(audiences)
    _audit(asset, by, AssetEvent.Action.CREATED, title=asset.title)
    printing.print_schedule(asset=asset)
    return asset


@transaction.atomic
def asset_update(*, asset: Asset, by, audiences=None, **fields) -> Asset:
    """Change an asset; the changed fields are audited, and a content change withdraws an approval."""
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    for name in RICH_FIELDS:
        if name in fields:
            fields[name] = sanitize_html(fields[name])
    changed: dict[str, list[str]] = {}
    for name, value in fields.items():
        old = getattr(asset, name)
        if old != value:
            changed[name] = [_display(old), _display(value)]
            setattr(asset, name, value)
    if audiences is not None:
        old_ids = set(asset.audiences.values_list("pk", flat=True))
        new_ids = {a.pk for a in audiences}
        if old_ids != new_ids:
            changed["audiences"] = [_display(asset.audiences), ", ".join(sorted(str(a) for a in audiences))]
            asset.audiences.set(audiences)
    if not changed:
        return asset
    asset.full_clean(exclude=["video", "captions"])
    withdrawn = asset.status in (Asset.Status.APPROVED, Asset.Status.SCHEDULED) and any(
        name in CONTENT_FIELDS for name in changed
    )
    if withdrawn and asset.project.requires_approval:
        changed["status"] = [asset.get_status_display(), str(Asset.Status.READY.label)]
        asset.status = Asset.Status.READY
    asset.save()
    _audit(asset, by, AssetEvent.Action.CHANGED, fields=changed)
    printing.print_schedule(asset=asset)
    landing.landing_cache_bump(project_id=asset.project_id)  # the landing page shows approved assets only
    return asset


@transaction.atomic
def asset_translate(*, asset: Asset, language: str, by, values: dict, places: dict[int, str] | None = None) -> Asset:
    """Store `language`'s version of what employees read in an asset (and of its meeting sessions'
    places, by session id). Audited like any change; a change of content withdraws an approval."""
    asset = Asset.objects.select_for_update().select_related("project").get(pk=asset.pk)
    if language not in asset.project.other_languages:
        raise ValidationError(_("This project has no version in that language. Add the language to the project first."))
    values = {name: sanitize_html(value) if name in RICH_FIELDS else value for name, value in values.items()}
    if "captions" in values and hasattr(values["captions"], "read"):  # a new WebVTT file for this language
        upload = values["captions"]
        values["captions"] = default_storage.save(_film_path(asset, f"captions-{language}.vtt"), upload)
    before = asset.translation(language)
    asset.set_translation(language, values)
    after = asset.translation(language)
    changed = {
        f"{name} ({language})": [_display(before.get(name)), _display(after.get(name))]
        for name in asset.TRANSLATED
        if before.get(name) != after.get(name)
    }
    for session in asset.sessions.all() if places else ():
        if session.pk in places and session.translation(language).get("place", "") != places[session.pk]:
            changed[f"place ({language}) {session}"] = [
                session.translation(language).get("place", ""),
                places[session.pk],
            ]
            session.set_translation(language, {"place": places[session.pk]})
            session.save(update_fields=["translations"])
    if not changed:
        return asset
    content = any(key.split(" ", 1)[0] in CONTENT_FIELDS or key.startswith("place") for key in changed)
    if content and asset.status in (Asset.Status.APPROVED, Asset.Status.SCHEDULED) and asset.project.requires_approval:
        changed["status"] = [asset.get_status_display(), str(Asset.Status.READY.label)]
        asset.status = Asset.Status.READY
    asset.save()
    _audit(asset, by, AssetEvent.Action.CHANGED, fields=changed)
    printing.print_schedule(asset=asset)
    landing.landing_cache_bump(project_id=asset.project_id)
    return asset


@transaction.atomic
def asset_set_status(*, asset: Asset, status: str, by) -> Asset:
    """Move an asset along draft → ready → approved → scheduled, or cancel it.

    Approving takes an owner. Scheduling takes an approval unless the project waives it.
    """
    asset = Asset.objects.select_for_update().select_related("project").get(pk=asset.pk)
    project = asset.project
    role = Membership.objects.filter(project=project, user=by).values_list("role", flat=True).first()
    if role not in (Membership.Role.OWNER, Membership.Role.EDITOR):
        raise PermissionDenied
    allowed = set(TRANSITIONS[asset.status])
    if not project.requires_approval and asset.status in (Asset.Status.DRAFT, Asset.Status.READY):
        allowed.add(Asset.Status.SCHEDULED)
    if status not in allowed:
        raise ValidationError(
            _("A %(from)s asset cannot become %(to)s.")
            % {"from": asset.get_status_display().lower(), "to": Asset.Status(status).label.lower()}
        )
    if status == Asset.Status.APPROVED and role != Membership.Role.OWNER:
        raise ValidationError(_("Only an owner of the project can approve."))
    old = asset.get_status_display()
    asset.status = status
    asset.save(update_fields=["status", "updated_at"])
    action = {
        Asset.Status.APPROVED: AssetEvent.Action.APPROVED,
        Asset.Status.SCHEDULED: AssetEvent.Action.SCHEDULED,
    }.get(status, AssetEvent.Action.STATUS)
    _audit(asset, by, action, status=[old, asset.get_status_display()])
    logger.info("asset %s: %s -> %s by user %s", asset.pk, old, status, by.pk)
    if status == Asset.Status.READY:  # the owners hear of it (campaigns/projects/notifications.py)
        task_queue_on_commit(NOTIFY_TASK, "approval", asset.pk, by.pk)
    printing.print_schedule(asset=asset)
    landing.landing_cache_bump(project_id=asset.project_id)  # shown on, or taken off, the landing page
    return asset


@transaction.atomic
def plan_apply_template(
    *, project: ChangeProject, template: PlanTemplate, items: list[PlanTemplateItem] | None = None, by, audiences=()
) -> list[Asset]:
    """Add the accepted items of a plan template to the project as draft assets.

    The words the template adds (the button, say) are in the project's primary language. Where the
    same plan exists in one of the project's further languages (a template of the same family), each
    asset gets that language's version too, from the item in the same place.
    """
    chosen = list(items) if items is not None else list(template.items.all())
    siblings = _sibling_items(template, project)
    assets = []
    for item in chosen:
        if item.template_id != template.pk:
            raise ValidationError(_("That item belongs to another template."))
        with translation.override(project.language):
            button = _("Read more") if item.channel == "email" else ""
        asset = asset_create(
            project=project,
            by=by,
            audiences=audiences,
            channel=item.channel,
            stage=item.stage,
            title=item.title,
            offset_days=item.offset_days,
            subject=item.subject,
            # The plan's title is the team's name for the item ("Poster for the lunch room"); a
            # printed piece's headline is written for the wall, and prints the project's name until then.
            headline=_template_headline(item),
            body=item.body,
            sender_kind=item.sender_kind,
            button_label=button,
            is_milestone=item.channel in ("meeting", "news") or item.offset_days == 0,
        )
        for language, by_order in siblings.items():
            other = by_order.get(item.order)
            if other is None or other.channel != item.channel:
                continue
            with translation.override(language):
                button = _("Read more") if other.channel == "email" else ""
            asset.set_translation(
                language,
                {
                    "title": other.title,
                    "subject": other.subject,
                    "headline": _template_headline(other),
                    "body": sanitize_html(other.body),
                    "button_label": button,
                },
            )
        if siblings:
            asset.save(update_fields=["translations"])
        assets.append(asset)
    return assets


def _template_headline(item: PlanTemplateItem) -> str:
    return item.title if item.channel not in ("email", *PRINT_CHANNELS) else ""


def _sibling_items(template: PlanTemplate, project: ChangeProject) -> dict[str, dict[int, PlanTemplateItem]]:
    """{language: {order: item}} of the same plan in the project's further languages."""
    if not template.family or not project.other_languages:
        return {}
    siblings = (
        PlanTemplate.objects.filter(family=template.family, language__in=project.other_languages)
        .exclude(pk=template.pk)
        .prefetch_related("items")
    )
    return {sibling.language: {item.order: item for item in sibling.items.all()} for sibling in siblings}


# A change to any of these sends booked people an updated calendar invite.
_INVITE_FIELDS = ("starts_at", "ends_at", "site", "place", "online_url")


@transaction.atomic
def meeting_sessions_save(*, meeting: Asset, save: list[MeetingSession], delete: list[MeetingSession], by) -> Asset:
    """Add, change and remove a meeting's sessions; audited, and an approval is withdrawn."""
    meeting = Asset.objects.select_for_update().select_related("project").get(pk=meeting.pk)
    if not save and not delete:
        return meeting
    moved = []
    for session in save:
        session.meeting = meeting
        session.full_clean()
        before = MeetingSession.objects.filter(pk=session.pk).values(*_INVITE_FIELDS).first() if session.pk else None
        session.save()
        if before and any(before[f] != getattr(session, f) for f in _INVITE_FIELDS):
            moved.append(session)
    for session in delete:
        if session.meeting_id == meeting.pk:
            landing.session_cancelled(session=session)  # invites are cancelled before the rows go
            session.delete()
    for session in moved:
        landing.session_changed(session=session)  # booked people get an updated invite
    changed = {
        "sessions": ["", _("%(saved)d saved, %(removed)d removed") % {"saved": len(save), "removed": len(delete)}]
    }
    if meeting.status in (Asset.Status.APPROVED, Asset.Status.SCHEDULED) and meeting.project.requires_approval:
        changed["status"] = [str(meeting.get_status_display()), str(Asset.Status.READY.label)]
        meeting.status = Asset.Status.READY
        meeting.save(update_fields=["status", "updated_at"])
    _audit(meeting, by, AssetEvent.Action.CHANGED, fields=changed)
    printing.print_schedule(asset=meeting)
    landing.landing_cache_bump(project_id=meeting.project_id)
    return meeting
