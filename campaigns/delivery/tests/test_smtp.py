"""Handing messages to a relay that offers PIPELINING: refusals keep the replies in step, the next message goes through."""

import smtplib

import pytest

from campaigns.delivery.smtp import sendmail_tracked
from campaigns.tests.worker_harness import SmtpSink

BODY = b"Subject: Hej\r\n\r\nHej!\r\n.a line that starts with a dot\r\n"


@pytest.fixture
def relay():
    with SmtpSink() as sink:
        smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=10)
        smtp.ehlo()
        yield sink, smtp
        smtp.close()


def test_the_relay_offers_pipelining_and_a_message_arrives_whole(relay):
    sink, smtp = relay

    sendmail_tracked(smtp, "launchpad@example.se", ["anna@example.se"], BODY)

    assert smtp.has_extn("pipelining")
    assert sink.handler.received == {"anna@example.se": 1}


def test_a_refused_recipient_leaves_the_connection_ready_for_the_next_message(relay):
    sink, smtp = relay
    sink.handler.refuse_first = 1

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        sendmail_tracked(smtp, "launchpad@example.se", ["anna@example.se"], BODY)
    sendmail_tracked(smtp, "launchpad@example.se", ["bo@example.se"], BODY)

    assert refused.value.recipients["anna@example.se"][0] == 451
    assert sink.handler.received == {"bo@example.se": 1}


def test_a_refused_sender_leaves_the_connection_ready_for_the_next_message(relay):
    sink, smtp = relay
    sink.handler.refuse_mail_first = 1

    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        sendmail_tracked(smtp, "launchpad@example.se", ["anna@example.se"], BODY)
    sendmail_tracked(smtp, "launchpad@example.se", ["bo@example.se"], BODY)

    assert refused.value.smtp_code == 550
    assert sink.handler.received == {"bo@example.se": 1}


def test_a_relay_without_pipelining_gets_one_command_at_a_time(relay):
    sink, smtp = relay
    sink.handler.pipelining = False
    smtp.ehlo()
    sink.handler.refuse_first = 1

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        sendmail_tracked(smtp, "launchpad@example.se", ["anna@example.se"], BODY)
    sendmail_tracked(smtp, "launchpad@example.se", ["bo@example.se"], BODY)

    assert not smtp.has_extn("pipelining")
    assert sink.handler.received == {"bo@example.se": 1}
