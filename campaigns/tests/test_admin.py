"""The Django admin is scoped to the user's projects, like the app."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.models import ChangeProject, Membership
from campaigns.projects import services

MODEL_PERMISSIONS = [
    "view_changeproject",
    "change_changeproject",
    "delete_changeproject",
    "view_membership",
    "change_membership",
    "view_projectimage",
]


def _staff(user):
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="campaigns", codename__in=MODEL_PERMISSIONS)
    )
    return user


@pytest.fixture
def other_project(make_user):
    return services.project_create(by=make_user("someone"), name="Någon annans projekt", lede="x", go_live="2027-01-01")


def _change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_staff_sees_only_their_projects(client, project, other_project, owner):
    client.force_login(_staff(owner))
    response = client.get(reverse("admin:campaigns_changeproject_changelist"))
    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [project.pk]
    response = client.get(reverse("admin:campaigns_membership_changelist"))
    assert {m.project_id for m in response.context["cl"].result_list} == {project.pk}


def test_staff_cannot_open_another_project(client, project, other_project, owner):
    client.force_login(_staff(owner))
    response = client.get(_change_url(other_project))
    # The admin redirects to its index with "does not exist" for rows outside the queryset.
    assert response.status_code in (302, 403, 404)
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index")
    response = client.post(_change_url(other_project), {"name": "Kapad"})
    assert response.status_code in (302, 403, 404)
    other_project.refresh_from_db()
    assert other_project.name == "Någon annans projekt"


def test_staff_owner_can_change_their_project(client, project, owner):
    client.force_login(_staff(owner))
    response = client.get(_change_url(project))
    assert response.status_code == 200
    assert response.context["has_change_permission"]


def test_staff_viewer_cannot_change(client, project, viewer):
    client.force_login(_staff(viewer))
    response = client.get(_change_url(project))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = client.post(_change_url(project), {"name": "Kapad"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name == "Nytt ekonomisystem"
    member = project.memberships.get(user=viewer)
    response = client.post(_change_url(member), {"role": "owner"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == Membership.Role.VIEWER


def test_staff_editor_cannot_manage_the_team_or_delete(client, project, editor):
    client.force_login(_staff(editor))
    member = project.memberships.get(user=editor)
    response = client.post(_change_url(member), {"role": "owner", "user": editor.pk, "project": project.pk})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == Membership.Role.EDITOR
    response = client.post(reverse("admin:campaigns_changeproject_delete", args=[project.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert ChangeProject.objects.filter(pk=project.pk).exists()


def test_superuser_sees_every_project(admin_client, project, other_project):
    response = admin_client.get(reverse("admin:campaigns_changeproject_changelist"))
    assert response.status_code == 200
    assert {p.pk for p in response.context["cl"].result_list} == {project.pk, other_project.pk}


def _registered_models():
    return sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)


@pytest.mark.parametrize("model", _registered_models())
def test_every_admin_changelist_loads_for_a_superuser(admin_client, project, model):
    app_label, model_name = model.split(".")
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"), {"q": "x"})
    assert response.status_code == 200


def test_staff_editor_cannot_add_a_teammate_in_the_admin(client, project, editor, outsider):
    _staff(editor)
    editor.user_permissions.add(Permission.objects.get(content_type__app_label="campaigns", codename="add_membership"))
    client.force_login(editor)
    response = client.post(
        reverse("admin:campaigns_membership_add"), {"project": project.pk, "user": outsider.pk, "role": "owner"}
    )
    assert response.status_code == 200
    assert "project" in response.context["adminform"].form.errors
    assert not project.memberships.filter(user=outsider).exists()


def test_staff_owner_can_add_a_teammate_in_the_admin(client, project, owner, outsider):
    _staff(owner)
    owner.user_permissions.add(Permission.objects.get(content_type__app_label="campaigns", codename="add_membership"))
    client.force_login(owner)
    response = client.post(
        reverse("admin:campaigns_membership_add"), {"project": project.pk, "user": outsider.pk, "role": "viewer"}
    )
    assert response.status_code == 302
    assert project.memberships.get(user=outsider).role == Membership.Role.VIEWER


def _team_inline(response):
    return next(f for f in response.context["inline_admin_formsets"] if f.opts.model is Membership)


def test_staff_editor_sees_the_team_inline_read_only(client, project, editor):
    _staff(editor).user_permissions.add(
        *Permission.objects.filter(codename__in=["add_membership", "delete_membership"])
    )
    client.force_login(editor)
    inline = _team_inline(client.get(_change_url(project)))
    assert not inline.has_change_permission
    assert not inline.has_add_permission
    assert not inline.has_delete_permission


def test_staff_owner_manages_the_team_inline(client, project, owner):
    _staff(owner).user_permissions.add(*Permission.objects.filter(codename__in=["add_membership", "delete_membership"]))
    client.force_login(owner)
    inline = _team_inline(client.get(_change_url(project)))
    assert inline.has_change_permission and inline.has_add_permission and inline.has_delete_permission


# The landing page, delivery and print rows: scoped per project like the rest, mostly read-only.

NEW_ADMIN_MODELS = [
    "landingtoken",
    "booking",
    "question",
    "pulseresponse",
    "landingcounter",
    "engagementcounter",
    "delivery",
    "emailsend",
    "printrender",
]
READ_ONLY = {
    "landingtoken",
    "pulseresponse",
    "landingcounter",
    "engagementcounter",
    "delivery",
    "emailsend",
    "printrender",
}


def _rows_of(project, n: int = 1, tag: str = "") -> dict[str, list]:
    """n rows of every landing, delivery and print model in `project`, which tracks individuals
    (rows about one person's doings show to staff only for such projects)."""
    import datetime

    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=ChangeProject.TrackingMode.INDIVIDUAL)

    from django.utils import timezone

    from audiences.models import Employee
    from campaigns.models import (
        Asset,
        Booking,
        Delivery,
        EmailSend,
        EngagementCounter,
        LandingCounter,
        LandingToken,
        MeetingSession,
        PrintRender,
        PulseResponse,
        Question,
    )

    rows: dict[str, list] = {m: [] for m in NEW_ADMIN_MODELS}
    starts = timezone.make_aware(datetime.datetime(2027, 2, 15, 9, 0))
    meeting = Asset.objects.create(
        project=project, channel="meeting", stage="knowledge", title="Träff", offset_days=-14
    )
    session = MeetingSession.objects.create(
        meeting=meeting, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1), capacity=100
    )
    for i in range(n):
        employee = Employee.objects.create(email=f"{project.slug}-{tag}{i}@example.se", first_name=f"P{i}")
        email = Asset.objects.create(
            project=project, channel="email", stage="awareness", title=f"Mejl {i}", offset_days=-7
        )
        poster = Asset.objects.create(
            project=project, channel="poster", stage="awareness", title=f"Affisch {i}", offset_days=-7
        )
        rows["landingtoken"].append(LandingToken.objects.create(project=project, employee=employee))
        rows["booking"].append(Booking.objects.create(session=session, employee=employee, email=employee.email))
        rows["question"].append(Question.objects.create(project=project, text=f"Fråga {i}?"))
        rows["pulseresponse"].append(PulseResponse.objects.create(project=project, employee=employee, awareness=4))
        rows["landingcounter"].append(
            LandingCounter.objects.create(project=project, kind="scan", source=poster, count=3)
        )
        rows["engagementcounter"].append(EngagementCounter.objects.create(asset=email, opens=2))
        rows["delivery"].append(
            Delivery.objects.create(asset=email, employee=employee, message_id=f"<{project.slug}{tag}{i}@x>")
        )
        rows["emailsend"].append(EmailSend.objects.create(asset=email, due_at=starts))
        rows["printrender"].append(PrintRender.objects.create(asset=poster, language="sv"))
    return rows


def _staff_viewing_everything(user):
    _staff(user)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="campaigns",
            codename__in=[f"{action}_{m}" for m in NEW_ADMIN_MODELS for action in ("view", "change", "delete", "add")],
        )
    )
    return user


# One person's pulse answers are for superusers only (see test_pulse_answers_are_for_superusers_only).
STAFF_MODELS = [m for m in NEW_ADMIN_MODELS if m != "pulseresponse"]


@pytest.mark.parametrize("model", STAFF_MODELS)
def test_staff_see_only_their_projects_rows(client, project, other_project, owner, model):
    mine, theirs = _rows_of(project)[model], _rows_of(other_project)[model]
    client.force_login(_staff_viewing_everything(owner))
    response = client.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert response.status_code == 200
    assert {obj.pk for obj in response.context["cl"].result_list} == {obj.pk for obj in mine}
    response = client.get(_change_url(theirs[0]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")  # "does not exist"
    assert client.get(_change_url(mine[0])).status_code == 200


@pytest.mark.parametrize("model", NEW_ADMIN_MODELS)
def test_the_project_filter_offers_only_their_projects(client, project, other_project, owner, model):
    _rows_of(project), _rows_of(other_project)
    client.force_login(_staff_viewing_everything(owner))
    response = client.get(reverse(f"admin:campaigns_{model}_changelist"), {"project": other_project.pk})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert other_project.name not in response.content.decode()


@pytest.mark.parametrize("model", sorted(READ_ONLY))
def test_read_only_rows_cannot_be_changed_added_or_deleted(client, project, owner, model):
    obj = _rows_of(project)[model][0]
    client.force_login(_staff_viewing_everything(owner))
    if model == "pulseresponse":  # only a superuser sees one at all; for them too it is read-only
        owner.is_superuser = True
        owner.save()
    response = client.get(_change_url(obj))
    assert response.status_code == 200 and not response.context["has_change_permission"]
    assert client.post(_change_url(obj), {}).status_code == 403
    assert client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:campaigns_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_secret_tokens_are_shown_nowhere(client, project, owner):
    rows = _rows_of(project)
    client.force_login(_staff_viewing_everything(owner))
    for model, attribute in (
        ("landingtoken", "token"),
        ("delivery", "token"),
        ("engagementcounter", "token"),
        ("booking", "confirm_token"),
        ("booking", "cancel_token"),
        ("printrender", "qr_token"),
    ):
        obj = rows[model][0]
        secret = getattr(obj, attribute)
        for url in (reverse(f"admin:campaigns_{model}_changelist"), _change_url(obj)):
            assert secret not in client.get(url).content.decode(), f"{model}.{attribute} on {url}"


def test_an_editor_fixes_a_questions_wording_but_not_its_project(client, project, other_project, editor):
    question = _rows_of(project)["question"][0]
    client.force_login(_staff_viewing_everything(editor))
    response = client.post(
        _change_url(question),
        {
            "text": "Får vi stöd på plats?",
            "name": "",
            "answer": "Ja.",
            "is_published": "on",
            "project": other_project.pk,
        },
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.text, question.project_id) == ("Får vi stöd på plats?", project.pk)


def test_a_viewer_cannot_change_a_question(client, project, viewer):
    question = _rows_of(project)["question"][0]
    client.force_login(_staff_viewing_everything(viewer))
    assert client.post(_change_url(question), {"text": "Kapad", "answer": ""}).status_code == 403
    question.refresh_from_db()
    assert question.text == "Fråga 0?"


@pytest.mark.parametrize("model", NEW_ADMIN_MODELS)
def test_changelist_queries_do_not_grow_with_the_rows(client, project, owner, model, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _rows_of(project, 2, tag="a")
    client.force_login(_staff_viewing_everything(owner))
    url = reverse(f"admin:campaigns_{model}_changelist")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _rows_of(project, 12, tag="b")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


# The plan in the admin: assets are read (with their audit trail), plan templates are edited.


def test_assets_are_scoped_and_read_only_with_their_audit_trail(client, project, other_project, owner):
    from campaigns.plan import services as plan

    mine = plan.asset_create(
        project=project, by=owner, channel="email", stage="awareness", title="Vårt mejl", offset_days=-7
    )
    plan.asset_set_status(asset=mine, status="ready", by=owner)
    theirs = plan.asset_create(
        project=other_project,
        by=other_project.created_by,
        channel="email",
        stage="awareness",
        title="Deras mejl",
        offset_days=-7,
    )
    client.force_login(_staff(owner))
    owner.user_permissions.add(Permission.objects.get(content_type__app_label="campaigns", codename="view_asset"))

    listing = client.get(reverse("admin:campaigns_asset_changelist"))
    assert [a.pk for a in listing.context["cl"].result_list] == [mine.pk]
    page = client.get(_change_url(mine))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert "status" in page.content.decode() and owner.username in page.content.decode()  # the trail, with who
    assert client.post(_change_url(mine), {"title": "Ändrat"}).status_code == 403
    assert client.get(_change_url(theirs)).status_code == 302  # "does not exist"
    mine.refresh_from_db()
    assert mine.title == "Vårt mejl"


def test_an_admin_edits_a_plan_template(admin_client):
    from campaigns.models import PlanTemplate

    add = admin_client.post(
        reverse("admin:campaigns_plantemplate_add"),
        {
            "name": "Kort lansering",
            "slug": "kort-lansering",
            "language": "sv",
            "family": "",
            "description": "",
            "is_active": "on",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-order": "1",
            "items-0-channel": "email",
            "items-0-stage": "awareness",
            "items-0-title": "Varför vi byter",
            "items-0-offset_days": "-14",
            "items-0-sender_kind": "sponsor",
            "items-0-subject": "Därför byter vi",
            "items-0-body": "",
        },
    )
    assert add.status_code == 302, add.context["adminform"].form.errors if add.context else add
    template = PlanTemplate.objects.get(slug="kort-lansering")
    assert [(i.title, i.offset_days, i.sender_kind) for i in template.items.all()] == [
        ("Varför vi byter", -14, "sponsor")
    ]
    listing = admin_client.get(reverse("admin:campaigns_plantemplate_changelist"))
    assert "Kort lansering" in listing.content.decode()


def test_staff_without_template_permissions_cannot_edit_templates(client, owner):
    client.force_login(_staff(owner))
    assert client.get(reverse("admin:campaigns_plantemplate_changelist")).status_code == 403


# People in the admin: shown only as the project's tracking mode allows.


def test_pulse_answers_are_for_superusers_only(client, project, owner):
    (answer,) = _rows_of(project)["pulseresponse"]
    client.force_login(_staff_viewing_everything(owner))
    response = client.get(reverse("admin:campaigns_pulseresponse_changelist"))
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []
    assert client.get(_change_url(answer)).status_code == 302  # "does not exist"
    owner.is_superuser = True
    owner.save()
    page = client.get(_change_url(answer)).content.decode()
    assert "employee" not in response.context["cl"].list_display and 'name="employee"' not in page


@pytest.mark.parametrize("mode", ["anonymous", "aggregate"])
@pytest.mark.parametrize("model", ["landingtoken", "booking", "delivery"])
def test_who_did_what_is_hidden_unless_the_project_tracks_individuals(client, project, owner, model, mode):
    (row,) = _rows_of(project)[model]
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=mode)
    client.force_login(_staff_viewing_everything(owner))
    response = client.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []
    assert client.get(_change_url(row)).status_code == 302
    owner.is_superuser = True  # a superuser fixes data, whatever the mode
    owner.save()
    assert client.get(_change_url(row)).status_code == 200


def test_filters_and_image_fields_offer_only_the_users_projects(client, project, other_project, owner):
    from audiences.models import Audience
    from campaigns.tests.asset_helpers import make_image

    Audience.objects.create(project=other_project, name="Deras målgrupp")
    theirs = make_image(other_project, other_project.memberships.get().user)
    _staff_viewing_everything(owner).user_permissions.add(Permission.objects.get(codename="view_audience"))
    client.force_login(owner)
    for url in (reverse("admin:campaigns_membership_changelist"), reverse("admin:audiences_audience_changelist")):
        page = client.get(url).content.decode()
        assert other_project.name not in page and project.name in page, url
    change = reverse("admin:campaigns_changeproject_change", args=[project.pk])
    form = client.get(change).context["adminform"].form
    assert theirs not in form.fields["logo"].queryset and theirs not in form.fields["hero_image"].queryset


def test_the_superusers_asset_change_page_opens(client, project, owner):
    from campaigns.tests.asset_helpers import make_meeting

    meeting = make_meeting(project, owner)
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    assert client.get(_change_url(meeting)).status_code == 200
