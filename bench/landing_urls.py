"""The app's URLs plus `/bench/minimal/`: the smallest Django view, through the same middleware."""

from django.http import HttpResponse
from django.urls import path

from launchpad.urls import urlpatterns as app_urlpatterns


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *app_urlpatterns]
