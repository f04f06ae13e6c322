"""HTML to PDF with WeasyPrint, fetching nothing but our own files.

WeasyPrint would happily open any URL a document names: `file:///etc/passwd` as an
image, `http://169.254.169.254/` in an `@import`, the Redis port on localhost. The
fetcher here opens no network connection at all. It accepts `data:` URIs (size-capped)
and files inside MEDIA_ROOT and the static folders, addressed either as `file:` URLs
or as our own `/media/…` and `/static/…` URLs under `base_url`; each path is resolved
(symlinks and `..` included) and must still lie inside its folder. Everything else is
refused with a warning in the log, and WeasyPrint leaves the resource out.

A render also has a time limit (`time_limit`); the Celery task's soft and hard time
limits back it up for the rare case of a long call inside native code.
"""

import base64
import binascii
import ctypes
import logging
import mimetypes
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

from django.conf import settings
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)
# WeasyPrint logs every layout step at INFO; a worker log needs only its warnings (refused fetches).
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

MAX_DATA_URI_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 25 * 1024 * 1024


# After the time limit, the stop is raised again this often until the render has stopped.
REPEAT_SECONDS = 0.5


class FetchRefused(ValueError):
    """A document asked for a resource outside what a render may read."""


class RenderTimeout(BaseException):
    """The render took longer than its time limit.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` inside WeasyPrint
    (which it uses around resource loading) swallows it and carries on rendering.
    """


def allowed_roots() -> list[Path]:
    """The folders a render may read from: media, the collected static files and our static sources."""
    roots = [settings.MEDIA_ROOT, settings.STATIC_ROOT, *settings.STATICFILES_DIRS]
    return [Path(root).resolve() for root in roots if root]


class SafeFetcher(URLFetcher):
    """A WeasyPrint URL fetcher limited to `data:` URIs and our own media and static files."""

    def __init__(self, base_url: str):
        # The parent's opener is never used: every URL goes through `fetch` below.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.media_prefix = urljoin(base_url, settings.MEDIA_URL)
        self.static_prefix = urljoin(base_url, settings.STATIC_URL)
        self.media_roots = [Path(settings.MEDIA_ROOT).resolve()]
        self.static_roots = [Path(r).resolve() for r in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS) if r]

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        try:
            return self._fetch(url)
        except FetchRefused as exc:
            logger.warning("pdf render refused to fetch %.200r: %s", url, exc)
            raise

    def _fetch(self, url: str) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            if len(url) > MAX_DATA_URI_BYTES * 4 // 3 + 100:
                raise FetchRefused("data URI too large")
            return self._data(url)
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise FetchRefused("file URL on another host")
            return self._file(Path(unquote(parts.path)), self.media_roots + self.static_roots, url)
        bare = url.split("#", 1)[0].split("?", 1)[0]
        for prefix, roots in ((self.media_prefix, self.media_roots), (self.static_prefix, self.static_roots)):
            if bare.startswith(prefix):
                relative = unquote(bare[len(prefix) :])
                return self._file_in_roots(relative, roots, url)
        raise FetchRefused("not a data URI or one of our media or static files")

    def _data(self, url: str) -> URLFetcherResponse:
        header, comma, payload = url[len("data:") :].partition(",")
        if not comma:
            raise FetchRefused("malformed data URI")
        if header.lower().endswith(";base64"):
            header = header[: -len(";base64")]
            try:
                body = base64.b64decode(unquote_to_bytes(payload), validate=False)
            except binascii.Error:
                raise FetchRefused("malformed base64 in data URI") from None
        else:
            body = unquote_to_bytes(payload)
        content_type = header.split(";", 1)[0].strip() or "text/plain"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _file_in_roots(self, relative: str, roots: list[Path], url: str) -> URLFetcherResponse:
        if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative:
            raise FetchRefused("bad path")
        for root in roots:
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                return self._open(candidate, url)
        raise FetchRefused("no such file in our media or static folders")

    def _file(self, path: Path, roots: list[Path], url: str) -> URLFetcherResponse:
        if "\x00" in str(path):
            raise FetchRefused("bad path")
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in roots):
            raise FetchRefused("file outside our media and static folders")
        if not resolved.is_file():
            raise FetchRefused("no such file")
        return self._open(resolved, url)

    def _open(self, path: Path, url: str) -> URLFetcherResponse:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FetchRefused("file too large")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


@contextmanager
def time_limit(seconds: float | None):
    """Raise RenderTimeout inside the block once `seconds` have passed (no limit when falsy).

    On the main thread (a Celery prefork or solo worker, a management command) SIGALRM
    interrupts the render. On any other thread (runserver, a threaded worker pool, a test
    runner) a watchdog timer raises the exception asynchronously in the rendering thread,
    at its next Python bytecode.
    """
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _watchdog(seconds):
            yield


@contextmanager
def _alarm(seconds: float):
    def _expired(signum, frame):
        raise RenderTimeout(f"stopped after {seconds:g} seconds")

    previous = signal.signal(signal.SIGALRM, _expired)
    # The alarm repeats until the block ends: an exception raised while Python code runs inside
    # a C callback (cffi, used for fonts and images) is printed and dropped there, so one alarm
    # alone could be lost and the render would run on.
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _watchdog(seconds: float):
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False}

    stop = threading.Event()

    def _expire() -> None:
        # Raised again every REPEAT_SECONDS until the block ends, for the reason given in `_alarm`.
        if stop.wait(seconds):
            return
        while True:
            with lock:
                if state["done"]:
                    return
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(RenderTimeout))
            if stop.wait(REPEAT_SECONDS):
                return

    watchdog = threading.Thread(target=_expire, name="pdf-time-limit", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            # Drop a stop raised but not yet delivered, so it cannot surface after the block.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
        stop.set()


def html_to_pdf(html: str, *, base_url: str, timeout: float | None = None) -> bytes:
    """Render `html` to PDF bytes; resources resolve against `base_url` through `SafeFetcher`.

    Raises RenderTimeout when `timeout` seconds pass first.
    """
    with time_limit(timeout):
        document = HTML(string=html, base_url=base_url, url_fetcher=SafeFetcher(base_url))
        return document.write_pdf()
