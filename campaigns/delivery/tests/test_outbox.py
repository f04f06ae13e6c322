"""The local outbox in the app: staff read what the file backend wrote, safely, as the employee sees it."""

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import translation

from campaigns.delivery import outbox
from campaigns.delivery import services as delivery
from campaigns.tests.delivery_helpers import after_due, make_audience, make_employee, scheduled_email

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def outbox_dir(settings, tmp_path):
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    return settings.EMAIL_FILE_PATH


@pytest.fixture
def staff(owner):
    owner.is_staff = True
    owner.save()
    return owner


@pytest.fixture
def sent(outbox_dir, project, owner, monkeypatch, django_capture_on_commit_callbacks):
    """The real pipeline: a scheduled email is dispatched and its batch written by the file backend."""
    project.refresh_from_db()
    people = [
        make_employee(email="asa@example.se", first_name="Åsa", last_name="Öberg"),
        make_employee(email="bo@example.se", first_name="Bo", last_name="Ek"),
    ]
    batches = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(ids))
    asset, send = scheduled_email(project, owner, make_audience(project, *people))
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=after_due(send))
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)
    return asset


def _only_file(outbox_dir) -> str:
    [written] = list(outbox_dir.iterdir())
    return written.name


def test_staff_see_the_newest_messages_with_their_project(client, staff, sent, outbox_dir, project):
    client.force_login(staff)
    with translation.override("en"):
        response = client.get(reverse("campaigns:outbox"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [e.to for e in entries] == ["bo@example.se", "asa@example.se"]  # newest first
    assert all(e.subject.startswith("Hej ") and e.project == project.name for e in entries)
    assert entries[0].asset == sent.title and entries[0].date is not None
    assert "Local outbox" in response.content.decode()


def test_the_message_page_shows_the_html_in_a_sandbox_and_the_text_part(client, staff, sent, outbox_dir):
    client.force_login(staff)
    name = _only_file(outbox_dir)
    response = client.get(reverse("campaigns:outbox_message", args=[name, 0]))
    assert response.status_code == 200
    page = response.content.decode()
    frame_url = reverse("campaigns:outbox_message_html", args=[name, 0])
    assert f'sandbox src="{frame_url}"' in page
    assert "allow-scripts" not in page
    assert "Hej Åsa!" in response.context["m"].text
    assert "frame-src 'self'" in response["Content-Security-Policy"]

    frame = client.get(frame_url)
    assert frame.status_code == 200
    assert "Hej Åsa!" in frame.content.decode()
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    policy = frame["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "script" not in policy  # no script source at all: default-src 'none' holds


def test_a_script_in_the_html_cannot_run(client, staff, outbox_dir):
    html = '<html><head><title>x</title></head><body><script>alert(1)</script><img src="http://evil.example/t.gif"><p onclick="x()">Hej</p></body></html>'
    message = EmailMultiAlternatives("Skript", "Hej", "a@example.se", ["b@example.se"])
    message.attach_alternative(html, "text/html")
    message.send()
    client.force_login(staff)
    name = _only_file(outbox_dir)
    frame = client.get(reverse("campaigns:outbox_message_html", args=[name, 0]))
    body = frame.content.decode()
    assert '<head><base target="_blank"><title>' in body  # links may not open anything from the sandbox
    policy = dict(
        part.strip().split(" ", 1) if " " in part.strip() else (part.strip(), "")
        for part in frame["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert "sandbox" in policy and policy["sandbox"] == ""  # no allow-scripts, no allow-same-origin
    assert "script-src" not in policy
    assert "evil.example" not in policy["img-src"] and "/t/" not in policy["img-src"]
    page = client.get(reverse("campaigns:outbox_message", args=[name, 0])).content.decode()
    assert "<script>alert(1)</script>" not in page  # the HTML is only ever served inside the frame


def test_test_sends_and_attachments_are_listed_too(client, staff, outbox_dir):
    message = EmailMultiAlternatives("Inbjudan", "Välkommen", "a@example.se", ["b@example.se"])
    message.attach("invite.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    message.send()
    client.force_login(staff)
    name = _only_file(outbox_dir)
    m = client.get(reverse("campaigns:outbox_message", args=[name, 0])).context["m"]
    assert m.html is None and m.text.startswith("Välkommen")
    assert m.attachments[0][:2] == ("invite.ics", "text/calendar")
    assert client.get(reverse("campaigns:outbox_message_html", args=[name, 0])).status_code == 404


def test_times_are_shown_in_the_organisations_time_zone(client, staff, outbox_dir):
    message = EmailMultiAlternatives("Inbjudan", "Välkommen", "a@example.se", ["b@example.se"])
    message.extra_headers["Date"] = "Tue, 12 Jan 2027 08:30:00 +0000"  # 09:30 in Stockholm in winter
    message.send()
    client.force_login(staff)
    name = _only_file(outbox_dir)

    listing = client.get(reverse("campaigns:outbox")).content.decode()
    page = client.get(reverse("campaigns:outbox_message", args=[name, 0])).content.decode()

    assert "09:30" in listing and "08:30" not in listing
    assert "09:30" in page  # the raw headers further down keep their own +0000


def test_the_list_is_paginated(client, staff, outbox_dir, settings):
    connection = mail.get_connection()
    connection.send_messages([mail.EmailMessage(f"Nr {i}", "x", "a@example.se", ["b@example.se"]) for i in range(30)])
    client.force_login(staff)
    first = client.get(reverse("campaigns:outbox"))
    assert [e.subject for e in first.context["entries"]][:2] == ["Nr 29", "Nr 28"]
    assert len(first.context["entries"]) == 25
    second = client.get(reverse("campaigns:outbox"), {"page": 2})
    assert [e.subject for e in second.context["entries"]] == [f"Nr {i}" for i in range(4, -1, -1)]


@pytest.mark.parametrize(
    "name",
    [
        "..",
        ".",
        "%2e%2e",
        "..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "x%00.log",
        "nothere.log",
        "secret.txt",
        "link.log",
    ],
)
def test_a_name_that_is_not_a_listed_file_is_a_404(client, staff, sent, outbox_dir, name, tmp_path):
    (outbox_dir / "secret.txt").write_text("From: x\n\nsecret\n" + "-" * 79 + "\n")
    (tmp_path / "elsewhere.log").write_text("From: x\n\nsecret\n" + "-" * 79 + "\n")
    (outbox_dir / "link.log").symlink_to(tmp_path / "elsewhere.log")
    client.force_login(staff)
    for view in ("outbox_message", "outbox_message_html"):
        url = reverse(f"campaigns:{view}", args=["PLACEHOLDER", 0]).replace("PLACEHOLDER", name)
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"secret" not in response.content


def test_outbox_message_refuses_names_as_a_function(outbox_dir, sent):
    name = _only_file(outbox_dir)
    assert outbox.outbox_message(name=name, index=0) is not None
    for bad in ("..", "/etc/passwd", f"../{outbox_dir.name}/{name}", f"{outbox_dir}/{name}", f"{name}\x00", name + "/"):
        assert outbox.outbox_message(name=bad, index=0) is None
    assert outbox.outbox_message(name=name, index=2) is None
    assert outbox.outbox_message(name=name, index=-1) is None


def test_an_index_past_the_end_is_a_404(client, staff, sent, outbox_dir):
    client.force_login(staff)
    name = _only_file(outbox_dir)
    assert client.get(reverse("campaigns:outbox_message", args=[name, 2])).status_code == 404


@pytest.mark.parametrize("who", ["owner", "outsider"])
def test_non_staff_get_a_404(client, request, sent, outbox_dir, who):
    client.force_login(request.getfixturevalue(who))
    name = _only_file(outbox_dir)
    for url in (
        reverse("campaigns:outbox"),
        reverse("campaigns:outbox_message", args=[name, 0]),
        reverse("campaigns:outbox_message_html", args=[name, 0]),
    ):
        assert client.get(url).status_code == 404


def test_anonymous_is_sent_to_the_login(client, outbox_dir):
    response = client.get(reverse("campaigns:outbox"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_with_an_smtp_server_there_is_no_outbox(client, staff, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    client.force_login(staff)
    assert client.get(reverse("campaigns:outbox")).status_code == 404


def test_the_send_page_links_to_the_outbox_for_staff_only(client, staff, viewer, sent, project):
    url = reverse("campaigns:asset_send", args=[project.slug, sent.pk])
    client.force_login(staff)
    assert reverse("campaigns:outbox") in client.get(url).content.decode()
    client.force_login(viewer)
    assert reverse("campaigns:outbox") not in client.get(url).content.decode()


def test_an_empty_or_missing_outbox_is_an_empty_list(client, staff, outbox_dir):
    client.force_login(staff)
    response = client.get(reverse("campaigns:outbox"))
    assert response.status_code == 200 and response.context["entries"] == []
