"""Threat: an employee sees (or books) what the team has not approved.

Only approved, scheduled or done assets reach the landing page, on the personal and the general
link and in every cached copy; a meeting by invitation reaches its groups' members only, and both
rules hold where a booking is made, not only where the list is drawn.
"""

import pytest
from django.utils import timezone

from audiences.models import Audience, AudienceMember
from campaigns.landing import selectors
from campaigns.landing import services as landing
from campaigns.models import Asset, Booking, Channel, LandingCounter, LandingToken, SenderKind, Stage
from campaigns.plan import services as plan
from campaigns.tests.landing_helpers import clean_cache, make_employee, make_meeting, personal_link  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

HIDDEN = [Asset.Status.DRAFT, Asset.Status.READY, Asset.Status.CANCELLED]
SHOWN = [Asset.Status.APPROVED, Asset.Status.SCHEDULED, Asset.Status.DONE]


def _news(project, status):
    Asset.objects.create(
        project=project,
        channel=Channel.NEWS,
        stage=Stage.AWARENESS,
        title="Nyheten om utbildningen",
        offset_days=-10,
        is_milestone=True,
        status=status,
    )
    return "Nyheten om utbildningen"


def _meeting(project, status):
    make_meeting(project, title="Träffen i storsalen", status=status)
    return "Träffen i storsalen"


def _film(project, status):
    Asset.objects.create(
        project=project,
        channel=Channel.FILM,
        stage=Stage.KNOWLEDGE,
        title="Filmen",
        headline="Filmen om Atlas",
        offset_days=-7,
        status=status,
        video_url="https://www.youtube.com/watch?v=abc",
    )
    return "Filmen om Atlas"


def _sponsor(project, status):
    Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.AWARENESS,
        title="Varför",
        offset_days=-28,
        status=status,
        sender_kind=SenderKind.SPONSOR,
        body="<p>Sponsorns egna ord om varför.</p>",
    )
    return "Sponsorns egna ord om varför."


KINDS = {"news": _news, "meeting": _meeting, "film": _film, "sponsor": _sponsor}


def _page(client, project, link_kind: str) -> str:
    if link_kind == "general":
        return client.get(f"/l/{project.slug}/").content.decode()
    link = personal_link(project, make_employee())
    return client.get(f"/p/{link.token}/").content.decode()


@pytest.mark.parametrize("link_kind", ["general", "personal"])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("status", HIDDEN)
def test_an_asset_that_is_not_approved_is_invisible(client, project, kind, status, link_kind):
    text = KINDS[kind](project, status)
    assert text not in _page(client, project, link_kind)


@pytest.mark.parametrize("link_kind", ["general", "personal"])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("status", SHOWN)
def test_an_approved_asset_is_shown(client, project, kind, status, link_kind):
    text = KINDS[kind](project, status)
    assert text in _page(client, project, link_kind)


@pytest.mark.parametrize("link_kind", ["general", "personal"])
def test_an_asset_edited_back_out_of_approval_leaves_the_cached_page_at_once(client, project, owner, link_kind):
    project.requires_approval = True
    project.save()
    meeting, _sessions = make_meeting(project, title="Träffen i storsalen", status=Asset.Status.APPROVED)
    Asset.objects.filter(pk=meeting.pk).update(created_by=owner)
    link = personal_link(project, make_employee())
    url = f"/l/{project.slug}/" if link_kind == "general" else f"/p/{link.token}/"
    assert "Träffen i storsalen" in client.get(url).content.decode()  # now cached

    plan.asset_update(asset=meeting, by=owner, headline="Träffen i lilla salen")

    meeting.refresh_from_db()
    assert meeting.status == Asset.Status.READY
    page = client.get(url).content.decode()
    assert "Träffen i storsalen" not in page and "Träffen i lilla salen" not in page

    plan.asset_set_status(asset=meeting, status=Asset.Status.APPROVED, by=owner)
    assert "Träffen i lilla salen" in client.get(url).content.decode()


def test_a_draft_in_the_project_draft_phase_shows_nothing_unapproved(client, project):
    for kind in KINDS.values():
        kind(project, Asset.Status.DRAFT)
    page = client.get(f"/l/{project.slug}/").content.decode()
    assert all(text not in page for text in ("Nyheten", "Träffen", "Filmen", "Sponsorns"))
    assert project.lede in page  # the project's own story is there


# Booking what is not approved


@pytest.mark.parametrize("status", HIDDEN)
def test_a_session_of_an_unapproved_meeting_cannot_be_booked_on_a_personal_link(client, project, status):
    _meeting, (session,) = make_meeting(project, status=status)
    link = personal_link(project, make_employee(language="en"))

    response = client.post(f"/p/{link.token}/book/", {"session": session.pk})

    assert response.status_code == 302
    assert not Booking.objects.exists()
    assert "can no longer be booked" in client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("status", HIDDEN)
def test_a_session_of_an_unapproved_meeting_cannot_be_booked_on_the_general_link(client, project, status):
    make_employee("anna@example.se")
    _meeting, (session,) = make_meeting(project, status=status)

    response = client.post(f"/l/{project.slug}/book/", {"session": session.pk, "email": "anna@example.se"})

    assert response.status_code == 400  # not one of the sessions the page offers
    assert not Booking.objects.exists()


def test_a_pending_booking_cannot_be_confirmed_once_the_meeting_is_withdrawn(client, project):
    anna = make_employee("anna@example.se")
    meeting, (session,) = make_meeting(project)
    booking = landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=False)
    Asset.objects.filter(pk=meeting.pk).update(status=Asset.Status.READY)

    client.post(f"/b/confirm/{booking.confirm_token}/")

    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


def test_the_service_refuses_an_unapproved_session_whoever_calls_it(project):
    anna = make_employee()
    _meeting, (session,) = make_meeting(project, status=Asset.Status.READY)
    with pytest.raises(landing.SessionClosed):
        landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)
    assert not Booking.objects.exists()


# Meetings by invitation


@pytest.fixture
def workshop(project):
    """A workshop for the cross-functional group only, with Greta in the group and Sven outside it."""
    group = Audience.objects.create(
        project=project, name="Tvärgruppen", kind=Audience.Kind.LIST, is_cross_functional=True
    )
    greta = make_employee("greta@example.se", first_name="Greta", language="en")
    sven = make_employee("sven@example.se", language="en")
    AudienceMember.objects.create(audience=group, employee=greta)
    meeting, (session,) = make_meeting(project, title="Workshop med tvärgruppen")
    meeting.audiences.set([group])
    return {"meeting": meeting, "session": session, "group": group, "greta": greta, "sven": sven}


def test_a_meeting_for_cross_functional_groups_only_is_by_invitation(workshop, project):
    assert selectors.is_by_invitation(workshop["meeting"])
    everyone = Audience.objects.create(project=project, name="Alla", rules={})
    workshop["meeting"].audiences.add(everyone)
    assert not selectors.is_by_invitation(workshop["meeting"])  # for everyone too: open to all


def test_invitation_sessions_show_only_on_their_members_personal_pages(client, project, workshop):
    general = client.get(f"/l/{project.slug}/").content.decode()
    greta = client.get(f"/p/{personal_link(project, workshop['greta']).token}/").content.decode()
    sven = client.get(f"/p/{personal_link(project, workshop['sven']).token}/").content.decode()

    assert "Workshop med tvärgruppen" not in general
    assert "Workshop med tvärgruppen" in greta
    assert "Workshop med tvärgruppen" not in sven


def test_a_member_books_the_invitation_session_on_their_personal_link(client, project, workshop):
    link = personal_link(project, workshop["greta"])
    client.post(f"/p/{link.token}/book/", {"session": workshop["session"].pk})
    assert Booking.objects.get().employee == workshop["greta"]


def test_a_non_member_cannot_book_an_invitation_session_by_a_forged_post(client, project, workshop):
    link = personal_link(project, workshop["sven"])

    response = client.post(f"/p/{link.token}/book/", {"session": workshop["session"].pk})

    assert not Booking.objects.exists()
    assert "by invitation only" in client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_general_link_cannot_book_an_invitation_session_even_for_a_member(client, project, workshop):
    response = client.post(
        f"/l/{project.slug}/book/", {"session": workshop["session"].pk, "email": workshop["greta"].email}
    )
    assert response.status_code == 400
    assert not Booking.objects.exists()
    with pytest.raises(landing.SessionByInvitation):  # and the service itself refuses an unconfirmed seat
        landing.booking_create(
            session=workshop["session"], email=workshop["greta"].email, employee=workshop["greta"], confirmed=False
        )
    assert not Booking.objects.exists()


def test_an_invitation_page_costs_no_query_once_warm(client, project, workshop, django_assert_num_queries):
    link = personal_link(project, workshop["greta"])
    client.get(f"/p/{link.token}/")
    with django_assert_num_queries(0):
        page = client.get(f"/p/{link.token}/").content.decode()
    assert "Workshop med tvärgruppen" in page
    assert timezone.now() < workshop["session"].starts_at


def test_the_editor_and_the_plan_say_a_meeting_is_by_invitation(client, project, owner, workshop, english):
    from campaigns.plan.selectors import plan_coverage

    client.force_login(owner)
    meeting = workshop["meeting"]
    detail = client.get(f"/projects/{project.slug}/assets/{meeting.pk}/").content.decode()
    edit = client.get(f"/projects/{project.slug}/assets/{meeting.pk}/edit/").content.decode()
    assert 'id="by-invitation"' in detail and 'id="by-invitation"' in edit

    project.refresh_from_db()
    warnings = plan_coverage(project=project)["warnings"]
    assert [w.kind for w in warnings if w.kind == "by_invitation"] == ["by_invitation"]
    assert any("Workshop med tvärgruppen" in w.message for w in warnings)


def test_the_editor_says_an_unapproved_meeting_is_not_on_the_page(client, project, owner, english):
    client.force_login(owner)
    draft, _sessions = make_meeting(project, status=Asset.Status.DRAFT)
    approved, _sessions = make_meeting(project, title="Godkänd")
    assert 'id="not-public"' in client.get(f"/projects/{project.slug}/assets/{draft.pk}/").content.decode()
    assert 'id="not-public"' not in client.get(f"/projects/{project.slug}/assets/{approved.pk}/").content.decode()


# The team's preview


def test_a_member_previews_the_page_as_an_audience_sees_it_without_any_personal_link(
    client, project, viewer, workshop, english
):
    make_meeting(project, title="Öppen träff")
    client.force_login(viewer)
    url = f"/projects/{project.slug}/landing-preview/"

    everyone = client.get(url)
    as_group = client.get(f"{url}?audience={workshop['group'].pk}").content.decode()

    page = everyone.content.decode()
    assert "Öppen träff" in page and "Workshop med tvärgruppen" not in page
    assert "Öppen träff" in as_group and "Workshop med tvärgruppen" in as_group
    assert "as a member of “Tvärgruppen”" in as_group
    assert "form-action 'none'" in everyone["Content-Security-Policy"]
    assert everyone["Cache-Control"].startswith("private") and "no-store" in everyone["Cache-Control"]
    assert "/p/" not in page and "/p/" not in as_group.replace("/p/preview", "")
    assert not LandingToken.objects.exists()  # nobody's link was made or shown
    assert not LandingCounter.objects.exists()  # and nothing was counted


def test_the_preview_is_for_project_members_only(client, project, outsider):
    url = f"/projects/{project.slug}/landing-preview/"
    assert client.get(url).status_code == 302  # to the login
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_an_audience_of_another_project_is_not_previewed(client, project, viewer, make_user):
    from campaigns.projects import services

    other = services.project_create(by=make_user("other"), name="Annat", lede="Annat.", go_live="2027-05-01")
    secret = Audience.objects.create(project=other, name="Hemliga gruppen")
    client.force_login(viewer)
    page = client.get(f"/projects/{project.slug}/landing-preview/?audience={secret.pk}").content.decode()
    assert "Hemliga gruppen" not in page
