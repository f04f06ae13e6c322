"""A delivery's reason is stored in no language and read in the reader's."""

from django.utils import translation

from campaigns.delivery import reasons
from campaigns.models import Delivery


def test_a_reason_written_in_swedish_reads_in_english_and_back():
    with translation.override("sv"):
        stored = reasons.gave_up(3, reasons.erased())
    with translation.override("en"):
        assert reasons.reason_text(stored) == "Gave up after 3 attempts: The recipient was erased from the directory."
    with translation.override("sv"):
        assert reasons.reason_text(stored) == "Gav upp efter 3 försök: Mottagaren har raderats ur medarbetarregistret."


def test_a_servers_reply_and_older_plain_text_are_shown_as_they_are():
    assert reasons.reason_text("550 5.1.1 User unknown") == "550 5.1.1 User unknown"
    assert reasons.reason_text('{"not": "ours"}') == '{"not": "ours"}'
    assert reasons.reason_text("") == ""
    with translation.override("en"):
        assert reasons.reason_text(reasons.gave_up(2, "452 4.2.2 Mailbox full")) == (
            "Gave up after 2 attempts: 452 4.2.2 Mailbox full"
        )


def test_a_long_error_full_of_control_characters_still_fits_the_column():
    max_length = Delivery._meta.get_field("last_error").max_length
    stored = reasons.gave_up(5, reasons.could_not_compose(ValueError("\x00\n" * 2000)))
    assert len(stored) <= max_length
    with translation.override("en"):
        assert reasons.reason_text(stored).startswith("Gave up after 5 attempts: The email could not be composed: ")
