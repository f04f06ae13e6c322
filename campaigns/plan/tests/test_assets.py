"""Asset pages: channel forms, hostile input, status and approval, audit trail, previews and permissions."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Asset, AssetEvent, MeetingSession, ProjectImage
from campaigns.plan import services as plan
from campaigns.tests.asset_helpers import make_audience, make_email, make_employee, make_image, make_meeting, png_upload

pytestmark = pytest.mark.usefixtures("english")

HOSTILE_TOKENS = [
    "{{ settings.SECRET_KEY }}",
    "{{ first_name.__class__ }}",
    "{% load static %}",
    "{% include 'base.html' %}",
    "{% debug %}",
    "{{ shoe_size }}",
]


@pytest.fixture
def project(project):
    project.refresh_from_db()
    return project


def _url(name, project, asset=None, **query):
    args = [project.slug] if asset is None else [project.slug, asset.pk]
    url = reverse(f"campaigns:{name}", args=args)
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _common(**fields) -> dict:
    data = {
        "title": "Sponsorns varför-mejl",
        "stage": "awareness",
        "timing": "relative",
        "offset_days": "-21",
        "local_time": "09:00",
    }
    data.update(fields)
    return {f"asset-{k}": v for k, v in data.items()}


def _email_data(**fields) -> dict:
    values = {
        "subject": "Hej {{ first_name }}",
        "preheader": "Tre veckor kvar",
        "sender_kind": "sponsor",
        "body": "<p>Hej {{ first_name }}!</p>",
        "button_label": "Läs mer",
    }
    values.update(fields)
    return _common(**values)


def _film_data(**fields) -> dict:
    values = {"title": "Så fungerar det", "stage": "knowledge", "headline": "Se hur det fungerar"}
    values.update(fields)
    return _common(**values)


# Creating and editing.


def test_editor_creates_an_email_with_merge_fields_audiences_and_timing(client, project, editor):
    employee = make_employee()
    audience = make_audience(project, employee)
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="email"), _email_data(audiences=str(audience.pk)))
    asset = Asset.objects.get(project=project)
    assert response.status_code == 302 and response["Location"] == asset.get_absolute_url()
    assert (asset.channel, asset.status, asset.offset_days, asset.subject) == (
        "email",
        "draft",
        -21,
        "Hej {{ first_name }}",
    )
    assert list(asset.audiences.all()) == [audience]
    assert asset.events.get().action == AssetEvent.Action.CREATED


def test_the_channel_chooser_lists_every_channel(client, project, editor):
    client.force_login(editor)
    response = client.get(_url("asset_create", project))
    assert response.status_code == 200
    assert b"?channel=email" in response.content and b"?channel=film" in response.content


def test_audiences_are_limited_to_the_project(client, project, editor):
    from campaigns.models import ChangeProject

    other = ChangeProject.objects.create(slug="annat", name="Annat", lede="x", go_live="2027-01-01")
    foreign = make_audience(other, name="Främmande")
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="email"), _email_data(audiences=str(foreign.pk)))
    assert response.status_code == 200
    assert not Asset.objects.exists()


@pytest.mark.parametrize("token", HOSTILE_TOKENS)
@pytest.mark.parametrize("field", ["subject", "preheader", "headline", "body", "button_label"])
def test_a_hostile_merge_token_is_named_and_nothing_is_saved(client, project, editor, field, token):
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="email"), _email_data(**{field: f"Hej {token}"}))
    assert response.status_code == 200
    assert token in response.content.decode().replace("&#x27;", "'")
    assert not Asset.objects.exists()
    assert not AssetEvent.objects.exists()


@pytest.mark.parametrize("channel", ["handout", "poster", "news", "meeting", "film"])
def test_other_channels_check_their_texts_too(client, project, editor, channel):
    client.force_login(editor)
    data = _common(headline="Nyheter", body="<p>{% debug %}</p>")
    data |= {"sessions-TOTAL_FORMS": "0", "sessions-INITIAL_FORMS": "0"}
    response = client.post(_url("asset_create", project, channel=channel), data)
    assert response.status_code == 200
    assert "{% debug %}" in response.content.decode()
    assert not Asset.objects.exists()


def test_an_editor_can_not_smuggle_a_hostile_token_into_an_existing_asset(client, project, editor):
    asset = make_email(project, editor)
    client.force_login(editor)
    response = client.post(_url("asset_edit", project, asset), _email_data(subject="{{ settings.SECRET_KEY }}"))
    assert response.status_code == 200
    asset.refresh_from_db()
    assert asset.subject == "Hej {{ first_name }}, därför byter vi system"


def test_rich_text_is_sanitised_on_save(client, project, editor):
    client.force_login(editor)
    body = (
        '<p onmouseover="x()">Hej</p><script>alert(1)</script><style>p{}</style><iframe src="//evil"></iframe>'
        '<a href="javascript:alert(2)">klicka</a><a href="https://intranet.example.se/">intranätet</a>'
    )
    client.post(_url("asset_create", project, channel="email"), _email_data(body=body))
    saved = Asset.objects.get().body
    for bad in ("<script", "alert(", "onmouseover", "<style", "<iframe", "javascript:"):
        assert bad not in saved
    assert "klicka" in saved and 'href="https://intranet.example.se/"' in saved


def test_a_fixed_date_replaces_the_relative_one(client, project, editor):
    client.force_login(editor)
    data = _email_data(timing="fixed", offset_days="", **{"fixed_at": "2027-02-03T10:30"})
    response = client.post(_url("asset_create", project, channel="email"), data)
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert asset.fixed_at is not None and asset.offset_days is None
    assert asset.scheduled_for().astimezone(datetime.UTC).hour == 9  # 10:30 in Stockholm


def test_relative_timing_needs_days(client, project, editor):
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="email"), _email_data(offset_days=""))
    assert response.status_code == 200
    assert not Asset.objects.exists()


# Images.


def test_an_uploaded_image_without_alt_text_is_refused(client, project, editor):
    client.force_login(editor)
    response = client.post(
        _url("asset_create", project, channel="email"), _email_data(image_upload=png_upload(), image_alt="")
    )
    assert response.status_code == 200
    assert "Describe the image" in response.content.decode()
    assert not Asset.objects.exists() and not ProjectImage.objects.exists()


def test_an_uploaded_image_goes_through_the_pipeline_with_its_alt_text(client, project, editor):
    client.force_login(editor)
    response = client.post(
        _url("asset_create", project, channel="email"),
        _email_data(image_upload=png_upload(), image_alt="Två kollegor vid en skärm"),
    )
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert asset.image.alt_text == "Två kollegor vid en skärm" and asset.image.project == project
    assert asset.image.email.name.endswith(".jpg")


def test_a_fake_image_is_refused(client, project, editor):
    client.force_login(editor)
    fake = SimpleUploadedFile("hero.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    response = client.post(
        _url("asset_create", project, channel="email"), _email_data(image_upload=fake, image_alt="x")
    )
    assert response.status_code == 200
    assert not Asset.objects.exists() and not ProjectImage.objects.exists()


def test_an_existing_image_of_another_project_can_not_be_chosen(client, project, editor, owner):
    from campaigns.models import ChangeProject

    other = ChangeProject.objects.create(slug="annat", name="Annat", lede="x", go_live="2027-01-01")
    foreign = make_image(other, owner)
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="email"), _email_data(image=str(foreign.pk)))
    assert response.status_code == 200
    assert not Asset.objects.exists()


# Film.


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/film.mp4",
        "https://youtube.com.evil.example/watch?v=1",
        "https://evil.example/?u=https://youtube.com/",
        "http://www.youtube.com/watch?v=1",
        "https://sharepoint.com/film",
        "javascript:alert(1)",
    ],
)
def test_a_film_link_from_another_host_is_refused(client, project, editor, url):
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="film"), _film_data(video_url=url))
    assert response.status_code == 200
    assert not Asset.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://vimeo.com/1234",
        "https://contoso.sharepoint.com/sites/it/film.mp4",
        "https://web.microsoftstream.com/video/abc",
    ],
)
def test_a_film_link_from_an_allowed_provider_is_kept(client, project, editor, url):
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="film"), _film_data(video_url=url))
    assert response.status_code == 302
    assert Asset.objects.get().video_url == url


def test_a_fake_mp4_is_refused(client, project, editor):
    client.force_login(editor)
    fake = SimpleUploadedFile("film.mp4", b"<html><body><script>alert(1)</script></body></html>", "video/mp4")
    response = client.post(_url("asset_create", project, channel="film"), _film_data(video_upload=fake))
    assert response.status_code == 200
    assert "not a real MP4" in response.content.decode()
    assert not Asset.objects.exists()


def test_a_video_with_another_extension_is_refused(client, project, editor):
    client.force_login(editor)
    upload = SimpleUploadedFile("film.html", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32, "video/mp4")
    response = client.post(_url("asset_create", project, channel="film"), _film_data(video_upload=upload))
    assert response.status_code == 200
    assert not Asset.objects.exists()


def test_a_real_mp4_and_webvtt_captions_are_stored(client, project, editor):
    client.force_login(editor)
    video = SimpleUploadedFile("film.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64)
    captions = SimpleUploadedFile("film.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\nHej!\n")
    response = client.post(
        _url("asset_create", project, channel="film"), _film_data(video_upload=video, captions_upload=captions)
    )
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert asset.video.name.endswith(".mp4") and asset.captions.name.endswith(".vtt")
    assert "film" not in asset.video.name.rsplit("/", 1)[-1]  # stored under a random name


def test_a_webm_needs_its_ebml_header(client, project, editor):
    client.force_login(editor)
    fake = SimpleUploadedFile("film.webm", b"RIFF....WEBPVP8 " + b"\x00" * 32)
    response = client.post(_url("asset_create", project, channel="film"), _film_data(video_upload=fake))
    assert response.status_code == 200
    real = SimpleUploadedFile("film.webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 32)
    response = client.post(_url("asset_create", project, channel="film"), _film_data(video_upload=real))
    assert response.status_code == 302


@pytest.mark.parametrize("content", [b"<html>WEBVTT</html>", b"1\n00:00:00,000 --> 00:00:02,000\nHej\n", b"WEBVTTX\n"])
def test_captions_without_webvtt_are_refused(client, project, editor, content):
    client.force_login(editor)
    captions = SimpleUploadedFile("film.vtt", content)
    response = client.post(_url("asset_create", project, channel="film"), _film_data(captions_upload=captions))
    assert response.status_code == 200
    assert "WEBVTT" in response.content.decode()
    assert not Asset.objects.exists()


def test_oversized_captions_are_refused(client, project, editor):
    client.force_login(editor)
    captions = SimpleUploadedFile("film.vtt", b"WEBVTT\n\n" + b"x" * 600_000)
    response = client.post(_url("asset_create", project, channel="film"), _film_data(captions_upload=captions))
    assert response.status_code == 200
    assert not Asset.objects.exists()


# Meetings.


def _meeting_data(**session) -> dict:
    data = _common(title="Informationsträff", stage="knowledge", headline="Informationsträff", body="<p>Välkommen</p>")
    values = {
        "starts_at": "2027-02-15T09:00",
        "ends_at": "2027-02-15T10:00",
        "site": "Luleå",
        "place": "Aulan",
        "online_url": "",
        "capacity": "40",
    }
    values.update(session)
    data |= {"sessions-TOTAL_FORMS": "1", "sessions-INITIAL_FORMS": "0"}
    data |= {f"sessions-0-{k}": v for k, v in values.items()}
    return data


def test_a_meeting_is_created_with_its_sessions(client, project, editor):
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="meeting"), _meeting_data())
    assert response.status_code == 302
    session = MeetingSession.objects.get()
    assert session.meeting.channel == "meeting" and session.capacity == 40 and session.place == "Aulan"


def test_a_session_must_end_after_it_starts(client, project, editor):
    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="meeting"), _meeting_data(ends_at="2027-02-15T08:00"))
    assert response.status_code == 200
    assert "must end after it starts" in response.content.decode()
    assert not Asset.objects.exists() and not MeetingSession.objects.exists()


def test_an_email_can_carry_a_meeting_card_of_its_own_project_only(client, project, editor):
    from campaigns.models import ChangeProject
    from campaigns.tests.asset_helpers import make_meeting

    mine = make_meeting(project, editor)
    other = ChangeProject.objects.create(slug="annat", name="Annat", lede="x", go_live="2027-01-01")
    theirs = make_meeting(other, editor)
    client.force_login(editor)
    assert (
        client.post(_url("asset_create", project, channel="email"), _email_data(meeting=str(theirs.pk))).status_code
        == 200
    )
    response = client.post(_url("asset_create", project, channel="email"), _email_data(meeting=str(mine.pk)))
    assert response.status_code == 302
    assert Asset.objects.get(channel="email").meeting == mine


# Status, approval and the audit trail.


def test_only_an_owner_approves(client, project, owner, editor):
    asset = make_email(project, editor)
    plan.asset_set_status(asset=asset, status="ready", by=editor)
    client.force_login(editor)
    response = client.post(_url("asset_status", project, asset), {"status": "approved"}, follow=True)
    assert "Only an owner of the project can approve." in response.content.decode()
    asset.refresh_from_db()
    assert asset.status == "ready"
    assert not asset.events.filter(action=AssetEvent.Action.APPROVED).exists()

    client.force_login(owner)
    client.post(_url("asset_status", project, asset), {"status": "approved"})
    asset.refresh_from_db()
    assert asset.status == "approved"
    event = asset.events.get(action=AssetEvent.Action.APPROVED)
    assert event.actor == owner


def test_the_approve_button_is_shown_to_owners_only(client, project, owner, editor):
    asset = make_email(project, editor)
    plan.asset_set_status(asset=asset, status="ready", by=editor)
    client.force_login(editor)
    assert b'value="approved"' not in client.get(_url("asset_detail", project, asset)).content
    client.force_login(owner)
    assert b'value="approved"' in client.get(_url("asset_detail", project, asset)).content


def test_a_status_change_is_audited(client, project, editor):
    asset = make_email(project, editor)
    client.force_login(editor)
    response = client.post(_url("asset_status", project, asset), {"status": "ready"})
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.status == "ready"
    event = asset.events.get(action=AssetEvent.Action.STATUS)
    assert event.actor == editor and event.detail["status"] == ["Draft", "Ready for approval"]


def test_an_impossible_transition_is_refused(client, project, editor):
    asset = make_email(project, editor)
    client.force_login(editor)
    client.post(_url("asset_status", project, asset), {"status": "done"})
    client.post(_url("asset_status", project, asset), {"status": "scheduled"})
    asset.refresh_from_db()
    assert asset.status == "draft"


def test_a_content_change_after_approval_returns_the_asset_to_ready(client, project, owner, editor):
    asset = make_email(project, editor)
    plan.asset_set_status(asset=asset, status="ready", by=editor)
    plan.asset_set_status(asset=asset, status="approved", by=owner)
    client.force_login(editor)
    response = client.post(_url("asset_edit", project, asset), _email_data(subject="Ny rubrik, {{ first_name }}"))
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.status == "ready" and asset.subject == "Ny rubrik, {{ first_name }}"
    event = asset.events.filter(action=AssetEvent.Action.CHANGED).get()
    assert event.actor == editor
    assert event.detail["fields"]["subject"] == [
        "Hej {{ first_name }}, därför byter vi system",
        "Ny rubrik, {{ first_name }}",
    ]
    assert event.detail["fields"]["status"][1] == "Ready for approval"


def test_the_detail_page_shows_timing_audiences_and_the_audit_trail(client, project, owner, editor, viewer):
    audience = make_audience(project, make_employee())
    asset = make_email(project, editor, audiences=[audience])
    plan.asset_update(asset=asset, by=editor, subject="Ändrad")
    client.force_login(viewer)
    page = client.get(_url("asset_detail", project, asset)).content.decode()
    assert "T−28 · " in page
    assert audience.name in page
    assert "Ändrad" in page and "Hej {{ first_name }}, därför byter vi system" in page
    assert _url("asset_edit", project, asset) not in page  # viewers get no edit link
    assert 'name="status"' not in page  # viewers get no status buttons


# Preview and permissions.


def test_a_viewer_sees_the_preview_and_an_outsider_gets_404(client, project, editor, viewer, outsider):
    asset = make_email(project, editor)
    make_employee()
    client.force_login(viewer)
    response = client.get(_url("asset_preview", project, asset))
    assert response.status_code == 200
    assert "frame-src 'self'" in response["Content-Security-Policy"]
    page = response.content.decode()
    assert _url("asset_email_html", project, asset) in page and "email-frame-phone" in page
    assert "<pre" in page and "Hej Anna!" in page
    client.force_login(outsider)
    assert client.get(_url("asset_preview", project, asset)).status_code == 404
    assert client.get(_url("asset_email_html", project, asset)).status_code == 404
    assert client.get(_url("asset_detail", project, asset)).status_code == 404


def test_the_framed_email_has_a_strict_csp_and_same_origin_framing(client, project, editor, viewer):
    asset = make_email(project, editor)
    employee = make_employee(first_name="<img src=x onerror=alert(1)>")
    client.force_login(viewer)
    response = client.get(_url("asset_email_html", project, asset, employee=employee.pk))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'unsafe-inline'" in csp and "script-src" not in csp
    assert "img-src 'self' data: http: https:" in csp
    html = response.content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html


def test_the_preview_offers_the_assets_audience_first(client, project, editor, viewer):
    insider = make_employee(email="i@example.se", first_name="Ingrid", last_name="Insider")
    make_employee(email="o@example.se", first_name="Oskar", last_name="Utanför")
    asset = make_email(project, editor, audiences=[make_audience(project, insider)])
    client.force_login(viewer)
    page = client.get(_url("asset_preview", project, asset)).content.decode()
    assert "Ingrid Insider" in page and "Oskar Utanför" not in page


@pytest.mark.parametrize("channel", ["handout", "poster", "news", "film", "meeting"])
def test_other_channels_have_a_visual_preview(client, project, editor, viewer, channel):
    asset = plan.asset_create(
        project=project,
        by=editor,
        channel=channel,
        stage="knowledge",
        title="Blad",
        offset_days=-14,
        headline="Så byter vi system",
        body="<p>Tre saker att veta</p>",
    )
    client.force_login(viewer)
    response = client.get(_url("asset_preview", project, asset))
    assert response.status_code == 200
    assert "Så byter vi system" in response.content.decode()
    assert client.get(_url("asset_email_html", project, asset)).status_code == 404


def test_a_viewer_can_not_create_edit_or_change_status(client, project, editor, viewer):
    asset = make_email(project, editor)
    client.force_login(viewer)
    assert client.get(_url("asset_create", project, channel="email")).status_code == 403
    assert client.post(_url("asset_create", project, channel="email"), _email_data()).status_code == 403
    assert client.post(_url("asset_edit", project, asset), _email_data(subject="Kapat")).status_code == 403
    assert client.post(_url("asset_status", project, asset), {"status": "ready"}).status_code == 403
    asset.refresh_from_db()
    assert (asset.subject, asset.status, Asset.objects.count()) == (
        "Hej {{ first_name }}, därför byter vi system",
        "draft",
        1,
    )


def test_an_asset_of_another_project_is_not_found(client, project, owner, editor):
    from campaigns.models import ChangeProject, Membership

    other = ChangeProject.objects.create(slug="annat", name="Annat", lede="x", go_live="2027-01-01")
    Membership.objects.create(project=other, user=editor, role="owner")
    theirs = make_email(other, editor)
    client.force_login(owner)
    assert client.get(reverse("campaigns:asset_detail", args=[project.slug, theirs.pk])).status_code == 404
    assert (
        client.post(reverse("campaigns:asset_status", args=[project.slug, theirs.pk]), {"status": "ready"}).status_code
        == 404
    )


def test_editing_a_meeting_removes_a_session_ignores_the_blank_one_and_is_audited(client, project, owner, editor):
    from campaigns.tests.asset_helpers import make_meeting

    meeting = make_meeting(project, editor)
    plan.asset_set_status(asset=meeting, status="ready", by=editor)
    plan.asset_set_status(asset=meeting, status="approved", by=owner)
    session = meeting.sessions.get()
    data = _meeting_data(id=str(session.pk), meeting=str(meeting.pk), DELETE="on")
    data |= {"sessions-TOTAL_FORMS": "2", "sessions-INITIAL_FORMS": "1", "sessions-1-capacity": "30"}
    data["asset-title"] = meeting.title
    client.force_login(editor)
    response = client.post(_url("asset_edit", project, meeting), data)
    assert response.status_code == 302
    assert not MeetingSession.objects.exists()
    meeting.refresh_from_db()
    assert meeting.status == "ready"
    assert "sessions" in meeting.events.filter(action=AssetEvent.Action.CHANGED).first().detail["fields"]


@pytest.mark.parametrize("channel", ["handout", "poster", "flyer", "news"])
def test_print_and_news_assets_are_created_with_headline_text_and_image(client, project, editor, channel):
    client.force_login(editor)
    data = _common(title="Blad", stage="knowledge", headline="Så byter vi", body="<p>Tre saker</p>")
    data |= {"asset-image_upload": png_upload(), "asset-image_alt": "En skärm med nya systemet"}
    response = client.post(_url("asset_create", project, channel=channel), data)
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert (asset.channel, asset.headline, asset.body) == (channel, "Så byter vi", "<p>Tre saker</p>")
    if channel != "news":
        assert asset.image.alt_text == "En skärm med nya systemet"


def test_the_detail_page_does_not_query_per_event(client, project, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    asset = make_email(project, editor, audiences=[make_audience(project, make_employee())])
    client.force_login(editor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_url("asset_detail", project, asset)).status_code == 200
        return len(captured)

    plan.asset_update(asset=asset, by=editor, subject="Ämne 0")
    few = queries()
    for n in range(1, 15):
        plan.asset_update(asset=asset, by=editor, subject=f"Ämne {n}")
    assert queries() == few


def test_a_needs_attention_link_prefills_stage_audience_and_sponsor(client, project, editor):
    audience = make_audience(project, name="Verkstaden")
    client.force_login(editor)

    form = client.get(_url("asset_create", project, channel="email", stage="awareness", audience=audience.pk))

    fields = form.context["form"]
    assert fields["stage"].value() == "awareness"
    assert fields["sender_kind"].value() == "sponsor"
    assert [int(pk) for pk in fields["audiences"].value()] == [audience.pk]


def test_a_prefill_ignores_another_projects_audience_and_unknown_stages(client, project, editor, outsider):
    from campaigns.projects import services

    theirs = services.project_create(by=outsider, name="Deras projekt", lede="x", go_live=datetime.date(2027, 3, 1))
    foreign = make_audience(theirs, name="Deras")
    client.force_login(editor)

    form = client.get(_url("asset_create", project, channel="handout", stage="shoes", audience=foreign.pk))

    assert form.status_code == 200
    fields = form.context["form"]
    assert fields["stage"].value() in (None, "")
    assert not fields["audiences"].value()


def test_the_history_reads_in_the_readers_language_and_shows_text_not_markup(client, project, owner, editor):
    from django.utils import translation

    asset = make_email(project, editor)
    with translation.override("en"):  # the editor writes in English …
        plan.asset_update(asset=asset, by=editor, body="<p>Ny <strong>text</strong> &amp; mer</p>")
        plan.asset_set_status(asset=asset, status=Asset.Status.READY, by=editor)
    client.force_login(owner)

    page = client.get(_url("asset_detail", project, asset), HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    assert "Klar för godkännande" in page and "Ready for approval" not in page  # … the owner reads Swedish
    assert "<ins>Ny text &amp; mer</ins>" in page and "&lt;p&gt;" not in page and "&lt;strong&gt;" not in page


def _sessions(*rows: dict) -> dict:
    data = {"sessions-TOTAL_FORMS": str(len(rows)), "sessions-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        data |= {f"sessions-{i}-{k}": v for k, v in row.items()}
    return data


def test_a_meetings_sessions_are_entered_in_one_go(client, project, editor):
    meeting = make_meeting(project, editor)
    meeting.sessions.all().delete()
    client.force_login(editor)
    page = client.get(_url("asset_edit", project, meeting)).content.decode()
    assert page.count('name="sessions-') >= 3 * 6  # three empty rows to fill at once

    data = _meeting_data() | _sessions(
        *(
            {"starts_at": f"2027-02-1{d}T09:00", "ends_at": f"2027-02-1{d}T10:00", "place": p, "capacity": "30"}
            for d, p in ((5, "Aulan"), (6, "Lunchrummet"), (7, "Verkstaden"))
        ),
        {"capacity": "30"},  # an untouched row (as the browser sends it, with its default) is left out
    )
    data["asset-title"] = meeting.title
    response = client.post(_url("asset_edit", project, meeting), data)

    assert response.status_code == 302
    assert sorted(meeting.sessions.values_list("place", flat=True)) == ["Aulan", "Lunchrummet", "Verkstaden"]


def test_more_rows_for_sessions_saves_nothing(client, project, editor):
    meeting = make_meeting(project, editor)
    client.force_login(editor)
    data = _meeting_data(place="Ny plats") | {"add_sessions": "1"}
    data["asset-title"] = "Ändrad titel"
    response = client.post(_url("asset_edit", project, meeting), data)
    assert response.status_code == 200
    assert response.context["formset"].total_form_count() == 4
    meeting.refresh_from_db()
    assert meeting.title != "Ändrad titel"


def test_a_session_on_a_public_holiday_is_flagged_when_saved_and_in_the_editor(client, project, editor, english):
    meeting = make_meeting(project, editor)
    meeting.sessions.all().delete()
    client.force_login(editor)
    data = _meeting_data() | _sessions(
        {"starts_at": "2030-12-25T09:00", "ends_at": "2030-12-25T10:00", "place": "Aulan", "capacity": "30"}
    )
    data["asset-title"] = meeting.title
    response = client.post(_url("asset_edit", project, meeting), data, follow=True)

    assert "25 December 2030 is a day off: Christmas Day." in [str(m) for m in response.context["messages"]]
    page = client.get(_url("asset_edit", project, meeting)).content.decode()
    assert "25 December 2030 is a day off: Christmas Day." in page


def test_the_preview_shows_the_sender_as_a_mail_program_does(client, project, editor, viewer):
    project.sponsor_name = "Karin Åström"
    project.save()
    asset = make_email(project, editor, sender_kind="sponsor")
    client.force_login(viewer)
    page = client.get(_url("asset_preview", project, asset)).content.decode()
    assert "Karin Åström &lt;" in page and "=?utf-8?" not in page
