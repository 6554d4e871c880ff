"""Problem details (RFC 9457) for the JSON API: one place renders every API error."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 413: "Content Too Large", 422: "Unprocessable Content", 429: "Too Many Requests"}


def problem(status: int, detail: str, *, code: str = "", **extra) -> JsonResponse:
    body = {"type": f"about:blank#{code}" if code else "about:blank", "title": TITLES.get(status, _("Error")),
            "status": status, "detail": str(detail)}
    body.update(extra)
    return JsonResponse(body, status=status, content_type="application/problem+json", json_dumps_params={"ensure_ascii": False})
