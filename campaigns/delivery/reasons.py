"""Why a delivery waits or failed: stored without a language, read in the reader's.

A worker writes the reason in whatever language it runs in (the organisation's default), but
the send page is read by a Swedish and an English change manager alike. So Launchpad's own
reasons are stored as a code with their values, as JSON (the way Django's admin log keeps its
change messages), and put into words when shown, in the language of the page. A relay's reply
("550 5.1.1 User unknown") or a network error is stored as it came: it is the server's text.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

MAX_LENGTH = 500  # Delivery.last_error
_TEXT_LIMIT = 300  # a free-text value inside a stored reason, so the whole stays within MAX_LENGTH

COMPOSE = "compose"
ERASED = "erased"
PACED = "paced"
GAVE_UP = "gave_up"


_KNOWN = {COMPOSE, ERASED, PACED, GAVE_UP}
_FREE_TEXT = ("error", "reply")


def _halved(data: dict[str, Any]) -> dict[str, Any]:
    shorter = {key: value[: len(value) // 2] if key in _FREE_TEXT else value for key, value in data.items()}
    if isinstance(data.get("cause"), dict):
        shorter["cause"] = _halved(data["cause"])
    return shorter


def _stored(code: str, **values: Any) -> str:
    data = {"code": code, **values}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    while len(text) > MAX_LENGTH:  # escaped control characters made it longer: shorten the free text
        data = _halved(data)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text


def could_not_compose(error: Exception | str) -> str:
    """The email could not be composed for this person (the error's text kept as it came)."""
    return _stored(COMPOSE, error=str(error)[:_TEXT_LIMIT])


def erased() -> str:
    """The recipient was erased from the directory before the message went out."""
    return _stored(ERASED)


def paced() -> str:
    """A paced batch ran long and handed the rest to a new batch."""
    return _stored(PACED)


def gave_up(attempts: int, reason: str) -> str:
    """The attempts are used up; `reason` is the last one (stored form or a server's reply)."""
    cause = _parsed(reason)
    if cause is not None:
        return _stored(GAVE_UP, attempts=attempts, cause=cause)
    return _stored(GAVE_UP, attempts=attempts, reply=reason[:_TEXT_LIMIT])


def _parsed(stored: str) -> dict[str, Any] | None:
    if not stored.startswith("{"):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("code") in _KNOWN else None


def _words(data: dict[str, Any]) -> str:
    code = data["code"]
    if code == COMPOSE:
        return _("The email could not be composed: %(error)s") % {"error": data.get("error", "")}
    if code == PACED:
        return _("Paced: continued in a new batch.")
    if code == GAVE_UP:
        cause = data.get("cause")
        last = _words(cause) if isinstance(cause, dict) and cause.get("code") in _KNOWN else str(data.get("reply", ""))
        return _("Gave up after %(n)d attempts: %(reason)s") % {"n": int(data.get("attempts", 0)), "reason": last}
    return _("The recipient was erased from the directory.")  # ERASED


def reason_text(stored: str) -> str:
    """A stored reason in the active language; a server's reply (or older plain text) as it is."""
    data = _parsed(stored or "")
    return _words(data) if data is not None else stored or ""
