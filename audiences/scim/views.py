"""The SCIM 2.0 service provider at /scim/v2/: discovery, and Users that are the directory's employees.

Every view runs behind `scim_endpoint`: a bearer token (401 without one), a bounded body (413),
and every refusal as a SCIM error (application/scim+json with status and scimType). Payloads
are read and checked by scim2-models; the writes are in services.py, the reads in selectors.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import scim2_models as scim
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError

from .auth import scim_token_for
from .schemas import (
    CONTENT_TYPE,
    POLICY,
    ScimPatch,
    ScimUser,
    ScimUserList,
    service_provider_config,
    user_resource_type,
    user_schemas,
)
from .selectors import scim_employee, scim_employees, scim_filter_q, scim_page
from .serializers import employee_resource
from .services import scim_token_used, scim_user_create, scim_user_delete, scim_user_patch, scim_user_replace

View = Callable[..., HttpResponse]


def _response(data: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type=CONTENT_TYPE, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(error: scim.Error, **headers: str) -> HttpResponse:
    return _response(error.model_dump(), status=int(error.status or 400), **headers)


def scim_endpoint(*methods: str) -> Callable[[View], View]:
    """Bearer token, allowed methods, a bounded body, and SCIM errors for every refusal."""

    def decorate(view: View) -> View:
        @csrf_exempt  # a bearer-token API: no cookies, so no cross-site request to forge
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            token = scim_token_for(request)
            if token is None:
                error = scim.UnauthorizedException(detail="a valid bearer token is required").to_error()
                return _error(error, WWW_Authenticate='Bearer realm="scim"')
            if request.method not in methods:
                error = scim.Error(status=405, detail=f"{request.method} is not allowed here")
                return _error(error, Allow=", ".join(methods))
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.SCIM_MAX_BODY_BYTES:
                detail = f"the body is larger than {settings.SCIM_MAX_BODY_BYTES} bytes"
                return _error(scim.PayloadTooLargeException(detail=detail).to_error())
            scim_token_used(token=token)
            request.scim_token = token
            try:
                return view(request, *args, **kwargs)
            except ValidationError as exc:
                return _error(scim.Error.from_validation_errors(exc)[0])
            except scim.SCIMException as exc:
                return _error(exc.to_error())

        return wrapper

    return decorate


def _body(request: HttpRequest) -> dict[str, Any]:
    body = request.body
    if len(body) > settings.SCIM_MAX_BODY_BYTES:
        raise scim.PayloadTooLargeException(detail=f"the body is larger than {settings.SCIM_MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise scim.InvalidSyntaxException(detail="the body is not JSON") from None
    if not isinstance(data, dict):
        raise scim.InvalidSyntaxException(detail="the body is not a JSON object")
    return data


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("scim:users")).removesuffix("/Users")


def _int_parameter(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    digits = raw.removeprefix("-")
    if len(raw) > 10 or not digits.isascii() or not digits.isdigit():
        raise scim.InvalidValueException(detail=f"{name} must be an integer")
    return int(raw)


def _response_parameters(request: HttpRequest) -> scim.ResponseParameters | None:
    given = {key: request.GET[key] for key in ("attributes", "excludedAttributes") if request.GET.get(key, "").strip()}
    return scim.ResponseParameters.model_validate(given) if given else None


def _meta(request: HttpRequest, resource_type: str, path: str) -> scim.Meta:
    return scim.Meta(resource_type=resource_type, location=f"{_base_url(request)}/{path}")


def _user_response(request: HttpRequest, employee, context: scim.Context, status: int = 200) -> HttpResponse:
    user = employee_resource(employee, base_url=_base_url(request))
    data = user.model_dump(scim_ctx=context, response_parameters=_response_parameters(request))
    return _response(data, status=status, **({"Location": user.meta.location} if status == 201 else {}))


def _user_or_404(scim_id: str):
    employee = scim_employee(scim_id)
    if employee is None:
        raise scim.NotFoundException(detail=f"no user has the id {scim_id!r}")
    return employee


@scim_endpoint("GET")
def service_provider_config_view(request: HttpRequest) -> HttpResponse:
    config = service_provider_config().model_copy(
        update={"meta": _meta(request, "ServiceProviderConfig", "ServiceProviderConfig")}
    )
    return _response(config.model_dump(scim_ctx=scim.Context.RESOURCE_QUERY_RESPONSE))


def _resource_type(request: HttpRequest) -> scim.ResourceType:
    return user_resource_type().model_copy(update={"meta": _meta(request, "ResourceType", "ResourceTypes/User")})


def _schemas(request: HttpRequest) -> list[scim.Schema]:
    return [s.model_copy(update={"meta": _meta(request, "Schema", f"Schemas/{s.id}")}) for s in user_schemas()]


def _list(items: list[Any], model: type) -> HttpResponse:
    listing = scim.ListResponse[model](
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items
    )
    return _response(listing.model_dump(scim_ctx=scim.Context.RESOURCE_QUERY_RESPONSE))


@scim_endpoint("GET")
def resource_types_view(request: HttpRequest) -> HttpResponse:
    if request.GET.get("filter"):
        raise scim.ForbiddenException(detail="the ResourceTypes endpoint is not filtered")
    return _list([_resource_type(request)], scim.ResourceType)


@scim_endpoint("GET")
def resource_type_view(request: HttpRequest, name: str) -> HttpResponse:
    if name != "User":
        raise scim.NotFoundException(detail=f"no resource type is named {name!r}")
    return _response(_resource_type(request).model_dump(scim_ctx=scim.Context.RESOURCE_QUERY_RESPONSE))


@scim_endpoint("GET")
def schemas_view(request: HttpRequest) -> HttpResponse:
    if request.GET.get("filter"):
        raise scim.ForbiddenException(detail="the Schemas endpoint is not filtered")
    return _list(_schemas(request), scim.Schema)


@scim_endpoint("GET")
def schema_view(request: HttpRequest, urn: str) -> HttpResponse:
    for schema in _schemas(request):
        if schema.id == urn:
            return _response(schema.model_dump(scim_ctx=scim.Context.RESOURCE_QUERY_RESPONSE))
    raise scim.NotFoundException(detail=f"no schema has the id {urn!r}")


@scim_endpoint("GET", "POST")
def users_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        user = ScimUser.model_validate(
            _body(request), scim_ctx=scim.Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
        )
        employee = scim_user_create(user=user, token=request.scim_token)
        return _user_response(request, employee, scim.Context.RESOURCE_CREATION_RESPONSE, status=201)
    start_index = max(1, _int_parameter(request, "startIndex", 1))
    count = min(max(0, _int_parameter(request, "count", settings.SCIM_MAX_RESULTS)), settings.SCIM_MAX_RESULTS)
    parameters = _response_parameters(request)
    employees = scim_employees()
    if text := request.GET.get("filter", "").strip():
        employees = employees.filter(scim_filter_q(text))
    total, page = scim_page(employees, start_index=start_index, count=count)
    base_url = _base_url(request)
    listing = ScimUserList(
        total_results=total,
        start_index=start_index,
        items_per_page=len(page),
        resources=[employee_resource(employee, base_url=base_url) for employee in page],
    )
    return _response(listing.model_dump(scim_ctx=scim.Context.RESOURCE_QUERY_RESPONSE, response_parameters=parameters))


@scim_endpoint("GET", "PUT", "PATCH", "DELETE")
def user_view(request: HttpRequest, scim_id: str) -> HttpResponse:
    employee = _user_or_404(scim_id)
    token = request.scim_token
    if request.method == "GET":
        return _user_response(request, employee, scim.Context.RESOURCE_QUERY_RESPONSE)
    if request.method == "DELETE":
        scim_user_delete(employee=employee, token=token)
        return HttpResponse(status=204)
    data = _body(request)
    if request.method == "PUT":
        user = ScimUser.model_validate(data, scim_ctx=scim.Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY)
        employee = scim_user_replace(employee=employee, user=user, token=token)
        return _user_response(request, employee, scim.Context.RESOURCE_REPLACEMENT_RESPONSE)
    patch = ScimPatch.model_validate(data, scim_ctx=scim.Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY)
    employee = scim_user_patch(employee=employee, patch=patch, token=token, base_url=_base_url(request))
    return _user_response(request, employee, scim.Context.RESOURCE_PATCH_RESPONSE)


@scim_endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    if rest.rstrip("/").endswith(".search"):
        raise scim.NotImplementedException(detail="searching with POST /.search is not supported")
    raise scim.NotFoundException(detail="no such endpoint")


@csrf_exempt  # the view it hands over to is exempt for the same reason
def extra_slash_view(request: HttpRequest, rest: str) -> HttpResponse:
    """Serve `…/v2//Users` as `…/v2/Users`: the request goes to the view the path names without the slash."""
    match = resolve(reverse("scim:users").removesuffix("Users") + rest.lstrip("/"))
    return match.func(request, *match.args, **match.kwargs)
