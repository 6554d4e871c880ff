"""What a client locked out by django-axes (settings AXES_LOCKOUT_CALLABLE) gets: a 429 page in the
user's language saying how long to wait, or problem JSON with Retry-After on the JSON API."""

from __future__ import annotations

from django.shortcuts import render

from gisportal.core.throttling import cool_off, lockout_problem, wait_text


def lockout_response(request, original_response=None, credentials=None):
    if request.path_info.startswith("/api/"):
        return lockout_problem(request)
    seconds = int(cool_off(request).total_seconds())
    response = render(request, "web/lockout.html", {"message": wait_text(request)}, status=429)
    response["Retry-After"] = str(seconds)
    return response
