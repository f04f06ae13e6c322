import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ChangeProject, Membership
from campaigns.projects import services


def _form_data(**changes) -> dict:
    data = {
        "name": "Nytt intranät",
        "lede": "Den 1 maj byter vi intranät.",
        "why": "<p>Det gamla är <strong>långsamt</strong>.</p><script>alert(1)</script>",
        "what_changes": '<p><a href="javascript:alert(1)">klick</a></p><iframe src="https://x"></iframe>',
        "how_it_affects_me": '<p>Mindre letande.</p><img src=x onerror="alert(1)"><style>p{}</style>',
        "sponsor_name": "Karin Lind",
        "sponsor_title": "CFO",
        "go_live": "2027-05-01",
        "status": "planning",
        "tracking_mode": "anonymous",
        "primary_color": "#13294b",
        "accent_color": "#b5451b",
        "hero_alt": "",
    }
    data.update(changes)
    return data


def test_it_creates_a_project_through_the_form(client, owner):
    client.force_login(owner)
    response = client.post(reverse("campaigns:project_create"), _form_data())
    project = ChangeProject.objects.get()
    assert response.status_code == 302
    assert response["Location"] == project.get_absolute_url()
    assert project.slug == "nytt-intranat"
    assert project.go_live == datetime.date(2027, 5, 1)
    assert project.memberships.get().user == owner
    assert project.memberships.get().role == Membership.Role.OWNER
    stored = project.why + project.what_changes + project.how_it_affects_me
    for bad in ("<script", "javascript:", "<iframe", "onerror", "<style", "alert"):
        assert bad not in stored
    assert "<strong>långsamt</strong>" in project.why


def test_it_shows_the_form_to_a_user(client, owner):
    client.force_login(owner)
    response = client.get(reverse("campaigns:project_create"))
    assert response.status_code == 200
    assert b'name="hero_upload"' in response.content


def test_it_sanitises_rich_text_again_when_rendering(client, project, viewer):
    # A row written around the services (admin, shell, an old migration) is still rendered safely.
    ChangeProject.objects.filter(pk=project.pk).update(
        why='<p>Hej</p><script>alert("x")</script><b onclick="x()">b</b>'
    )
    client.force_login(viewer)
    response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    assert b"<p>Hej</p>" in response.content
    assert b'alert("x")' not in response.content
    assert b"onclick" not in response.content


def test_a_light_brand_colour_is_taken_and_text_on_it_turns_dark(client, project, editor):
    """A light brand (yellow, pastel) is common; the text on it is chosen to read, not the colour refused."""
    client.force_login(editor)
    response = client.post(
        reverse("campaigns:project_edit", args=[project.slug]),
        _form_data(primary_color="#ffff00", accent_color="#ffd0b0"),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.primary_color, project.accent_color) == ("#ffff00", "#ffd0b0")
    css = client.get(reverse("campaigns:brand_css", args=[project.slug])).content.decode()
    assert "--brand-on-primary: #16181d" in css and "--brand-primary-text: #1d1d1d" in css
    landing_css = client.get(f"/l/{project.slug}/brand.css").content.decode()
    assert "#16181d" in landing_css or "#111111" in landing_css


def test_a_dark_brand_colour_keeps_white_text(client, project, editor):
    client.force_login(editor)
    client.post(reverse("campaigns:project_edit", args=[project.slug]), _form_data(primary_color="#13294b"))
    css = client.get(reverse("campaigns:brand_css", args=[project.slug])).content.decode()
    assert "--brand-on-primary: #ffffff" in css and "--brand-primary-text: #13294b" in css


def test_an_upload_is_kept_when_the_form_comes_back_with_an_error(client, project, editor, english):
    from campaigns.tests.asset_helpers import png_upload

    client.force_login(editor)
    url = reverse("campaigns:project_edit", args=[project.slug])
    response = client.post(url, _form_data(name="", logo_upload=png_upload()))  # the name is missing

    assert response.status_code == 200 and 'id="logo-kept"' in response.content.decode()
    kept = response.context["form"].data["logo_kept"]
    project.refresh_from_db()
    assert project.logo is None  # nothing saved yet

    response = client.post(url, _form_data(logo_kept=kept))  # no new file chosen

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.logo is not None and project.logo.web


def test_a_forged_kept_upload_is_ignored(client, project, editor):
    from django.core import signing

    client.force_login(editor)
    url = reverse("campaigns:project_edit", args=[project.slug])
    for forged in ("x", signing.dumps({"name": "../settings.py", "filename": "a.png"}, salt="launchpad.kept-upload")):
        response = client.post(url, _form_data(logo_kept=forged))
        assert response.status_code == 302
        project.refresh_from_db()
        assert project.logo is None


@pytest.mark.parametrize(
    "forged", ["red", "#12345", "#12345g", "#1f4e79; } body { display:none", "", "#" + "0" * 5000, "\u0661" * 7]
)
def test_a_forged_colour_is_a_form_error_not_a_server_error(client, project, editor, forged, english):
    client.force_login(editor)
    response = client.post(
        reverse("campaigns:project_edit", args=[project.slug]), _form_data(primary_color=forged, accent_color=forged)
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"primary_color", "accent_color"}
    project.refresh_from_db()
    assert (project.primary_color, project.name) == ("#1f4e79", "Nytt ekonomisystem")


def test_it_accepts_a_dark_brand_colour(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("campaigns:project_edit", args=[project.slug]),
        _form_data(primary_color="#13294B", accent_color="#7a2e10"),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.primary_color == "#13294b"
    assert project.accent_color == "#7a2e10"


def test_it_serves_brand_colours_as_css(client, project, viewer):
    client.force_login(viewer)
    response = client.get(reverse("campaigns:brand_css", args=[project.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"#1f4e79" in response.content


def test_it_edits_a_project(client, project, editor):
    client.force_login(editor)
    response = client.post(
        reverse("campaigns:project_edit", args=[project.slug]),
        _form_data(name="Atlas", lede="Ny ingress.", status="launching", go_live="2027-06-01"),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.lede, project.status) == ("Atlas", "Ny ingress.", "launching")
    assert project.go_live == datetime.date(2027, 6, 1)
    assert project.slug == "nytt-ekonomisystem"  # links already sent keep working


def test_it_invites_a_teammate_by_email(client, project, owner, outsider):
    client.force_login(owner)
    response = client.post(reverse("campaigns:team", args=[project.slug]), {"email": outsider.email, "role": "editor"})
    assert response.status_code == 302
    membership = project.memberships.get(user=outsider)
    assert membership.role == Membership.Role.EDITOR
    assert membership.invited_by == owner


def test_it_shows_an_error_for_a_switched_off_account(client, project, owner, make_user):
    leaver = make_user("slutat", is_active=False)
    client.force_login(owner)
    response = client.post(reverse("campaigns:team", args=[project.slug]), {"email": leaver.email, "role": "editor"})
    assert response.status_code == 200
    assert leaver.email in response.context["form"].errors["email"][0]
    assert project.memberships.count() == 3


def test_it_refuses_a_duplicate_teammate(client, project, owner, viewer):
    client.force_login(owner)
    response = client.post(reverse("campaigns:team", args=[project.slug]), {"email": viewer.email, "role": "owner"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert project.memberships.get(user=viewer).role == Membership.Role.VIEWER
    assert project.memberships.count() == 3


def test_it_changes_a_role(client, project, owner, viewer):
    member = project.memberships.get(user=viewer)
    client.force_login(owner)
    response = client.post(reverse("campaigns:member_role", args=[project.slug, member.pk]), {"role": "editor"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Membership.Role.EDITOR


def test_it_keeps_the_last_owner_when_demoting(client, project, owner):
    me = project.memberships.get(user=owner)
    client.force_login(owner)
    response = client.post(
        reverse("campaigns:member_role", args=[project.slug, me.pk]), {"role": "viewer"}, follow=True
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    me.refresh_from_db()
    assert me.role == Membership.Role.OWNER


def test_it_keeps_the_last_owner_when_removing(client, project, owner):
    me = project.memberships.get(user=owner)
    client.force_login(owner)
    response = client.post(reverse("campaigns:member_remove", args=[project.slug, me.pk]))
    assert response.status_code == 302
    assert Membership.objects.filter(pk=me.pk, role=Membership.Role.OWNER).exists()


def test_it_asks_before_deleting(client, project, owner):
    client.force_login(owner)
    response = client.get(reverse("campaigns:project_delete", args=[project.slug]))
    assert response.status_code == 200
    assert ChangeProject.objects.filter(pk=project.pk).exists()


def test_it_deletes_a_project_for_its_owner(client, project, owner):
    client.force_login(owner)
    response = client.post(reverse("campaigns:project_delete", args=[project.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:project_list")
    assert not ChangeProject.objects.filter(pk=project.pk).exists()


def test_it_lists_the_users_projects_with_status_and_days_to_go_live(client, project, owner, outsider):
    go_live = timezone.localdate() + datetime.timedelta(days=12)
    ChangeProject.objects.filter(pk=project.pk).update(go_live=go_live, status="launching")
    services.project_create(by=outsider, name="Hemligt projekt", lede="Syns inte.", go_live=go_live)
    client.force_login(owner)
    response = client.get(reverse("campaigns:project_list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Nytt ekonomisystem" in content
    assert "Hemligt projekt" not in content
    assert "status-launching" in content
    assert "12" in content
    assert [m.project_id for m in response.context["memberships"]] == [project.pk]


def test_it_shows_an_empty_list_to_a_newcomer(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("campaigns:project_list"))
    assert response.status_code == 200
    assert reverse("campaigns:project_create") in response.content.decode()
    assert not response.context["memberships"]


def _projects_for(user, count: int) -> None:
    for i in range(count):
        services.project_create(by=user, name=f"Projekt {i}", lede="Ingress.", go_live=datetime.date(2027, 1, 1 + i))


@pytest.mark.parametrize("count", [1, 10])
def test_the_project_list_costs_the_same_queries_for_1_and_10_projects(client, owner, django_assert_num_queries, count):
    _projects_for(owner, count)
    client.force_login(owner)
    # session, user, the user's and the groups' permissions (for the menu), memberships with their projects,
    # and whether the user is a change manager (the link to the organisation's change load)
    with django_assert_num_queries(6):
        response = client.get(reverse("campaigns:project_list"))
    assert response.status_code == 200
    assert len(response.context["memberships"]) == count


# Getting started


def test_a_new_project_shows_the_first_steps_and_ticks_them_from_its_state(client, owner, english):
    from audiences.models import Audience
    from campaigns.projects import selectors

    project = services.project_create(by=owner, name="Tempo", lede="Vi byter tidrapport.", go_live="2027-09-01")
    client.force_login(owner)
    page = client.get(project.get_absolute_url()).content.decode()
    assert 'id="getting-started-title"' in page and "Make the audiences from the directory" in page

    Audience.objects.create(project=project, name="Alla")
    client.get(f"/projects/{project.slug}/landing-preview/")
    project.refresh_from_db()
    done = {step.key for step in selectors.getting_started(project=project) if step.done}
    assert done == {"audiences", "landing"}


def test_the_first_steps_go_away_when_all_are_done(client, owner, monkeypatch):
    from campaigns.projects import selectors

    project = services.project_create(by=owner, name="Klart", lede="Allt klart.", go_live="2027-09-01")
    monkeypatch.setattr(
        selectors,
        "getting_started",
        lambda project: [selectors.Step(key, "x", True, "/") for key in ("story", "brand", "plan")],
    )
    client.force_login(owner)
    assert 'id="getting-started-title"' not in client.get(project.get_absolute_url()).content.decode()


def test_the_first_steps_cost_one_query(owner, django_assert_num_queries):
    from campaigns.projects import selectors

    project = services.project_create(by=owner, name="Fråga", lede="En fråga.", go_live="2027-09-01")
    with django_assert_num_queries(1):
        steps = selectors.getting_started(project=project)
    assert [step.done for step in steps] == [False] * 7
