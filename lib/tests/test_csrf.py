"""lib.csrf: the landing page's masked CSRF token is accepted by Django's own check, and only for its cookie."""

from collections import Counter

import pytest
from django.http import HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    _get_new_csrf_string,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from lib.csrf import masked_token


def _request_with_cookie(secret: str):
    request = RequestFactory().get("/")
    request.COOKIES["csrftoken"] = secret
    CsrfViewMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


def _post(secret: str, token: str):
    request = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    request.COOKIES["csrftoken"] = secret
    middleware = CsrfViewMiddleware(lambda r: HttpResponse("ok"))
    middleware.process_request(request)
    return middleware.process_view(request, lambda r: HttpResponse("ok"), (), {})


def test_the_token_unmasks_to_the_cookies_secret_and_changes_every_time():
    secret = _get_new_csrf_string()
    request = _request_with_cookie(secret)
    tokens = {masked_token(request) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == 2 * CSRF_SECRET_LENGTH and set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
    assert "CSRF_COOKIE_NEEDS_UPDATE" not in request.META  # the cookie is not sent again on every page


def test_djangos_check_accepts_it_for_its_cookie_only():
    secret, other = _get_new_csrf_string(), _get_new_csrf_string()
    token = masked_token(_request_with_cookie(secret))
    assert _post(secret, token) is None  # None: the view may run
    assert _post(other, token).status_code == 403


def test_a_visitor_without_a_cookie_gets_one_through_django():
    request = RequestFactory().get("/")
    CsrfViewMiddleware(lambda r: HttpResponse()).process_request(request)
    token = masked_token(request)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


@pytest.mark.parametrize("cookie", ["short", "x" * 31 + "!", ""])
def test_an_odd_cookie_goes_through_django(cookie):
    request = _request_with_cookie(cookie)
    token = masked_token(request)
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert len(request.META["CSRF_COOKIE"]) == CSRF_SECRET_LENGTH


def test_the_mask_has_no_favourite_characters():
    request = _request_with_cookie(_get_new_csrf_string())
    counts = Counter("".join(masked_token(request)[:CSRF_SECRET_LENGTH] for _ in range(4000)))
    expected = 4000 * CSRF_SECRET_LENGTH / len(CSRF_ALLOWED_CHARS)
    # A modulo bias would give the first 8 characters about 25 % more; random spread is about 2 %.
    assert max(counts.values()) < expected * 1.1 and min(counts.values()) > expected * 0.9
