"""The team gets told: an invitation with the way in, an asset waiting for approval, a new question;
and an employee who asked for it gets the answer. Real SMTP (aiosmtpd), each switch honoured."""

import pytest
from django.urls import reverse

from audiences.models import Employee
from campaigns.landing import services as landing
from campaigns.models import Asset, Membership
from campaigns.plan import services as plan
from campaigns.projects import notifications, services
from campaigns.tests.asset_helpers import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """What the services queue for the notification task, by kind (the worker's part is tested below)."""
    calls = []
    monkeypatch.setattr(
        "campaigns.projects.tasks.notify.apply_async", lambda args, kwargs=None, **options: calls.append(tuple(args))
    )
    return calls


def _bodies(inbox) -> dict[str, str]:
    return {m["To"]: m.get_body(("plain",)).get_content() for m in inbox.messages()}


# Invitations


def test_a_colleague_without_an_account_is_invited_with_a_link_to_set_a_password(
    client, project, owner, smtp_inbox, queued, django_capture_on_commit_callbacks, english
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("campaigns:team", args=[project.slug]), {"email": "Ny.Kollega@example.se", "role": "editor"}
        )

    assert response.status_code == 302
    membership = Membership.objects.get(user__email="Ny.Kollega@example.se")
    assert membership.role == "editor" and not membership.user.has_usable_password()
    (kind, membership_id, by_id) = queued[-1]
    assert (kind, membership_id, by_id) == ("invite", membership.pk, owner.pk)

    notifications.notify(kind="invite", object_id=membership.pk, by_id=owner.pk)
    body = _bodies(smtp_inbox)["Ny.Kollega@example.se"]
    assert project.name in body and "/accounts/reset/" in body
    link = body[body.index("/accounts/reset/") :].split()[0]
    response = client.get(link, follow=True)
    assert response.status_code == 200 and "new_password1" in response.content.decode()  # the link works


def test_an_existing_user_is_added_and_told_where_to_log_in(project, owner, make_user, smtp_inbox):
    colleague = make_user("kollega")
    membership = services.membership_invite(project=project, email=colleague.email, role="viewer", by=owner)
    notifications.notify(kind="invite", object_id=membership.pk, by_id=owner.pk)
    body = _bodies(smtp_inbox)[colleague.email]
    assert "/accounts/login/" in body and "/accounts/reset/" not in body


# The team's emails, and their switches


def test_owners_hear_of_an_asset_waiting_for_approval_unless_they_switched_it_off(
    project, owner, editor, make_user, smtp_inbox, queued, django_capture_on_commit_callbacks
):
    second = make_user("agare2")
    Membership.objects.create(project=project, user=second, role="owner", notify_approvals=False)
    asset = make_email(project, editor)
    with django_capture_on_commit_callbacks(execute=True):
        plan.asset_set_status(asset=asset, status=Asset.Status.READY, by=editor)
    assert ("approval", asset.pk, editor.pk) in queued

    assert notifications.notify(kind="approval", object_id=asset.pk, by_id=editor.pk) == 1
    bodies = _bodies(smtp_inbox)
    assert list(bodies) == [owner.email]
    assert asset.get_absolute_url() in bodies[owner.email]
    (message,) = smtp_inbox.messages()
    assert message["Auto-Submitted"] == "auto-generated"


def test_an_approved_asset_sends_nothing_when_the_worker_comes_late(project, owner, editor, smtp_inbox):
    asset = make_email(project, editor)
    plan.asset_set_status(asset=asset, status=Asset.Status.READY, by=editor)
    plan.asset_set_status(asset=asset, status=Asset.Status.APPROVED, by=owner)
    assert notifications.notify(kind="approval", object_id=asset.pk, by_id=editor.pk) == 0
    assert smtp_inbox.messages() == []


def test_the_team_hears_of_a_new_question_and_each_member_sets_their_own_switch(
    client, project, owner, editor, viewer, smtp_inbox, queued, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    client.post(reverse("campaigns:member_notifications", args=[project.slug]), {"approvals": "on"})  # questions off
    with django_capture_on_commit_callbacks(execute=True):
        question = landing.question_ask(project=project, text="<b>Hur</b> loggar jag in?")
    assert ("question", question.pk, None) in queued

    notifications.notify(kind="question", object_id=question.pk)
    bodies = _bodies(smtp_inbox)
    assert list(bodies) == [owner.email]  # the editor said no; viewers do not answer
    assert "<b>Hur</b> loggar jag in?" in bodies[owner.email]  # plain text, as written


# Answers by email


def test_an_employee_who_asked_for_it_gets_the_answer_in_their_language(
    client, project, owner, smtp_inbox, queued, django_capture_on_commit_callbacks
):
    Employee.objects.create(email="anna@example.se", first_name="Anna", language="en")
    client.post(f"/l/{project.slug}/ask/", {"text": "Hur loggar jag in?", "email": "ANNA@example.se"})
    client.post(f"/l/{project.slug}/ask/", {"text": "Och jag?", "email": "nobody@elsewhere.example"})
    asked, stranger = project.questions.order_by("pk")
    assert asked.answer_to == "anna@example.se" and stranger.answer_to == ""  # only directory addresses

    with django_capture_on_commit_callbacks(execute=True):
        landing.question_answer(
            question=asked, answer="<p>Med ditt <strong>vanliga</strong> konto.</p>", publish=True, by=owner
        )
    assert ("answer", asked.pk, owner.pk) in queued

    notifications.notify(kind="answer", object_id=asked.pk, by_id=owner.pk)
    (message,) = smtp_inbox.messages()
    body = message.get_body(("plain",)).get_content()
    assert message["To"] == "anna@example.se" and message["Subject"].startswith("Your question about")
    assert "Hur loggar jag in?" in body and "Med ditt vanliga konto." in body and "<strong>" not in body


def test_the_team_never_sees_where_an_answer_is_emailed(client, project, owner):
    Employee.objects.create(email="anna@example.se", first_name="Anna")
    link = landing.landing_token_for(project=project, employee=Employee.objects.get())
    client.post(f"/p/{link.token}/ask/", {"text": "Anonymt?", "email_answer": "on"})
    question = project.questions.get()
    assert question.answer_to == "anna@example.se" and question.employee is None  # asked anonymously
    client.force_login(owner)
    assert "anna@example.se" not in client.get(reverse("campaigns:inbox", args=[project.slug])).content.decode()
