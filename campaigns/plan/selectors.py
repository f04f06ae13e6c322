"""Reads of the launch plan: the timeline by week and the coverage of audiences by stage and channel."""

import datetime
import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from audiences.models import Audience
from audiences.selectors import audience_readers
from campaigns.models import Asset, ChangeProject, Channel, MeetingSession, SenderKind, Stage
from lib.days_off import day_off
from lib.translations import language_label

ACTIVE_STATUSES = (
    Asset.Status.DRAFT,
    Asset.Status.READY,
    Asset.Status.APPROVED,
    Asset.Status.SCHEDULED,
    Asset.Status.DONE,
)


def t_label(days: int) -> str:
    """ "T", "T−21" or "T+14": days from go-live, with a real minus sign."""
    if days == 0:
        return "T"
    return f"T{'+' if days > 0 else '−'}{abs(days)}"


@dataclass
class PlanItem:
    """One asset on the timeline, with when it happens."""

    asset: Asset
    when: datetime.datetime
    days: int

    @property
    def t_label(self) -> str:
        return t_label(self.days)


@dataclass
class PlanWeek:
    """The assets of one calendar week (Monday to Sunday), counted from the week of go-live."""

    index: int
    monday: datetime.date
    items: list[PlanItem] = field(default_factory=list)
    is_current: bool = False

    @property
    def sunday(self) -> datetime.date:
        return self.monday + datetime.timedelta(days=6)

    @property
    def iso_week(self) -> int:
        return self.monday.isocalendar().week

    @property
    def before_go_live(self) -> list[PlanItem]:
        return [item for item in self.items if item.days < 0]

    @property
    def from_go_live(self) -> list[PlanItem]:
        return [item for item in self.items if item.days >= 0]

    @property
    def label(self) -> str:
        if self.index == 0:
            return _("Go-live week")
        return _("Week %(sign)s%(n)d") % {"sign": "+" if self.index > 0 else "−", "n": abs(self.index)}


@dataclass
class PlanWarning:
    """Something in the plan a change manager should act on, with a link that helps do it."""

    kind: str
    message: str
    url: str = ""
    link_label: str = ""


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def plan_assets(*, project: ChangeProject) -> list[Asset]:
    """Every asset of the project with its audiences: two queries, however many assets."""
    assets = list(
        Asset.objects.filter(project=project).prefetch_related(
            Prefetch("audiences", queryset=Audience.objects.order_by("name"))
        )
    )
    for asset in assets:
        asset.project = project  # scheduled_for() reads go_live; spare a query per asset
    return assets


def plan_items(*, project: ChangeProject, assets: list[Asset] | None = None) -> list[PlanItem]:
    """The assets in the order they happen: relative ones from go-live, fixed ones at their date."""
    assets = plan_assets(project=project) if assets is None else assets
    items = []
    for asset in assets:
        when = timezone.localtime(asset.scheduled_for(project.go_live))
        items.append(PlanItem(asset=asset, when=when, days=(when.date() - project.go_live).days))
    items.sort(key=lambda item: (item.when, item.asset.pk))
    return items


def plan_timeline(
    *,
    project: ChangeProject,
    assets: list[Asset] | None = None,
    channel: str = "",
    stage: str = "",
    audience_id: int | None = None,
    today: datetime.date | None = None,
) -> list[PlanWeek]:
    """The plan grouped by week relative to go-live ("week −6" … "go-live week" … "week +4").

    Optionally only one channel, stage or audience. Two queries when `assets` is not given.
    """
    today = today or timezone.localdate()
    go_live_monday = _monday(project.go_live)
    weeks: dict[int, PlanWeek] = {}
    for item in plan_items(project=project, assets=assets):
        asset = item.asset
        if channel and asset.channel != channel:
            continue
        if stage and asset.stage != stage:
            continue
        if audience_id and not any(a.pk == audience_id for a in asset.audiences.all()):
            continue
        monday = _monday(item.when.date())
        index = (monday - go_live_monday).days // 7
        if index not in weeks:
            weeks[index] = PlanWeek(index=index, monday=monday, is_current=monday == _monday(today))
        weeks[index].items.append(item)
    if weeks:
        # Go-live anchors the plan and "this week" tells where we are: both show even when empty.
        this_week = (_monday(today) - go_live_monday).days // 7
        for index in {0, this_week}:
            if index not in weeks and (index == 0 or min(weeks) < index < max(weeks)):
                monday = go_live_monday + datetime.timedelta(weeks=index)
                weeks[index] = PlanWeek(index=index, monday=monday, is_current=index == this_week)
    return [weeks[i] for i in sorted(weeks)]


def is_everyone(audience: Audience) -> bool:
    """True for an audience by rules without any rule: the whole directory."""
    if audience.kind != Audience.Kind.RULES:
        return False
    rules = (audience.rules or {}).get("rules") or []
    return not any(str(v) != "" for rule in rules for v in rule.get("values", []))


def _heat(count: int) -> int:
    return min(count, 4)


def plan_coverage(
    *, project: ChangeProject, assets: list[Asset] | None = None, audiences: list[Audience] | None = None
) -> dict:
    """Which audiences each ADKAR stage and channel reaches, and the gaps worth acting on.

    Counts leave cancelled assets out. Three queries when neither list is given.
    Returns {"stages", "channels", "rows": [{"audience", "stages": [(count, heat)], "channels": […],
    "total"}], "warnings": [PlanWarning]}.
    """
    assets = plan_assets(project=project) if assets is None else assets
    audiences = list(project.audiences.order_by("name")) if audiences is None else audiences
    audiences_all = audiences
    live = [a for a in assets if a.status in ACTIVE_STATUSES]
    everyone = {a.pk for a in audiences if is_everyone(a)}
    by_audience: dict[int, list[Asset]] = {audience.pk: [] for audience in audiences}
    for asset in live:
        targets = {audience.pk for audience in asset.audiences.all()}
        # An asset for everyone reaches every audience; telling that needs no membership query.
        for pk in by_audience if targets & everyone else targets & by_audience.keys():
            by_audience[pk].append(asset)

    def add_url(channel: str, stage: str = "", audience: Audience | None = None) -> str:
        query = {"channel": channel}
        if stage:
            query["stage"] = stage
        if audience is not None:
            query["audience"] = audience.pk
        return f"{reverse('campaigns:asset_create', args=[project.slug])}?{urlencode(query)}"

    rows, warnings = [], []
    sponsor = project.sponsor_name or _("the sponsor")
    for audience in audiences:
        reached = by_audience[audience.pk]
        stage_counts = [sum(1 for a in reached if a.stage == s) for s in Stage.values]
        channel_counts = [sum(1 for a in reached if a.channel == c) for c in Channel.values]
        rows.append(
            {
                "audience": audience,
                "stages": [(n, _heat(n)) for n in stage_counts],
                "channels": [(n, _heat(n)) for n in channel_counts],
                "total": len(reached),
            }
        )
        before_go_live = [a for a in reached if timezone.localdate(a.scheduled_for(project.go_live)) < project.go_live]
        if not any(a.stage == Stage.KNOWLEDGE for a in before_go_live):
            warnings.append(
                PlanWarning(
                    kind="no_knowledge",
                    message=_(
                        "“%(audience)s” learns nothing about how to work the new way before go-live: "
                        "there is no knowledge-stage asset for them before %(date)s."
                    )
                    % {"audience": audience.name, "date": date_format(project.go_live, "j F")},
                    url=add_url(Channel.HANDOUT, Stage.KNOWLEDGE, audience),
                    link_label=_("Add a handout"),
                )
            )
        channels = {a.channel for a in reached}
        if not channels:
            warnings.append(
                PlanWarning(
                    kind="not_reached",
                    message=_("“%(audience)s” is not reached by any asset yet.") % {"audience": audience.name},
                    url=add_url(Channel.EMAIL, audience=audience),
                    link_label=_("Add an email"),
                )
            )
        elif len(channels) == 1:
            only = Channel(channels.pop())
            other = Channel.MEETING if only != Channel.MEETING else Channel.EMAIL
            warnings.append(
                PlanWarning(
                    kind="one_channel",
                    message=_(
                        "“%(audience)s” is reached by one channel only (%(channel)s). "
                        "People take in a change through several: add a meeting, print or film."
                    )
                    % {"audience": audience.name, "channel": only.label.lower()},
                    url=add_url(other, audience=audience),
                    link_label=_("Add an information meeting") if other == Channel.MEETING else _("Add an email"),
                )
            )
        why_emails = [a for a in reached if a.channel == Channel.EMAIL and a.stage == Stage.AWARENESS]
        if reached and not any(a.sender_kind == SenderKind.SPONSOR for a in why_emails):
            if why_emails:
                first = why_emails[0]
                warnings.append(
                    PlanWarning(
                        kind="why_not_from_sponsor",
                        message=_(
                            "The why message to “%(audience)s” is not sent by the sponsor: “%(title)s” comes from "
                            "%(sender)s. People want the business reason from %(sponsor)s."
                        )
                        % {
                            "audience": audience.name,
                            "title": first.title,
                            "sender": first.get_sender_kind_display().lower(),
                            "sponsor": sponsor,
                        },
                        url=reverse("campaigns:asset_edit", args=[project.slug, first.pk]),
                        link_label=_("Change the sender"),
                    )
                )
            else:
                warnings.append(
                    PlanWarning(
                        kind="why_not_from_sponsor",
                        message=_(
                            "“%(audience)s” gets no why message from the sponsor. People want the business "
                            "reason from %(sponsor)s."
                        )
                        % {"audience": audience.name, "sponsor": sponsor},
                        url=add_url(Channel.EMAIL, Stage.AWARENESS, audience),
                        link_label=_("Add the sponsor's email"),
                    )
                )
    for asset in live:
        audiences = asset.audiences.all()
        if not audiences:
            warnings.append(
                PlanWarning(
                    kind="no_audience",
                    message=_("“%(title)s” has no audience: nobody will get it.") % {"title": asset.title},
                    url=reverse("campaigns:asset_edit", args=[project.slug, asset.pk]),
                    link_label=_("Choose audiences"),
                )
            )
        elif asset.channel == Channel.MEETING and all(a.is_cross_functional for a in audiences):
            warnings.append(
                PlanWarning(
                    kind="by_invitation",
                    message=_(
                        "“%(title)s” is by invitation: its audiences are all cross-functional groups, so its "
                        "sessions are not on the general link or the posters; only the groups' members see "
                        "and book them on their personal links."
                    )
                    % {"title": asset.title},
                    url=reverse("campaigns:asset_edit", args=[project.slug, asset.pk]),
                    link_label=_("Change the audiences"),
                )
            )
    # Sessions on public holidays and weekends, where people are off (one query).
    sessions = (
        MeetingSession.objects.filter(meeting__project=project, starts_at__gte=timezone.now())
        .exclude(meeting__status=Asset.Status.CANCELLED)
        .select_related("meeting")
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        day = timezone.localdate(session.starts_at)
        reason = day_off(day, site=session.site)
        if reason:
            warnings.append(
                PlanWarning(
                    kind="day_off",
                    message=_("“%(title)s” has a session on %(date)s, a day off: %(reason)s.")
                    % {"title": session.meeting.title, "date": date_format(day, "l j F"), "reason": reason},
                    url=reverse("campaigns:asset_edit", args=[project.slug, session.meeting_id]),
                    link_label=_("Move the session"),
                )
            )
    warnings += _untranslated(project, live, audiences_all, rows)
    return {
        "stages": Stage.choices,
        "channels": Channel.choices,
        "rows": rows,
        "warnings": warnings,
    }


def _untranslated(project: ChangeProject, live: list[Asset], audiences: list[Audience], rows: list[dict]) -> list:
    """Assets (and the story) that people in their audiences would read in a further language of the
    project, but that have no version, or an outdated one, in it: gaps in the plan like any other.
    Each row of the coverage gets the number of its assets missing a language its people read.
    One query, and none for a project in one language."""
    if not project.other_languages or not audiences:
        return []
    readers = audience_readers(audiences=audiences, languages=project.other_languages)
    everyone = {a.pk for a in audiences if is_everyone(a)}
    warnings, gaps = [], {}
    for asset in live:
        targets = {a.pk for a in asset.audiences.all()}
        if targets & everyone:
            targets = {a.pk for a in audiences}
        for language in project.other_languages:
            people = sum(readers.get(pk, {}).get(language, 0) for pk in targets)
            state = asset.translation_state(language)
            if not people or state.complete or not state.needed:
                continue
            for pk in targets:
                if readers.get(pk, {}).get(language):
                    gaps[pk] = gaps.get(pk, 0) + 1
            values = {"title": asset.title, "language": language_label(language, in_sentence=True), "n": people}
            warnings.append(
                PlanWarning(
                    kind="untranslated",
                    message=(
                        _(
                            "“%(title)s” has no %(language)s version yet; %(n)d people in its audiences read %(language)s."
                        )
                        if not state.done and not state.outdated
                        else _(
                            "The %(language)s version of “%(title)s” is incomplete or outdated; %(n)d people read it."
                        )
                    )
                    % values,
                    url=reverse("campaigns:asset_translate", args=[project.slug, asset.pk, language]),
                    link_label=_("Write the %(language)s version") % values,
                )
            )
    story_readers = sum(people for counts in readers.values() for people in counts.values())
    for language in project.other_languages:
        if story_readers and not project.translation_state(language).complete:
            warnings.append(
                PlanWarning(
                    kind="untranslated",
                    message=_("The landing page's story has no complete %(language)s version.")
                    % {"language": language_label(language, in_sentence=True)},
                    url=reverse("campaigns:story_translate", args=[project.slug, language]),
                    link_label=_("Write the %(language)s version")
                    % {"language": language_label(language, in_sentence=True)},
                )
            )
    for row in rows:
        row["untranslated"] = gaps.get(row["audience"].pk, 0)
    return warnings


def plan_summary(*, project: ChangeProject, now: datetime.datetime | None = None) -> dict:
    """The plan on the project's overview: assets by status, the next three, the number of warnings."""
    now = now or timezone.now()
    assets = plan_assets(project=project)
    counts = {status: 0 for status in Asset.Status.values}
    for asset in assets:
        counts[asset.status] += 1
    upcoming = [
        item
        for item in plan_items(project=project, assets=assets)
        if item.when >= now and item.asset.status not in (Asset.Status.DONE, Asset.Status.CANCELLED)
    ][:3]
    return {
        "asset_count": len(assets),
        "by_status": [(value, label, counts[value]) for value, label in Asset.Status.choices if counts[value]],
        "upcoming": upcoming,
        "warning_count": len(plan_coverage(project=project, assets=assets)["warnings"]),
    }


# Dates written into text


_MONTHS = {
    "sv": ("januari februari mars april maj juni juli augusti september oktober november december").split(),
    "en": ("January February March April May June July August September October November December").split(),
}
_TEXT_FIELDS = ("subject", "preheader", "headline", "body", "button_label")


def _date_pattern(day: datetime.date) -> re.Pattern:
    """The ways Swedish and English texts write `day`: "13 januari", "13 jan.", "January 13", "13/1", "2027-01-13"."""
    names = []
    for months in _MONTHS.values():
        name = months[day.month - 1]
        names += [re.escape(name), re.escape(name[:3]) + r"\.?"]
    months = "|".join(names)
    return re.compile(
        rf"(?<!\d)(?:{day.day}\.?\s+(?:{months})(?![a-zåäö])|(?:{months})\s+{day.day}(?!\d)"
        rf"|{day.day}/{day.month}(?![\d/])|{day.isoformat()}(?!\d))",
        re.IGNORECASE,
    )


def texts_mentioning(*, project: ChangeProject, day: datetime.date) -> list[str]:
    """Where the project's story and its live assets write `day` out in words or figures (a moved
    go-live leaves such text behind: only merge fields such as {{ go_live }} follow by themselves)."""
    pattern = _date_pattern(day)
    found = []
    story = {
        _("the lede"): project.lede,
        _("why"): project.why,
        _("what changes"): project.what_changes,
        _("how it affects me"): project.how_it_affects_me,
    }
    found += [str(label) for label, text in story.items() if text and pattern.search(strip_tags(text))]
    assets = project.assets.exclude(status=Asset.Status.CANCELLED).only("title", *_TEXT_FIELDS).order_by("pk")
    for asset in assets:
        if any(pattern.search(strip_tags(getattr(asset, name) or "")) for name in _TEXT_FIELDS):
            found.append(f"“{asset.title}”")
    return found


# The audit trail


def _field_label(name: str) -> str:
    if name == "sessions":
        return _("sessions")
    try:
        return str(Asset._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # an audited field that no longer exists keeps its raw name
        return name


def _choice_labels() -> dict[str, dict[str, str]]:
    """Per choice field, every language's label → the stored value (the trail stored labels as written)."""
    fields = {"status": Asset.Status, "channel": Channel, "stage": Stage, "sender_kind": SenderKind}
    labels: dict[str, dict[str, str]] = {name: {} for name in fields}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for name, choices in fields.items():
                labels[name].update({str(label): value for value, label in choices.choices})
    return labels


def _as_text(name: str, value, labels: dict[str, dict[str, str]]) -> str:
    """A recorded value as the reader reads it: a choice in the reader's language, rich text as text."""
    value = "" if value is None else str(value)
    if name in labels and value in labels[name]:
        field = {"status": Asset.Status, "channel": Channel, "stage": Stage, "sender_kind": SenderKind}[name]
        return str(field(labels[name][value]).label)
    if name in RICH_TEXT_FIELDS or "<" in value:
        return " ".join(html.unescape(strip_tags(value)).split())
    return value


RICH_TEXT_FIELDS = ("body",)


def asset_history(*, asset: Asset) -> list[dict]:
    """The asset's audit trail, newest first, each change in the reader's language and as plain text."""
    labels = _choice_labels()
    rows = []
    for event in asset.events.select_related("actor"):
        recorded = dict(event.detail.get("fields") or {})
        if "status" in event.detail:
            recorded["status"] = event.detail["status"]
        changes = [
            {"field": _field_label(name), "old": _as_text(name, old, labels), "new": _as_text(name, new, labels)}
            for name, (old, new) in recorded.items()
        ]
        rows.append({"event": event, "changes": changes})
    return rows
