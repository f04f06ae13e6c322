"""The manager cascade's writes: the talks of a briefing send, and a manager's "team talk held"."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audiences.models import Employee
from campaigns.delivery.emails import content_language_of
from campaigns.landing.services import question_ask
from campaigns.models import Asset, Delivery, TeamTalk

from .selectors import team_members

logger = logging.getLogger(__name__)

MAX_QUESTIONS = 20


def team_talks_create(*, asset: Asset) -> int:
    """One TeamTalk per manager the briefing goes to (the asset's deliveries), with the team's size.

    Three queries whatever the number of managers; a second call adds nobody twice.
    """
    manager_ids = list(
        Delivery.objects.filter(asset=asset, employee__isnull=False).values_list("employee_id", flat=True)
    )
    sizes = dict(
        Employee.objects.filter(team_members(manager_ids=manager_ids))
        .values_list("manager_employee_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    TeamTalk.objects.bulk_create(
        [TeamTalk(asset=asset, manager_id=m, team_size=sizes.get(m, 0)) for m in manager_ids],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return len(manager_ids)


def team_name(manager: Employee) -> str:
    """How the team is named where its questions arrive: by the team, never by a person in it."""
    place = ", ".join(part for part in (manager.department, manager.site) if part)
    return (_("A team talk (%(place)s)") % {"place": place}) if place else _("A team talk")


@transaction.atomic
def team_talk_confirm(*, talk: TeamTalk, held_on: datetime.date, attendees: int, questions: list[str]) -> TeamTalk:
    """Record that a manager held the team talk: when, how many came; the questions go to the project's inbox.

    The questions are attributed to the team (no name, no person, no reply address). Confirming again
    corrects the date and the count and adds the new questions.
    """
    talk = TeamTalk.objects.select_for_update(of=("self",)).select_related("asset__project", "manager").get(pk=talk.pk)
    now = timezone.now()
    talk.held_on, talk.attendees = held_on, attendees
    talk.confirmed_at = talk.confirmed_at or now
    talk.save(update_fields=["held_on", "attendees", "confirmed_at"])
    # Stored once for the project team, so in the project's primary language whatever the manager reads.
    with translation.override(talk.asset.project.language):
        name = team_name(talk.manager)
    for text in questions[:MAX_QUESTIONS]:
        question_ask(project=talk.asset.project, text=text, name=name)
    logger.info("team talk %s confirmed (%s questions)", talk.pk, len(questions))
    return talk


def team_talks_remind_due(*, now: datetime.datetime | None = None) -> int:
    """One reminder to each briefed manager who has not confirmed their talk by its date (beat, hourly).

    Each talk is claimed by a conditional UPDATE of `reminded_at`, so two workers never remind twice;
    a manager who still does not confirm appears on the change manager's late list (selectors.late_talks).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = (
        TeamTalk.objects.filter(
            confirmed_at__isnull=True,
            reminded_at__isnull=True,
            manager__is_active=True,
            manager__erased_at__isnull=True,
            asset__status__in=(Asset.Status.SCHEDULED, Asset.Status.DONE),
        )
        .select_related("asset__project", "manager")
        .order_by("pk")
    )
    sent = 0
    for talk in candidates.iterator(chunk_size=500):
        due = talk.asset.talk_due_on()
        if due is None or due >= today:
            continue
        claimed = TeamTalk.objects.filter(pk=talk.pk, reminded_at__isnull=True, confirmed_at__isnull=True).update(
            reminded_at=now
        )
        if claimed != 1:
            continue
        _send_reminder(talk, due)
        sent += 1
    if sent:
        logger.info("%s team talk reminders sent", sent)
    return sent


def _send_reminder(talk: TeamTalk, due: datetime.date) -> None:
    manager, project = talk.manager, talk.asset.project
    # The language of the manager's briefing: theirs where the talk has a version in it, else the primary.
    language = content_language_of(project, manager, talk.asset)
    with translation.override(language):
        context = {
            "manager": manager,
            "project": project.in_language(language),
            "asset": talk.asset.in_language(language),
            "due": date_format(due, "j F"),
            "url": f"{settings.SITE_URL}/tt/{talk.token}/",
        }
        message = EmailMessage(
            subject=_("Reminder: your team talk about %(project)s") % {"project": project.name},
            body=render_to_string("emails/team_talk_reminder.txt", context),
            to=[manager.email],
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
    message.send()
