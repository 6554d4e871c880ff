"""Thin views: parse, call one selector or action, render."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.problems import problem
from layers import catalogue

from .forms import CitizenRegistrationForm


@require_GET
def home(request):
    groups = []
    for group in catalogue.GROUPS:
        layers = [catalogue.get_layer(n) for n in group.layers]
        groups.append(
            {"group": group, "layers": [la for la in layers if catalogue.user_can_read(request.user, la)]}
        )
    return render(request, "web/home.html", {"groups": groups})


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness: the database (with PostGIS) and Redis must answer."""
    checks: dict[str, str] = {}
    ok = True
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT postgis_lib_version()")
            checks["database"] = "ok"
            checks["postgis"] = cur.fetchone()[0]
    except Exception:
        checks["database"] = "error"
        ok = False
    try:
        import redis
        from django.conf import settings

        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2).ping()
        checks["redis"] = "ok"
    except Exception:
        checks["redis"] = "error"
        ok = False
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = CitizenRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="gisportal.core.roles.RoleBackend")
        return redirect("account")
    return render(request, "registration/register.html", {"form": form})


def _office_of(user):
    """The office the user works for (services.offices' membership), read through the user's relation: the web
    imports nothing of services (ARCHITECTURE §4)."""
    membership = getattr(user, "membership", None)
    return membership.office if membership else None


@login_required
@require_GET
def after_login(request):
    """Where a login without a (safe) `next` lands: staff of an office on their case inbox, citizens and
    surveyors on their own cases, everyone else on their account page. Only our own paths, never a
    user-given address."""
    user = request.user
    if user.has_perm("gisportal.work_cases") and _office_of(user) is not None:
        return redirect("case_inbox")
    if user.has_perm("gisportal.submit_forms"):
        return redirect("my_cases")
    return redirect("account")


@login_required
@require_GET
def account(request):
    from gisportal.core.roles import CAPABILITIES, capabilities_of

    caps = sorted(capabilities_of(request.user))
    return render(
        request,
        "web/account.html",
        {"office": _office_of(request.user), "capabilities": [(c, CAPABILITIES[c]) for c in caps]},
    )


def _error(request, title: str, status: int, code: str):
    """The error page, or problem JSON on the JSON API (a path no route matches, a server error)."""
    if request.path.startswith("/api/"):
        return problem(status, title, code=code, instance=request.path)
    return render(request, "web/error.html", {"title": title, "status": status}, status=status)


def error_404(request, exception=None):
    return _error(request, _("Page not found"), 404, "not_found")


def error_500(request):
    return _error(request, _("Server error"), 500, "server_error")


def error_403(request, exception=None):
    return _error(request, _("Access denied"), 403, "forbidden")


def error_400(request, exception=None):
    return _error(request, _("Bad request"), 400, "bad_request")


@require_GET
def accessibility(request):
    return render(request, "web/accessibility.html")


def _may_see_failed_tasks(user) -> bool:
    return user.has_perm("gisportal.work_cases") or user.has_perm("gisportal.import_registries")


@login_required
@require_http_methods(["GET", "POST"])
def failed_tasks(request):
    """Background tasks that failed for good (dead letters), newest first, each sent again on request."""
    from celery import current_app

    from gisportal.core.deadletters import task_send_again
    from gisportal.core.errors import InvalidInput
    from gisportal.core.models import FailedTask

    if not _may_see_failed_tasks(request.user):
        raise PermissionDenied
    error = ""
    if request.method == "POST":
        raw = request.POST.get("task", "")
        failed = FailedTask.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 18 else None
        if failed is None:
            raise Http404
        try:
            task_send_again(
                failed, request.user, lambda name, args, kwargs: current_app.send_task(name, args, kwargs)
            )
        except InvalidInput as e:
            error = str(e.message)
        else:
            return redirect("failed_tasks")
    return render(
        request,
        "web/failed_tasks.html",
        {"tasks": FailedTask.objects.select_related("retried_by")[:200], "error": error},
        status=400 if error else 200,
    )
