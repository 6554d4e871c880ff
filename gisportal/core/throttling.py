"""Login throttling on top of django-axes (settings: AXES_*; the reasons are written there).

Two counters over axes' AccessAttempt rows (one row per user name, address and user agent):
- per account from one address (the ["username", "ip_address"] parameter): AXES_FAILURE_LIMIT
  failures lock that account for that address only;
- per address over all accounts (the "ip_address" parameter): GISPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT
  failures lock the address (password spraying).
axes knows one limit only, so the handler scales the address count onto it. A successful login
clears that account's failures from that address only: owning one account must not reset a spray.
"""

from __future__ import annotations

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.utils.translation import ngettext

from .problems import problem

USERNAME_MAX = 150  # the model's username length; longer names are never a real account


def client_ip(request) -> str | None:
    """The address that is throttled: REMOTE_ADDR only (a client can write X-Forwarded-For itself)."""
    return request.META.get("REMOTE_ADDR") or None


def client_username(request, credentials: dict | None) -> str | None:
    """The user name failures count against: case and surrounding spaces do not make another account,
    and the length is bounded (axes stores it in a 255-character column)."""
    if credentials is not None:
        name = credentials.get("username")
    else:
        name = request.POST.get("username") if request is not None and request.method == "POST" else None
    if not isinstance(name, str):
        return None
    name = name.strip().lower()[:USERNAME_MAX]
    return name or None


def _is_account_parameter(parameter) -> bool:
    return parameter == "username" or (not isinstance(parameter, str) and "username" in parameter)


class AxesHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        address_limit = max(1, int(getattr(settings, "GISPORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", limit)))
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if not _is_account_parameter(parameter):
                count = count * limit // address_limit  # address_limit failures reach the limit
            worst = max(worst, count)
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        parameters = get_lockout_parameters(request, credentials)
        count = 0
        for parameter, attempts in zip(
            parameters, self.filter_user_attempts(request, credentials), strict=True
        ):
            if _is_account_parameter(parameter):
                count += attempts.delete()[0]
        return count


def cool_off(request=None) -> timedelta:
    return get_cool_off(request) or timedelta(minutes=15)


def wait_text(request=None) -> str:
    """ "Try again in 15 minutes." in the active language."""
    minutes = max(1, math.ceil(cool_off(request).total_seconds() / 60))
    return ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute.",
        "Too many failed login attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_problem(request=None):
    """429 problem JSON with Retry-After, for API clients (HTTP Basic) that are locked out."""
    seconds = int(cool_off(request).total_seconds())
    response = problem(429, wait_text(request), code="locked_out", retry_after=seconds)
    response["Retry-After"] = str(seconds)
    return response
