"""Public tracking endpoints in emails: the open pixel and the click redirect. No login.

The click target is read from the email's TrackedLink row, never from the URL, and every
unknown, malformed or mismatched token or link gets the same plain 404.
"""

import base64
import re

from django.http import HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from campaigns.delivery import services as delivery

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _not_found() -> HttpResponse:
    return HttpResponseNotFound(b"Not found", content_type="text/plain")


@never_cache
@require_safe
def open_pixel(request, token: str):
    if not TOKEN.fullmatch(token) or delivery.engagement_record(token=token, kind="open") is None:
        return _not_found()
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_safe
def click(request, token: str, link_id: int):
    if not TOKEN.fullmatch(token):
        return _not_found()
    target = delivery.engagement_record(token=token, kind="click", link_id=link_id)
    if not target:
        return _not_found()
    response = HttpResponseRedirect(target)
    response["Referrer-Policy"] = "no-referrer"
    return response
