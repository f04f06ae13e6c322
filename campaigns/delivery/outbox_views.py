"""The local outbox in the app: staff read what `make run` "sent", as the employee would see it.

Shown only while the file backend is the email backend (a 404 otherwise, and for anyone who is
not staff). The HTML part is served on its own URL for a sandboxed frame: no scripts, no forms,
no windows, images only from this site's media and static files, so the open pixel and the
click redirect never fire from here.
"""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from campaigns.delivery import outbox

PER_PAGE = 25


def _check(request) -> None:
    if not (request.user.is_active and request.user.is_staff and outbox.outbox_enabled()):
        raise Http404


def _message(name: str, index: int) -> outbox.OutboxMessage:
    message = outbox.outbox_message(name=name, index=index)
    if message is None:
        raise Http404
    return message


def frame_policy(request) -> str:
    """The frame's Content-Security-Policy: a sandbox, inline styles, images from media and static only."""
    sources = {"data:"}
    for base in (settings.SITE_URL, request.build_absolute_uri("/").rstrip("/")):
        for prefix in (settings.MEDIA_URL, settings.STATIC_URL):
            sources.add(f"{base}/{prefix.strip('/')}/")
    return (
        "default-src 'none'; "
        f"img-src {' '.join(sorted(sources))}; "
        "style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox"
    )


@never_cache
@require_safe
@login_required
def outbox_list(request):
    _check(request)
    page = Paginator(outbox.outbox_messages(), PER_PAGE).get_page(request.GET.get("page"))
    entries = outbox.outbox_entries(page.object_list)
    return render(request, "campaigns/outbox.html", {"page": page, "entries": entries})


@never_cache
@require_safe
@login_required
@csp_update({"frame-src": ["'self'"]})
def outbox_message(request, name: str, index: int):
    _check(request)
    message = _message(name, index)
    return render(request, "campaigns/outbox_message.html", {"m": message})


@never_cache
@require_safe
@login_required
@xframe_options_sameorigin
def outbox_message_html(request, name: str, index: int):
    """The HTML part alone, for the message page's sandboxed frame."""
    _check(request)
    message = _message(name, index)
    if message.html is None:
        raise Http404
    response = HttpResponse(outbox.framed_html(message.html), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = frame_policy(request)
    return response
