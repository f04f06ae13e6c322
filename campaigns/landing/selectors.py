"""What employees see on the landing page: only what is approved (or later), never a draft.

An asset reaches employees once it is approved, scheduled or done. A draft, an asset waiting
for approval, one whose approval a content change withdrew, and a cancelled one are invisible
on every link and in every cached copy, and their sessions cannot be booked.

A meeting whose audiences are all cross-functional groups is by invitation: its sessions are
shown, and can be booked, only on the personal links of the groups' members.
"""

from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.models import Audience
from audiences.selectors import audience_members
from campaigns.models import Asset, Booking, ChangeProject, Channel, MeetingSession, Question, SenderKind

# The states in which an asset is shown to employees.
PUBLIC_STATUSES = (Asset.Status.APPROVED, Asset.Status.SCHEDULED, Asset.Status.DONE)


def is_public(asset: Asset) -> bool:
    """Whether employees may see `asset` (and book its sessions) now."""
    return asset.status in PUBLIC_STATUSES


def public_assets(*, project: ChangeProject) -> QuerySet[Asset]:
    """The project's assets that employees may see."""
    return project.assets.filter(status__in=PUBLIC_STATUSES)


def _audience_links(meeting_ref: str = "pk"):
    return Asset.audiences.through.objects.filter(asset_id=OuterRef(meeting_ref))


def by_invitation_q(meeting_ref: str = "pk") -> Q:
    """Meetings (rows whose `meeting_ref` is the meeting's id) whose audiences are all cross-functional."""
    links = _audience_links(meeting_ref)
    return Q(Exists(links.filter(audience__is_cross_functional=True))) & ~Q(
        Exists(links.filter(audience__is_cross_functional=False))
    )


def is_by_invitation(meeting: Asset) -> bool:
    """Whether `meeting` is by invitation: it has audiences and every one is a cross-functional group."""
    flags = [audience.is_cross_functional for audience in meeting.audiences.all()]
    return bool(flags) and all(flags)


@dataclass(frozen=True)
class SessionInfo:
    id: int
    meeting_id: int
    meeting_title: str
    starts_at: datetime
    ends_at: datetime
    site: str
    place: str
    online: bool
    free_seats: int


def _bookable_sessions(project: ChangeProject) -> QuerySet[MeetingSession]:
    return (
        MeetingSession.objects.filter(
            meeting__project=project, meeting__status__in=PUBLIC_STATUSES, starts_at__gt=timezone.now()
        )
        .select_related("meeting")
        .annotate(taken=Count("bookings", filter=Q(bookings__status=Booking.Status.CONFIRMED)))
        .order_by("starts_at", "id")
    )


def _info(s: MeetingSession, language: str) -> SessionInfo:
    meeting, s = s.meeting.in_language(language), s.in_language(language)
    return SessionInfo(
        id=s.pk,
        meeting_id=s.meeting_id,
        meeting_title=meeting.headline or meeting.title,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        site=s.site,
        place=s.place,
        online=bool(s.online_url),
        free_seats=max(s.capacity - s.taken, 0),
    )


def bookable_sessions(
    *, project: ChangeProject, language: str = ""
) -> tuple[list[SessionInfo], dict[int, list[SessionInfo]]]:
    """Future sessions of the project's approved meetings, in one query: those everyone may book,
    and those of meetings by invitation by meeting id; titles and places in `language`."""
    language = language or project.language
    open_to_all: list[SessionInfo] = []
    invitation: dict[int, list[SessionInfo]] = {}
    flagged = _bookable_sessions(project).annotate(
        by_invitation=ExpressionWrapper(by_invitation_q("meeting_id"), output_field=BooleanField())
    )
    for s in flagged:
        if s.by_invitation:
            invitation.setdefault(s.meeting_id, []).append(_info(s, language))
        else:
            open_to_all.append(_info(s, language))
    return open_to_all, invitation


def public_sessions(*, project: ChangeProject) -> list[SessionInfo]:
    """Future sessions of the project's approved meetings that everyone may book."""
    return bookable_sessions(project=project)[0]


def invited_meetings(*, employee, meeting_ids) -> set[int]:
    """Of the meetings by invitation `meeting_ids`, those whose cross-functional groups include `employee`."""
    meeting_ids = set(meeting_ids)
    if not meeting_ids or employee is None or not employee.pk:
        return set()
    invited = set()
    links = Asset.audiences.through.objects.filter(asset_id__in=meeting_ids).values_list("asset_id", "audience_id")
    audiences = {}
    for meeting_id, audience_id in links:
        audiences.setdefault(audience_id, set()).add(meeting_id)
    for audience in Audience.objects.filter(pk__in=audiences):
        if audiences[audience.pk] - invited and audience_members(audience=audience).filter(pk=employee.pk).exists():
            invited |= audiences[audience.pk]
    return invited


def meetings_inviting(*, audience: Audience, meeting_ids) -> set[int]:
    """Of the meetings by invitation `meeting_ids`, those that invite the members of `audience`."""
    through = Asset.audiences.through.objects
    return set(through.filter(asset_id__in=set(meeting_ids), audience=audience).values_list("asset_id", flat=True))


def may_book(*, session: MeetingSession, employee) -> bool:
    """Whether `employee` (None on the general link) may book `session` now: an approved meeting,
    open to everyone or by an invitation that includes the employee."""
    meeting = session.meeting
    if not is_public(meeting):
        return False
    if not is_by_invitation(meeting):
        return True
    return meeting.pk in invited_meetings(employee=employee, meeting_ids=[meeting.pk])


def public_milestones(*, project: ChangeProject, language: str = "") -> list[dict]:
    """The approved milestones in date order, and go-live: what happens when (titles in `language`)."""
    now = timezone.now()
    assets = [
        a.in_language(language or project.language) for a in public_assets(project=project).filter(is_milestone=True)
    ]
    items = [{"title": a.headline or a.title, "at": a.scheduled_for(project.go_live)} for a in assets]
    if not any(timezone.localdate(item["at"]) == project.go_live for item in items):
        go_live = timezone.make_aware(datetime.combine(project.go_live, time(8, 0)))
        items.append({"title": _("Go-live"), "at": go_live, "go_live": True})
    items.sort(key=lambda item: item["at"])
    for item in items:
        item["past"] = item["at"] < now
        item.setdefault("go_live", timezone.localdate(item["at"]) == project.go_live)
    return items


def public_film(*, project: ChangeProject) -> Asset | None:
    """The project's film (the latest approved one), if any."""
    return (
        public_assets(project=project)
        .filter(channel=Channel.FILM)
        .exclude(video="", video_url="")
        .select_related("image")
        .order_by("-id")
        .first()
    )


def sponsor_message(*, project: ChangeProject) -> Asset | None:
    """The sponsor's own words: the latest approved email sent in the sponsor's name."""
    return (
        public_assets(project=project)
        .filter(channel=Channel.EMAIL, sender_kind=SenderKind.SPONSOR)
        .exclude(body="")
        .order_by("-id")
        .first()
    )


def published_questions(*, project: ChangeProject) -> QuerySet[Question]:
    """The FAQ: published answers, newest first."""
    return (
        project.questions.filter(is_published=True)
        .exclude(answer="")
        .order_by(F("published_at").desc(nulls_last=True), "-id")
    )
