"""The emails the team and employees get about each other's doings: an asset waiting for an
owner's approval, a new question for the team, an answer for the employee who asked for it.

Services queue them by name after commit (`campaigns.tasks.notify` with the kind and the object's
id, through `lib.tasks`); the worker sends them, each to the people whose switch for that kind is on. Plain text,
in the recipient's language, marked as automatic so out-of-office replies stay away.
"""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy

from audiences.models import Employee
from campaigns.models import Asset, Membership, Question
from lib.richtext import html_to_text

logger = logging.getLogger(__name__)

APPROVAL, QUESTION, ANSWER, INVITE = "approval", "question", "answer", "invite"
# Automatic mail: no out-of-office replies, no auto-forward loops (RFC 3834; Exchange's own header).
AUTOMATIC = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send(*, to: str, language: str, subject, template: str, context: dict) -> None:
    """One plain-text email in `language`: its subject (lazy), body and all."""
    with translation.override(language):
        message = EmailMessage(
            subject=str(subject) % context.get("subject_values", {}),
            body=render_to_string(template, context),
            to=[to],
            headers=AUTOMATIC,
        )
    message.send()


def _team(asset_or_project_id: int, *, roles, switch: str, excluding: int | None):
    return (
        Membership.objects.filter(project_id=asset_or_project_id, role__in=roles, **{switch: True})
        .exclude(user_id=excluding)
        .exclude(user__email="")
        .filter(user__is_active=True)
        .select_related("user", "project")
    )


def send_approval_requested(asset_id: int, by_id: int | None) -> int:
    """To the project's owners: an asset waits for their approval."""
    asset = Asset.objects.select_related("project").filter(pk=asset_id, status=Asset.Status.READY).first()
    if asset is None:  # approved, or sent back, before the worker came to it
        return 0
    owners = _team(asset.project_id, roles=[Membership.Role.OWNER], switch="notify_approvals", excluding=by_id)
    for membership in owners:
        _send(
            to=membership.user.email,
            language=settings.LANGUAGE_CODE,
            subject=gettext_lazy("Waiting for your approval: %(title)s"),
            template="emails/notify_approval.txt",
            context={
                "subject_values": {"title": asset.title},
                "asset": asset,
                "project": asset.project,
                "url": _absolute(asset.get_absolute_url()),
                "settings_url": _absolute(reverse("campaigns:team", args=[asset.project.slug])),
            },
        )
    return len(owners)


def send_question_asked(question_id: int, by_id: int | None) -> int:
    """To the project's owners and editors: an employee asked a question."""
    question = Question.objects.select_related("project").filter(pk=question_id).first()
    if question is None:
        return 0
    roles = [Membership.Role.OWNER, Membership.Role.EDITOR]
    team = _team(question.project_id, roles=roles, switch="notify_questions", excluding=by_id)
    for membership in team:
        _send(
            to=membership.user.email,
            language=settings.LANGUAGE_CODE,
            subject=gettext_lazy("A new question in %(project)s"),
            template="emails/notify_question.txt",
            context={
                "subject_values": {"project": question.project.name},
                "question": question,
                "project": question.project,
                "url": _absolute(reverse("campaigns:inbox", args=[question.project.slug])),
                "settings_url": _absolute(reverse("campaigns:team", args=[question.project.slug])),
            },
        )
    return len(team)


def send_question_answered(question_id: int, by_id: int | None) -> int:
    """To the employee who asked for it: the answer to their question."""
    question = Question.objects.select_related("project").filter(pk=question_id).first()
    if question is None or not question.answer_to or not question.answer:
        return 0
    asker = Employee.objects.filter(email__iexact=question.answer_to).only("language").first()
    language = asker.language if asker else settings.LANGUAGE_CODE
    _send(
        to=question.answer_to,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
        subject=gettext_lazy("Your question about %(project)s is answered"),
        template="emails/notify_answer.txt",
        context={
            "subject_values": {"project": question.project.name},
            "question": question,
            "answer_text": html_to_text(question.answer),
            "project": question.project,
            "url": _absolute(reverse("landing:general", args=[question.project.slug])),
        },
    )
    return 1


def send_invitation(membership_id: int, by_id: int | None) -> int:
    """To a new team member: the project, their role, and the way in (a password to set, or single sign-on)."""
    membership = Membership.objects.select_related("user", "project", "invited_by").filter(pk=membership_id).first()
    if membership is None or not membership.user.email:
        return 0
    user = membership.user
    # With an account already, or single sign-on only, the way in is the login page; otherwise
    # Django's own password-reset link (one use, expires after PASSWORD_RESET_TIMEOUT).
    sets_password = not user.has_usable_password() and getattr(settings, "LOCAL_LOGIN", True)
    if sets_password:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        way_in = _absolute(reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)]))
    else:
        way_in = _absolute(reverse("login"))
    inviter = membership.invited_by
    _send(
        to=user.email,
        language=settings.LANGUAGE_CODE,
        subject=gettext_lazy("You are invited to %(project)s in Launchpad"),
        template="emails/notify_invite.txt",
        context={
            "subject_values": {"project": membership.project.name},
            "membership": membership,
            "project": membership.project,
            "inviter": (inviter.get_full_name() or inviter.email or inviter.username) if inviter else "",
            "way_in": way_in,
            "sets_password": sets_password,
            "project_url": _absolute(membership.project.get_absolute_url()),
        },
    )
    return 1


SENDERS = {
    APPROVAL: send_approval_requested,
    QUESTION: send_question_asked,
    ANSWER: send_question_answered,
    INVITE: send_invitation,
}


def notify(*, kind: str, object_id: int, by_id: int | None = None) -> int:
    """Send the `kind` email about one object; how many went out. Safe to run twice (it resends)."""
    if kind not in SENDERS:
        raise ValueError(kind)
    sent = SENDERS[kind](object_id, by_id)
    logger.info("notification %s about %s: %s sent", kind, object_id, sent)
    return sent
