"""Failed logins are throttled by django-axes (settings: LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES);
these are the two hooks it calls: the client's address, and the page a locked-out login gets.
"""

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lib.ratelimit import client_address


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against: the one the rate limits use (None if unknown)."""
    return client_address(request) or None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The lockout page: how long to wait, with axes' status (429) and a Retry-After to match."""
    seconds = int(get_cool_off(request).total_seconds())
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": math.ceil(seconds / 60)},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(seconds)
    return response
