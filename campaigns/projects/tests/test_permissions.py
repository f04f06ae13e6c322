"""Every project-scoped URL, walked as anonymous, outsider, viewer, editor and owner.

The URL patterns are discovered from the resolver, so a new project-scoped page is covered
the moment it is added. A pattern whose arguments the walker cannot fill fails until it is
given a filler below (or, with a reason, an entry in NOT_WALKED).
"""

from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from campaigns.models import ChangeProject, Membership

NAMESPACES = ("campaigns", "audiences")

# "namespace:name" -> why the walker does not visit it. Keep this empty if you can.
NOT_WALKED: dict[str, str] = {}

# What each role needs on a page; pages not listed are open to every member, viewers included.
# A new page that viewers must not use fails the walk until it is listed here.
NEEDS = {
    "campaigns:project_edit": "edit",
    "campaigns:project_delete": "own",
    "campaigns:member_role": "own",
    "campaigns:member_remove": "own",
    "campaigns:asset_create": "edit",
    "campaigns:asset_translate": "edit",
    "campaigns:story_translate": "edit",
    "campaigns:asset_edit": "edit",
    "campaigns:asset_status": "edit",
    "campaigns:asset_test_send": "edit",
    "campaigns:asset_send_schedule": "edit",
    "campaigns:asset_send_now": "edit",
    "campaigns:asset_send_pause": "edit",
    "campaigns:asset_send_resume": "edit",
    "campaigns:asset_send_cancel": "edit",
    "campaigns:asset_send_retry": "edit",
    "campaigns:print_render": "edit",
    "campaigns:plan_template": "edit",
    "campaigns:plan_go_live": "edit",
    "campaigns:question_answer": "edit",
    "campaigns:question_delete": "edit",
    "campaigns:dashboard_refresh": "edit",
    "campaigns:dashboard_next_step": "edit",
    # Viewers may take the figures away too.
    "campaigns:dashboard_export_csv": "view",
    "campaigns:dashboard_export_xlsx": "view",
    "campaigns:dashboard_export_pdf": "view",
    "audiences:audience_create": "edit",
    "audiences:audience_create_list": "edit",
    "audiences:audience_edit": "edit",
    "audiences:audience_delete": "edit",
    "audiences:audience_members_add": "edit",
    "audiences:audience_member_remove": "edit",
    "audiences:cross_functional": "edit",
}


def _audience_id(project: ChangeProject) -> int:
    from audiences.models import Audience

    audience, _ = Audience.objects.get_or_create(project=project, name="Alla medarbetare")
    return audience.pk


def _asset(project: ChangeProject, channel: str):
    from campaigns.models import Asset

    asset, _ = Asset.objects.get_or_create(
        project=project,
        channel=channel,
        defaults={"title": f"Första {channel}", "stage": "awareness", "offset_days": -14},
    )
    return asset


def _email_asset_id(project: ChangeProject) -> int:
    return _asset(project, "email").pk


def _further_language(project: ChangeProject) -> str:
    """A language the project writes content in besides its primary one (its translation pages exist)."""
    ChangeProject.objects.filter(pk=project.pk).update(other_languages=["en"])
    return "en"


def _print_asset_id(project: ChangeProject) -> int:
    return _asset(project, "poster").pk


def _print_render_id(project: ChangeProject) -> int:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from campaigns.models import PrintRender

    render = PrintRender(asset=_asset(project, "poster"), language="sv", status=PrintRender.Status.DONE, page_count=1)
    render.pdf.save("poster.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
    render.previews = [default_storage.save(f"projects/{project.pk}/print/preview.png", ContentFile(b"\x89PNG"))]
    render.save()
    return render.pk


def _question_id(project: ChangeProject) -> int:
    from campaigns.models import Question

    question, _ = Question.objects.get_or_create(project=project, text="Får vi stöd på plats?")
    return question.pk


def _viewer_membership_id(project: ChangeProject) -> int:
    return project.memberships.get(role=Membership.Role.VIEWER).pk


def _individual_audience_id(project: ChangeProject) -> int:
    # The not-reached list exists only where the project tracks individuals (elsewhere it is a 404).
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=ChangeProject.TrackingMode.INDIVIDUAL)
    return _audience_id(project)


# Integer URL arguments: "namespace:name" -> {argument: function(project) -> id of a row in that project}.
ID_FILLERS = {
    "audiences:audience_detail": {"pk": _audience_id},
    "campaigns:dashboard_not_reached": {"audience_id": _individual_audience_id},
    "campaigns:dashboard_not_reached_csv": {"audience_id": _individual_audience_id},
    "campaigns:dashboard_not_reached_xlsx": {"audience_id": _individual_audience_id},
}
# Fallbacks by the start of the URL name ("campaigns:asset_edit" -> "campaigns:asset_"), then by argument name.
ID_FILLERS_BY_PREFIX = {
    "campaigns:asset_": {"pk": _email_asset_id},
    "audiences:audience_": {"pk": _audience_id},
    "campaigns:question_": {"pk": _question_id},
}
ID_FILLERS_BY_ARGUMENT = {
    "member_id": _viewer_membership_id,
    "membership_id": _viewer_membership_id,
    "audience_id": _audience_id,
    "audience_pk": _audience_id,
    "asset_id": _print_asset_id,
    "render_id": _print_render_id,
    "page": lambda project: 1,
    "language": _further_language,
}


def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry


def _project_scoped_patterns() -> dict[str, dict]:
    """{"namespace:name": {argument: converter name}} for every pattern that takes a project slug."""
    found = {}
    for namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace not in NAMESPACES:
            continue
        converters = {name: type(conv).__name__ for name, conv in getattr(pattern.pattern, "converters", {}).items()}
        if "slug" in converters:
            found[f"{namespace}:{pattern.name}"] = converters
    return found


PATTERNS = _project_scoped_patterns()
ROLES = ["anonymous", "outsider", "viewer", "editor", "owner"]


def _kwargs(url_name: str, converters: dict, project: ChangeProject) -> dict:
    kwargs = {}
    for argument, converter in converters.items():
        if argument == "slug":
            kwargs[argument] = project.slug
            continue
        filler = (
            ID_FILLERS.get(url_name, {}).get(argument)
            or next(
                (
                    f[argument]
                    for prefix, f in ID_FILLERS_BY_PREFIX.items()
                    if url_name.startswith(prefix) and argument in f
                ),
                None,
            )
            or ID_FILLERS_BY_ARGUMENT.get(argument)
        )
        if filler is None or converter not in ("IntConverter", "SlugConverter"):
            pytest.fail(
                f"{url_name} takes <{converter}:{argument}> and the permission walker cannot fill it: "
                f"add a filler to ID_FILLERS in {__name__} (or a reason to NOT_WALKED)."
            )
        kwargs[argument] = filler(project)
    return kwargs


def _expected(url_name: str, role: str) -> int:
    need = NEEDS.get(url_name, "view")
    allowed = {"view": {"viewer", "editor", "owner"}, "edit": {"editor", "owner"}, "own": {"owner"}}[need]
    if role == "outsider":
        return 404
    return 200 if role in allowed else 403


def test_the_walker_finds_the_known_project_pages():
    assert {"campaigns:project_detail", "campaigns:team", "campaigns:member_remove", "audiences:audience_list"} <= set(
        PATTERNS
    )


def test_not_walked_lists_only_existing_patterns():
    assert set(NOT_WALKED) <= set(PATTERNS), "remove stale entries from NOT_WALKED"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(PATTERNS))
def test_project_url_checks_membership(client, request, project, outsider, url_name, role):
    if url_name in NOT_WALKED:
        pytest.skip(NOT_WALKED[url_name])
    url = reverse(url_name, kwargs=_kwargs(url_name, PATTERNS[url_name], project))
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))

    response = client.get(url)
    if response.status_code == 405:
        # A POST-only action: an empty POST must be refused (or be harmless) in the same way.
        response = client.post(url)
    # A member may also be sent on (e.g. to the print overview while the pack is not ready), not to the login.
    ok = (200, 302, 304)

    if role == "anonymous":
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("login")
        return
    expected = _expected(url_name, role)
    if expected == 200:
        assert response.status_code in ok, f"{role} on {url}: {response.status_code}"
        if response.status_code == 302:
            assert urlsplit(response["Location"]).path != reverse("login")
    else:
        assert response.status_code == expected, f"{role} on {url}: {response.status_code}"
    assert ChangeProject.objects.filter(pk=project.pk).exists()


# POST: who may change what.


def _edit_data(project: ChangeProject, **changes) -> dict:
    project.refresh_from_db()
    data = {
        "name": project.name,
        "lede": project.lede,
        "why": project.why,
        "what_changes": project.what_changes,
        "how_it_affects_me": project.how_it_affects_me,
        "sponsor_name": project.sponsor_name,
        "sponsor_title": project.sponsor_title,
        "go_live": project.go_live.isoformat(),
        "status": project.status,
        "tracking_mode": project.tracking_mode,
        "primary_color": project.primary_color,
        "accent_color": project.accent_color,
        "hero_alt": "",
    }
    data.update(changes)
    return data


def test_it_forbids_viewer_to_edit(client, project, viewer):
    client.force_login(viewer)
    response = client.post(reverse("campaigns:project_edit", args=[project.slug]), _edit_data(project, name="Hijacked"))
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name == "Nytt ekonomisystem"


def test_it_forbids_viewer_to_invite(client, project, viewer, outsider):
    client.force_login(viewer)
    response = client.post(reverse("campaigns:team", args=[project.slug]), {"email": outsider.email, "role": "owner"})
    assert response.status_code == 403
    assert not project.memberships.filter(user=outsider).exists()


def test_it_forbids_viewer_to_delete(client, project, viewer):
    client.force_login(viewer)
    response = client.post(reverse("campaigns:project_delete", args=[project.slug]))
    assert response.status_code == 403
    assert ChangeProject.objects.filter(pk=project.pk).exists()


def test_it_lets_editor_edit(client, project, editor):
    client.force_login(editor)
    response = client.post(reverse("campaigns:project_edit", args=[project.slug]), _edit_data(project, name="Atlas"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Atlas"


def test_it_forbids_editor_to_invite(client, project, editor, outsider):
    client.force_login(editor)
    response = client.post(reverse("campaigns:team", args=[project.slug]), {"email": outsider.email, "role": "viewer"})
    assert response.status_code == 403
    assert not project.memberships.filter(user=outsider).exists()


def test_it_forbids_editor_to_change_roles(client, project, editor):
    me = project.memberships.get(user=editor)
    client.force_login(editor)
    response = client.post(reverse("campaigns:member_role", args=[project.slug, me.pk]), {"role": "owner"})
    assert response.status_code == 403
    me.refresh_from_db()
    assert me.role == Membership.Role.EDITOR


def test_it_forbids_editor_to_remove_members(client, project, editor, viewer):
    them = project.memberships.get(user=viewer)
    client.force_login(editor)
    response = client.post(reverse("campaigns:member_remove", args=[project.slug, them.pk]))
    assert response.status_code == 403
    assert Membership.objects.filter(pk=them.pk).exists()


def test_it_forbids_editor_to_delete(client, project, editor):
    client.force_login(editor)
    response = client.post(reverse("campaigns:project_delete", args=[project.slug]))
    assert response.status_code == 403
    assert ChangeProject.objects.filter(pk=project.pk).exists()


def test_it_lets_owner_invite_change_roles_remove_and_delete(client, project, owner, viewer, outsider):
    client.force_login(owner)
    response = client.post(reverse("campaigns:team", args=[project.slug]), {"email": outsider.email, "role": "viewer"})
    assert response.status_code == 302
    newcomer = project.memberships.get(user=outsider)
    assert newcomer.role == Membership.Role.VIEWER

    response = client.post(reverse("campaigns:member_role", args=[project.slug, newcomer.pk]), {"role": "editor"})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.role == Membership.Role.EDITOR

    response = client.post(reverse("campaigns:member_remove", args=[project.slug, newcomer.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=newcomer.pk).exists()

    response = client.post(reverse("campaigns:project_delete", args=[project.slug]))
    assert response.status_code == 302
    assert not ChangeProject.objects.filter(pk=project.pk).exists()


def test_it_gives_outsider_a_404_on_posts(client, project, outsider):
    client.force_login(outsider)
    for name in ("campaigns:project_edit", "campaigns:project_delete", "campaigns:team"):
        assert client.post(reverse(name, args=[project.slug])).status_code == 404
    assert ChangeProject.objects.filter(pk=project.pk).exists()


def test_it_does_not_touch_a_member_of_another_project(client, project, owner, make_user):
    other = ChangeProject.objects.create(slug="other", name="Other", lede="x", go_live="2027-01-01")
    stranger = Membership.objects.create(project=other, user=make_user("stranger"), role=Membership.Role.OWNER)
    client.force_login(owner)
    response = client.post(reverse("campaigns:member_remove", args=[project.slug, stranger.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=stranger.pk).exists()
