"""Who is calling the JSON API: the one helper every JSON endpoint that authenticates uses.

In this order:
1. an API key, `Authorization: Bearer <key>` or `X-API-Key: <key>` (the way for offices' systems):
   an unknown, revoked or expired key, or the key of an inactive account, is a 401, never anonymous;
2. HTTP Basic (kept for existing systems): user name and password through authenticate(), throttled
   by django-axes: wrong is a 401, a locked-out client a 429 with Retry-After;
3. the portal session; a POST then must carry the CSRF token (403).
Nothing sent: anonymous (None); the endpoint decides whether that is allowed.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from django.contrib.auth import authenticate
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.translation import gettext as _

from .actions import api_key_used, key_digest, key_prefix, key_well_formed
from .models import ApiKey
from .problems import problem
from .throttling import USERNAME_MAX, lockout_problem

PASSWORD_MAX = 4096
CHALLENGE = 'Bearer realm="gisportal"'


class ApiAuthError(Exception):
    """Credentials were sent and do not hold: `response` is the problem JSON to answer with."""

    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def _unauthorized(detail: str, code: str) -> ApiAuthError:
    response = problem(401, detail, code=code)
    response["WWW-Authenticate"] = CHALLENGE
    return ApiAuthError(response)


def _header_key(request) -> str | None:
    """The API key the request carries, None when it carries none."""
    authorization = request.headers.get("Authorization", "")
    x_api_key = request.headers.get("X-API-Key")
    if x_api_key is not None:
        if authorization:
            raise _unauthorized(
                _("Send the API key in one header only: Authorization or X-API-Key."), "bad_authorization"
            )
        return x_api_key.strip()
    scheme, _sep, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    return None


def key_user(raw: str):
    """The active account of a valid key, or None."""
    if not key_well_formed(raw):
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=key_prefix(raw)).first()
    if key is None or not hmac.compare_digest(key.key_sha256, key_digest(raw)):
        return None
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= timezone.now()):
        return None
    if not key.user.is_active:
        return None
    api_key_used(key)
    return key.user


def _basic_user(request, value: str):
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _unauthorized(
            _("The Authorization header is not valid. Use Bearer with an API key, or Basic."),
            "bad_authorization",
        ) from None
    username, sep, password = decoded.partition(":")
    if (
        not sep
        or not username
        or len(username) > USERNAME_MAX
        or len(password) > PASSWORD_MAX
        or "\x00" in decoded
    ):
        raise _unauthorized(_("Wrong user name or password."), "bad_credentials")
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise ApiAuthError(lockout_problem(request))
    if user is None or not user.is_active:
        raise _unauthorized(_("Wrong user name or password."), "bad_credentials")
    return user


def _csrf_failed(request) -> bool:
    """True when an unsafe request fails Django's CSRF check (the API's views are exempt from the middleware's)."""
    return (
        request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
        and CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None
    )


def api_user(request, *, basic_csrf: bool = False):
    """The calling account, or None when nothing was sent. Raises ApiAuthError (401/403/429 problem).
    `basic_csrf`: an unsafe request with HTTP Basic must carry the CSRF token too (browsers resend Basic
    credentials by themselves); only the e-forms API, which offices' systems used before API keys, waives it."""
    raw = _header_key(request)
    if raw is not None:
        user = key_user(raw)
        if user is None:
            raise _unauthorized(_("The API key is not valid: unknown, revoked or expired."), "bad_api_key")
        return user
    authorization = request.headers.get("Authorization", "").strip()
    if authorization:
        scheme, _sep, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            raise _unauthorized(
                _("The Authorization header is not valid. Use Bearer with an API key, or Basic."),
                "bad_authorization",
            )
        if basic_csrf and _csrf_failed(request):
            raise ApiAuthError(problem(403, _("CSRF check failed."), code="csrf"))
        return _basic_user(request, value)
    if request.user.is_authenticated:
        if _csrf_failed(request):
            raise ApiAuthError(problem(403, _("CSRF check failed."), code="csrf"))
        return request.user
    return None


class ApiAuth:
    """The JSON API's one authentication rule as a django-ninja auth callable (api_user above): an API
    key, HTTP Basic or the session (with the CSRF token on unsafe methods; HTTP Basic too unless
    `basic_without_csrf`). The account becomes request.user; nothing sent is a 401 problem."""

    openapi_security_schema = {
        "type": "http",
        "scheme": "bearer",
    }  # replaced by the full list in gisportal/api.py

    def __init__(self, *, basic_without_csrf: bool = False):
        self.basic_without_csrf = basic_without_csrf

    def __call__(self, request):
        user = api_user(request, basic_csrf=not self.basic_without_csrf)
        if user is not None:
            request.user = user
        return user


class ApiKeyCsrfMiddleware:
    """A JSON API request that carries an API key is not checked for a CSRF token: a browser never
    adds that header by itself, and such a request is authenticated by the key alone (api_user never
    falls back to the session then). HTTP Basic is not exempt: browsers do resend Basic credentials."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/api/") and (
            "X-API-Key" in request.headers
            or request.headers.get("Authorization", "").strip()[:7].lower() == "bearer "
        ):
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)
