"""The JSON API under /api/ (django-ninja): one NinjaAPI with a router per app, one authentication
rule (gisportal.core.apiauth.ApiAuth), one error mapper to RFC 9457 problem JSON, the generated
OpenAPI document at /api/schema/ (and /api/openapi.json) and its documentation page at /api/docs,
Swagger UI from our own static files.

Wiring only: the routers (services/forms/api.py, services/cases/api.py, layers/api.py,
services/offices/imports.py) declare their endpoints and schemas."""

from __future__ import annotations

import functools
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.openapi.views import openapi_json
from ninja.renderers import JSONRenderer

from gisportal.core.apiauth import ApiAuthError
from gisportal.core.errors import GisportalError
from gisportal.core.problems import CONTENT_TYPE, Problem, problem
from layers import api as layers_api
from services.cases import api as cases_api
from services.delivery import api as delivery_api
from services.documents import api as documents_api
from services.exchange import api as exchange_api
from services.forms import api as forms_api
from services.offices import imports
from services.payments import api as payments_api
from services.signatures import api as signatures_api
from services.surveys import api as surveys_api
from services.surveys import results_api as survey_results_api

DESCRIPTION = (
    "E-forms of the Piaseczno offices, their fees, case status, the KPA deadline calculator, the registry's public "
    "parcels and search, and registry imports. Errors are RFC 9457 problem details (`type` ends with a machine "
    "code; `title` and `detail` in the request's language, Polish unless English is asked for; `errors` maps "
    "fields to messages).\n\nAuthentication: offices' systems send an API key as `Authorization: Bearer <key>` "
    "(or `X-API-Key: <key>`); keys are issued by the portal's administrator (`gisportal api-key create`), shown "
    "once and stored only hashed. An unknown, revoked or expired key is a 401, never anonymous access. Browsers "
    "use the portal session, with the CSRF token (`X-CSRFToken`) on unsafe methods. HTTP Basic still works for "
    "existing systems but is throttled: repeated wrong passwords lock the account (from that address) and the "
    "address for a while, answered with 429 and Retry-After; outside the e-forms API an unsafe request with "
    "HTTP Basic needs the CSRF token too (browsers resend Basic credentials by themselves)."
)
SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "gp_<43 characters>",
        "description": "API key of an office's system (gisportal api-key create)",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "the same key in its own header",
    },
    "basic": {
        "type": "http",
        "scheme": "basic",
        "description": "user name and password; throttled (429 when locked out)",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "sessionid",
        "description": "the portal's session; unsafe methods need the CSRF token",
    },
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "about:blank#<code>: the code is the machine-readable part",
        },
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the path asked for"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "messages per field (a form's or the request's)",
        },
    },
    "additionalProperties": True,
}
AUTH_RESPONSES = {
    "401": "not authenticated, or a bad API key or password",
    "403": "not allowed, or the CSRF check failed",
    "429": "HTTP Basic locked out after repeated wrong passwords; see Retry-After",
}
# pydantic's error types → our messages (pydantic's own are English only)
VALIDATION_MESSAGES = {
    "missing": gettext_lazy("This value is required."),
    "int_parsing": gettext_lazy("Give a whole number."),
    "int_type": gettext_lazy("Give a whole number."),
    "int_from_float": gettext_lazy("Give a whole number."),
    "bool_parsing": gettext_lazy("Give true or false."),
    "bool_type": gettext_lazy("Give true or false."),
    "greater_than_equal": gettext_lazy("The number is out of range."),
    "less_than_equal": gettext_lazy("The number is out of range."),
    "literal_error": gettext_lazy("This value is not one of those allowed."),
    "string_too_long": gettext_lazy("The value is too long."),
    "json_invalid": gettext_lazy("The request body is not valid JSON."),
}


class GisportalAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["servers"] = [{"url": settings.GISPORTAL_PUBLIC_URL}]
        schema["security"] = [{name: []} for name in SECURITY_SCHEMES]
        components = schema.setdefault("components", {})
        components["securitySchemes"] = SECURITY_SCHEMES
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for operations in schema["paths"].values():
            for operation in operations.values():
                _document_errors(operation)
        return schema


def _document_errors(operation: dict) -> None:
    """Security as the document's default (authenticated) or none (public); every 4xx a problem JSON."""
    authenticated = bool(operation.pop("security", None))
    if not authenticated:
        operation["security"] = []
    responses = {str(code): value for code, value in operation.get("responses", {}).items()}
    if operation.get("parameters") or operation.get("requestBody"):
        responses.setdefault("400", {"description": "invalid request; `errors` maps fields to messages"})
    if authenticated:
        for code, text in AUTH_RESPONSES.items():
            responses.setdefault(code, {"description": text})
    for code, value in responses.items():
        if int(code) >= 400:
            value["content"] = {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operation["responses"] = dict(sorted(responses.items()))


class Utf8Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Polish letters as they are, as our other JSON


class OwnSwagger(DocsBase):
    """Swagger UI from our static files (strict CSP: no inline script, no CDN)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(
            request, "web/api_docs.html", {"schema_url": reverse(f"{api.urls_namespace}:openapi-json")}
        )


api = GisportalAPI(
    title="gisportal API",
    version="1.0",
    description=DESCRIPTION,
    urls_namespace="api",
    openapi_url="/schema/",
    docs=OwnSwagger(),
    docs_url="/docs",
    renderer=Utf8Renderer(),
)
api.add_router("", forms_api.router)
api.add_router("", cases_api.router)
api.add_router("", layers_api.router)
api.add_router("", imports.router)
api.add_router("", payments_api.router)
api.add_router("", documents_api.router)
api.add_router("", signatures_api.router)
api.add_router("", exchange_api.router)
api.add_router("", delivery_api.router)
api.add_router("", surveys_api.router)
api.add_router("", survey_results_api.router)


# ---------------------------------------------------------------- the error mapper: every error → problem JSON
def _instance(request: HttpRequest) -> str:
    return request.path


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return exc.response(_instance(request))


@api.exception_handler(GisportalError)
def _gisportal_error(request, exc: GisportalError):
    extra = {"errors": exc.errors} if isinstance(getattr(exc, "errors", None), dict) else {}
    return problem(exc.status, str(exc.message), code=exc.code, instance=_instance(request), **extra)


@api.exception_handler(ApiAuthError)
def _auth_error(request, exc: ApiAuthError):
    response = exc.response
    body = json.loads(response.content)
    body["instance"] = _instance(request)
    response.content = json.dumps(body, ensure_ascii=False).encode()
    return response


@api.exception_handler(AuthenticationError)
def _not_authenticated(request, exc):
    return problem(401, _("Log in first."), code="not_authenticated", instance=_instance(request))


@api.exception_handler(Throttled)
def _throttled(request, exc):
    return problem(
        429,
        _("Too many attempts. Try again in a few minutes."),
        code="throttled",
        instance=_instance(request),
    )


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
        message = VALIDATION_MESSAGES.get(error.get("type", ""), gettext_lazy("The value is not valid."))
        errors.setdefault(".".join(loc) or "__all__", []).append(str(message))
    return problem(
        400, _("The request is invalid."), code="invalid_input", instance=_instance(request), errors=errors
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):  # the body is not JSON
        return problem(
            400, _("The request body is not valid JSON."), code="bad_json", instance=_instance(request)
        )
    return problem(exc.status_code, str(exc), instance=_instance(request))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(404, _("Not found."), code="not_found", instance=_instance(request))


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return problem(413, _("The request body is too large."), code="too_large", instance=_instance(request))


@api.exception_handler(Exception)
def _unexpected(request, exc):
    raise exc  # Django answers (gisportal.middleware turns an unavailable database into a 503 problem)


def _schema_alias(request):
    return openapi_json(request, api=api)


def _method_problem(view):
    """django-ninja answers a method no operation takes with a plain 405: ours is problem JSON too."""

    @functools.wraps(view)  # keeps csrf_exempt: unsafe requests are checked by ApiAuth
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "") == CONTENT_TYPE:
            return response
        allowed = response.get("Allow", "")
        answer = problem(
            405,
            _("Use one of these methods: %(methods)s.") % {"methods": allowed},
            code="method_not_allowed",
            instance=request.path,
        )
        answer["Allow"] = allowed
        return answer

    return wrapped


_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    if isinstance(_pattern, URLPattern):
        _pattern.callback = _method_problem(_pattern.callback)
urlpatterns = [
    path("api/openapi.json", _schema_alias, name="openapi"),  # the document's former address, kept
    path("api/", (_patterns, _app, _namespace)),
]
