import datetime

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import ChangeProject, Membership
from campaigns.projects import services

pytestmark = pytest.mark.usefixtures("english")


HOSTILE_HTML = (
    "<p>Hej <strong>alla</strong></p>"
    "<script>alert('x')</script>"
    '<img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(1)">klicka</a>'
    '<a href="https://example.se" onclick="steal()">länk</a>'
    '<iframe src="https://evil.example"></iframe>'
    "<style>body{display:none}</style>"
    '<p style="position:fixed">text</p>'
)


def _create(owner, **extra) -> ChangeProject:
    fields = {"name": "Nytt intranät", "lede": "Vi byter intranät.", "go_live": datetime.date(2027, 5, 1)}
    fields.update(extra)
    return services.project_create(by=owner, **fields)


def test_it_makes_the_creator_the_owner(owner):
    project = _create(owner)
    project.refresh_from_db()
    assert project.created_by == owner
    membership = Membership.objects.get(project=project)
    assert membership.user == owner
    assert membership.role == Membership.Role.OWNER


def test_it_gives_each_project_a_unique_slug(owner):
    first, second, third = _create(owner), _create(owner), _create(owner)
    assert [first.slug, second.slug, third.slug] == ["nytt-intranat", "nytt-intranat-2", "nytt-intranat-3"]


def test_it_sanitises_rich_text_on_create(owner):
    project = _create(owner, why=HOSTILE_HTML, what_changes=HOSTILE_HTML, how_it_affects_me=HOSTILE_HTML)
    project.refresh_from_db()
    for html in (project.why, project.what_changes, project.how_it_affects_me):
        assert "<p>Hej <strong>alla</strong></p>" in html
        for bad in (
            "<script",
            "alert",
            "onerror",
            "onclick",
            "javascript:",
            "<iframe",
            "<style",
            "display:none",
            "style=",
        ):
            assert bad not in html
        assert 'href="https://example.se"' in html


def test_it_sanitises_rich_text_on_update(project, owner):
    services.project_update(project=project, by=owner, why=HOSTILE_HTML, name="Atlas")
    project.refresh_from_db()
    assert project.name == "Atlas"
    assert "<script" not in project.why and "onerror" not in project.why and "javascript:" not in project.why
    assert "<p>Hej <strong>alla</strong></p>" in project.why


def test_it_refuses_an_invalid_update(project, owner):
    with pytest.raises(ValidationError):
        services.project_update(project=project, by=owner, primary_color="red")
    project.refresh_from_db()
    assert project.primary_color == "#1f4e79"


def test_it_invites_an_existing_user_by_email(project, owner, outsider):
    membership = services.membership_invite(project=project, email=" OUTSIDER@example.se ", role="editor", by=owner)
    membership.refresh_from_db()
    assert membership.user == outsider
    assert membership.role == Membership.Role.EDITOR
    assert membership.invited_by == owner


def test_an_unknown_email_gets_an_account_without_a_password(project, owner):
    membership = services.membership_invite(project=project, email="ny@example.se", role="editor", by=owner)
    assert membership.user.email == "ny@example.se" and not membership.user.has_usable_password()
    assert project.memberships.count() == 4


def test_it_refuses_a_switched_off_account_and_writes_nothing(project, owner, make_user):
    leaver = make_user("slutat", is_active=False)
    with pytest.raises(ValidationError, match="switched off"):
        services.membership_invite(project=project, email=leaver.email, role="editor", by=owner)
    assert project.memberships.count() == 3


def test_it_refuses_a_duplicate_invite(project, owner, viewer):
    with pytest.raises(ValidationError, match="already"):
        services.membership_invite(project=project, email=viewer.email, role="owner", by=owner)
    assert project.memberships.get(user=viewer).role == Membership.Role.VIEWER


def test_it_changes_a_role(project, owner, viewer):
    membership = project.memberships.get(user=viewer)
    services.membership_change_role(membership=membership, role="editor", by=owner)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.EDITOR


def test_it_keeps_the_last_owner(project, owner):
    membership = project.memberships.get(user=owner)
    with pytest.raises(ValidationError, match="owner"):
        services.membership_change_role(membership=membership, role="viewer", by=owner)
    with pytest.raises(ValidationError, match="owner"):
        services.membership_remove(membership=membership, by=owner)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.OWNER


def test_it_lets_an_owner_step_down_when_another_owner_remains(project, owner, editor):
    services.membership_change_role(membership=project.memberships.get(user=editor), role="owner", by=owner)
    services.membership_remove(membership=project.memberships.get(user=owner), by=editor)
    assert not project.memberships.filter(user=owner).exists()
    assert list(project.memberships.filter(role="owner").values_list("user", flat=True)) == [editor.pk]


def test_it_deletes_a_project_and_its_team(project, owner):
    services.project_delete(project=project, by=owner)
    assert not ChangeProject.objects.filter(pk=project.pk).exists()
    assert not Membership.objects.filter(project_id=project.pk).exists()


def test_it_counts_days_to_go_live(project):
    project.refresh_from_db()
    assert project.days_to_go_live(today=datetime.date(2027, 2, 27)) == 2
    assert project.days_to_go_live(today=datetime.date(2027, 3, 1)) == 0
    assert project.days_to_go_live(today=datetime.date(2027, 3, 4)) == -3
