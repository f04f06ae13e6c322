"""The Django admin is scoped to the user's projects, like the app."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns import services
from campaigns.models import ChangeProject, Membership

MODEL_PERMISSIONS = [
    "view_changeproject", "change_changeproject", "delete_changeproject",
    "view_membership", "change_membership", "view_projectimage",
]


def _staff(user):
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns", codename__in=MODEL_PERMISSIONS))
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
    _staff(editor).user_permissions.add(*Permission.objects.filter(codename__in=["add_membership", "delete_membership"]))
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
