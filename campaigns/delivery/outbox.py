"""The local outbox: the emails Django's file backend wrote, read back for the app to show.

Without an SMTP server (`make run`), every email goes into files under EMAIL_FILE_PATH: one
file per connection (a delivery batch is one connection, so one file holds up to a batch of
messages), each message followed by a line of 79 dashes. This module lists those files,
finds the messages in them, and parses them with the standard `email` package.

A message is addressed by its file's name and its place in the file. The name is only ever
looked up among the files this module lists, never joined to a path as given, so a name
from a URL cannot reach outside the folder.
"""

import email
import email.policy
import os
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from django.conf import settings

from campaigns.models import Delivery

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# What follows every message in the file backend's files.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"
# The names the file backend gives (20261127-091500-140230.log); nothing else in the folder is listed.
FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,120}\.log$")
# (name, size, mtime) -> where each message starts and ends; a file that grows gets a new key.
_OFFSETS: OrderedDict[tuple[str, int, int], list[tuple[int, int]]] = OrderedDict()
_OFFSETS_KEPT = 512


def outbox_enabled() -> bool:
    """True when emails go to the local outbox (the file backend), the only time it can be shown."""
    return settings.EMAIL_BACKEND == FILE_BACKEND and bool(getattr(settings, "EMAIL_FILE_PATH", None))


def outbox_dir() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


@dataclass(frozen=True)
class OutboxFile:
    name: str
    size: int
    mtime_ns: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.name, self.size, self.mtime_ns)


def outbox_files() -> list[OutboxFile]:
    """The outbox's files, newest first. Only regular files with the file backend's kind of name."""
    try:
        entries = list(os.scandir(outbox_dir()))
    except OSError:
        return []
    files = []
    for entry in entries:
        if not FILE_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        stat = entry.stat(follow_symlinks=False)
        files.append(OutboxFile(name=entry.name, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    return sorted(files, key=lambda f: (f.mtime_ns, f.name), reverse=True)


def _offsets(file: OutboxFile) -> list[tuple[int, int]]:
    """(start, end) of every complete message in the file; a message still being written is left out."""
    cached = _OFFSETS.get(file.key)
    if cached is not None:
        _OFFSETS.move_to_end(file.key)
        return cached
    data = (outbox_dir() / file.name).read_bytes()
    offsets, start = [], 0
    while (end := data.find(SEPARATOR, start)) != -1:
        offsets.append((start, end))
        start = end + len(SEPARATOR)
    _OFFSETS[file.key] = offsets
    while len(_OFFSETS) > _OFFSETS_KEPT:
        _OFFSETS.popitem(last=False)
    return offsets


def _read(file: OutboxFile, span: tuple[int, int]) -> bytes:
    with (outbox_dir() / file.name).open("rb") as handle:
        handle.seek(span[0])
        return handle.read(span[1] - span[0])


@dataclass
class OutboxEntry:
    """One message in the list: enough headers to recognise it, and its project when a delivery tells."""

    file: str
    index: int
    to: str = ""
    subject: str = ""
    date: datetime | None = None
    message_id: str = ""
    project: str = ""
    asset: str = ""


class _Messages(Sequence):
    """Every message in the outbox, newest first, as (file, index) pairs; counted without parsing."""

    def __init__(self, files: list[OutboxFile]):
        self.files = [(file, len(_offsets(file))) for file in files]
        self.total = sum(n for _, n in self.files)

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(self.total))]
        if item < 0:
            item += self.total
        for file, n in self.files:
            if item < n:
                return file, n - 1 - item  # the last message of a file is its newest
            item -= n
        raise IndexError(item)


def outbox_messages() -> Sequence:
    """All messages, newest first, ready for a Paginator; `outbox_entries` reads a page of them."""
    return _Messages(outbox_files())


def _header(headers, name: str) -> str:
    try:
        return str(headers.get(name, "") or "")
    except (ValueError, TypeError, IndexError):  # a malformed header is shown as nothing, not a 500
        return ""


def outbox_entries(page: Sequence[tuple[OutboxFile, int]]) -> list[OutboxEntry]:
    """The headers of the given messages, and the project of each campaign email (one query)."""
    entries = []
    for file, index in page:
        headers = BytesHeaderParser(policy=email.policy.default).parsebytes(_read(file, _offsets(file)[index]))
        entry = OutboxEntry(
            file=file.name,
            index=index,
            to=_header(headers, "To"),
            subject=_header(headers, "Subject"),
            message_id=_header(headers, "Message-ID").strip(),
        )
        try:
            entry.date = headers["Date"].datetime if headers["Date"] else None
        except (AttributeError, ValueError, TypeError):
            entry.date = None
        entries.append(entry)
    ids = [e.message_id for e in entries if e.message_id]
    if ids:
        found = {
            message_id: (project, asset)
            for message_id, project, asset in Delivery.objects.filter(message_id__in=ids).values_list(
                "message_id", "asset__project__name", "asset__title"
            )
        }
        for entry in entries:
            entry.project, entry.asset = found.get(entry.message_id, ("", ""))
    return entries


@dataclass
class OutboxMessage:
    """One message, parsed: its headers, its parts as text, and what else is attached."""

    file: str
    index: int
    message: EmailMessage
    headers: list[tuple[str, str]] = field(default_factory=list)
    html: str | None = None
    text: str | None = None
    attachments: list[tuple[str, str, int]] = field(default_factory=list)
    project: str = ""
    asset: str = ""

    @property
    def date(self) -> datetime | None:
        """When it was sent, as an aware datetime (shown in the organisation's time zone), or None."""
        try:
            return self.message["Date"].datetime if self.message["Date"] else None
        except (AttributeError, TypeError, ValueError):
            return None


def _content(part) -> str | None:
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, ValueError, UnicodeError):  # an unknown charset: show the bytes as best we can
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")


def outbox_message(*, name: str, index: int) -> OutboxMessage | None:
    """The message at `index` in the file called `name`, or None when there is no such file or message."""
    file = next((f for f in outbox_files() if f.name == name), None)
    if file is None:
        return None
    offsets = _offsets(file)
    if not 0 <= index < len(offsets):
        return None
    message = email.message_from_bytes(_read(file, offsets[index]), policy=email.policy.default)
    result = OutboxMessage(file=name, index=index, message=message)
    result.headers = [(key, _header(message, key)) for key in message.keys()]
    result.html = _content(message.get_body(("html",)))
    result.text = _content(message.get_body(("plain",)))
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        result.attachments.append((part.get_filename() or "", part.get_content_type(), len(payload)))
    message_id = _header(message, "Message-ID").strip()
    if message_id:
        row = Delivery.objects.filter(message_id=message_id).values_list("asset__project__name", "asset__title").first()
        result.project, result.asset = row or ("", "")
    return result


_HEAD = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def framed_html(html: str) -> str:
    """The HTML part unchanged but for a <base target="_blank">: in the sandboxed frame, which may not
    open windows, links then go nowhere, so reading the outbox never counts as a click."""
    base = '<base target="_blank">'
    match = _HEAD.search(html)
    if match is None:
        return base + html
    return html[: match.end()] + base + html[match.end() :]
