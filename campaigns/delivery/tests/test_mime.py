"""Headers that make replies reach a person, keep auto-replies away, and make every email Launchpad
sends (campaign, test send, booking) carry the same Date and encoding."""

import email
import email.policy
import re

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.delivery import services as delivery
from campaigns.delivery.emails import landing_url_for, preview_landing_url, render_campaign_email
from campaigns.landing import services as landing
from campaigns.models import ReplyTo
from campaigns.tests.delivery_helpers import after_due, make_audience, make_employee, scheduled_email
from campaigns.tests.landing_helpers import clean_cache  # noqa: F401
from campaigns.tests.landing_helpers import make_meeting as make_meeting_with_sessions

pytestmark = pytest.mark.django_db

LOCAL_DATE = re.compile(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0[12]00$")  # Stockholm, not "-0000"


def _parse(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=email.policy.default)


def _send(project, owner, monkeypatch, capture, **fields):
    """Send one campaign email to Anna through the real pipeline; her message, parsed."""
    project.refresh_from_db()
    batches = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(ids))
    anna = make_employee()
    asset, send = scheduled_email(project, owner, make_audience(project, anna), **fields)
    with capture(execute=True):
        delivery.dispatch_due(now=after_due(send))
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)
    (message,) = mail.outbox
    return asset, anna, _parse(message)


def test_a_recipients_copy_replies_to_the_change_manager_and_silences_auto_replies(
    project, owner, monkeypatch, django_capture_on_commit_callbacks
):
    _asset, _anna, message = _send(
        project, owner, monkeypatch, django_capture_on_commit_callbacks, sender_kind="change_manager"
    )
    assert message["Reply-To"].addresses[0].addr_spec == owner.email
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert LOCAL_DATE.match(message["Date"]), message["Date"]


def test_replies_go_to_the_function_mailbox_when_the_email_says_so(
    project, owner, monkeypatch, django_capture_on_commit_callbacks
):
    project.function_mailbox = "atlas@example.se"
    project.save(update_fields=["function_mailbox"])
    _asset, _anna, message = _send(
        project, owner, monkeypatch, django_capture_on_commit_callbacks, reply_to=ReplyTo.MAILBOX
    )
    (address,) = message["Reply-To"].addresses
    assert address.addr_spec == "atlas@example.se" and address.display_name == project.name


def test_a_named_senders_own_address_takes_the_replies(project, owner, monkeypatch, django_capture_on_commit_callbacks):
    _asset, _anna, message = _send(
        project,
        owner,
        monkeypatch,
        django_capture_on_commit_callbacks,
        sender_kind="named",
        sender_name="Åsa Öberg",
        sender_email="asa.oberg@example.se",
    )
    (address,) = message["Reply-To"].addresses
    assert (address.display_name, address.addr_spec) == ("Åsa Öberg", "asa.oberg@example.se")


def test_a_test_send_is_built_exactly_as_the_recipients_copy(
    client, project, owner, editor, monkeypatch, django_capture_on_commit_callbacks
):
    asset, anna, real = _send(project, owner, monkeypatch, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    client.force_login(editor)
    client.post(reverse("campaigns:asset_test_send", args=[project.slug, asset.pk]), {"employee": anna.pk})
    (sent,) = mail.outbox
    test = _parse(sent)

    assert list(test.keys()) == list(real.keys())  # the same headers, in the same order
    assert test["Subject"] == "[Test] " + real["Subject"]
    for header in ("From", "Reply-To", "Auto-Submitted", "X-Auto-Response-Suppress"):
        assert test[header] == real[header]
    assert LOCAL_DATE.match(test["Date"])
    parts = [(p.get_content_type(), p["Content-Transfer-Encoding"], p.get_content_charset()) for p in test.walk()]
    assert parts == [
        (p.get_content_type(), p["Content-Transfer-Encoding"], p.get_content_charset()) for p in real.walk()
    ]
    assert parts[1:] == [("text/plain", "quoted-printable", "utf-8"), ("text/html", "quoted-printable", "utf-8")]
    # The body is the renderer's, byte for byte, with the general link in place of Anna's own.
    rendered = render_campaign_email(asset=asset, employee=anna, landing_url=preview_landing_url(project))
    assert test.get_body(("html",)).get_content().replace("\r\n", "\n") == rendered.html.replace("\r\n", "\n")
    real_html = real.get_body(("html",)).get_content()
    assert real_html.count(landing_url_for(project, anna)) == rendered.html.count(preview_landing_url(project))


@pytest.mark.usefixtures("clean_cache")
def test_booking_mail_has_the_campaigns_date_encoding_and_reply_to(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    project.function_mailbox = "atlas@example.se"
    project.save(update_fields=["function_mailbox"])
    anna = make_employee(language="sv")
    link = landing.landing_token_for(project=project, employee=anna)
    _meeting, (session,) = make_meeting_with_sessions(project)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/p/{link.token}/book/", {"session": session.pk})

    (message,) = smtp_inbox.messages()
    assert message["Reply-To"].addresses[0].addr_spec == "atlas@example.se"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert LOCAL_DATE.match(message["Date"]), message["Date"]
    text = message.get_body(("plain",))
    assert (text["Content-Transfer-Encoding"], text.get_content_charset()) == ("quoted-printable", "utf-8")
    attachment = next(p for p in message.walk() if p.get_filename() == "invite.ics")
    assert attachment.get_params().count(("charset", "utf-8")) == 1  # was given twice


def test_the_mailbox_choice_needs_a_mailbox(client, project, editor, english):
    from campaigns.plan.tests.test_assets import _email_data, _url

    client.force_login(editor)
    response = client.post(_url("asset_create", project, channel="email"), _email_data(reply_to="mailbox"))
    assert response.status_code == 200 and "function mailbox" in response.content.decode()
    assert not project.assets.exists()

    project.function_mailbox = "atlas@example.se"
    project.save(update_fields=["function_mailbox"])
    response = client.post(_url("asset_create", project, channel="email"), _email_data(reply_to="mailbox"))
    assert response.status_code == 302
    assert project.assets.get().reply_to == ReplyTo.MAILBOX


@pytest.mark.parametrize(
    "text",
    [
        "Hej Åsa!\nRad två med = och ö\n",
        "slutar med mellanslag \nslutar med tab\t\nsista raden slutar med mellanslag ",
        "x" * 75 + " \n" + "å" * 40 + "\t\n" + "y" * 76 + "\n.\n\n",
        "<p>" + "lång rad med ord och € " * 20 + "</p>\r\n<p>CRLF</p>\rCR",
    ],
)
def test_lines_encoded_one_by_one_join_to_the_whole_parts_encoding(text):
    from campaigns.delivery.mime import quoted_printable, quoted_printable_line

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    joined = b"\r\n".join(quoted_printable_line(line, last=at == len(lines) - 1) for at, line in enumerate(lines))

    assert joined == quoted_printable(text)
