"""Problem details (RFC 9457) for the JSON API: one place renders every API error.

`problem()` builds the response (title in the request's language: Polish by default, English when
asked); code raises `Problem` and the API's error mapper (gisportal/api.py) renders it with the
request's path as `instance`. `type` is `about:blank#<code>`: the code is the machine-readable part."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TITLES = {
    400: gettext_lazy("Bad Request"),
    401: gettext_lazy("Unauthorized"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not Found"),
    405: gettext_lazy("Method Not Allowed"),
    409: gettext_lazy("Conflict"),
    413: gettext_lazy("Content Too Large"),
    422: gettext_lazy("Unprocessable Content"),
    429: gettext_lazy("Too Many Requests"),
    503: gettext_lazy("Service Unavailable"),
}
CONTENT_TYPE = "application/problem+json"


def problem(
    status: int, detail: str, *, code: str = "", instance: str | None = None, **extra
) -> JsonResponse:
    body = {
        "type": f"about:blank#{code}" if code else "about:blank",
        "title": str(TITLES.get(status, _("Error"))),
        "status": status,
        "detail": str(detail),
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JsonResponse(
        body, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )


class Problem(Exception):
    """An API error the caller can act on: rendered as problem JSON by the API's error mapper."""

    def __init__(
        self, status: int, detail: str, *, code: str = "", headers: dict[str, str] | None = None, **extra
    ):
        super().__init__(str(detail))
        self.status, self.detail, self.code, self.headers, self.extra = (
            status,
            str(detail),
            code,
            headers or {},
            extra,
        )

    def response(self, instance: str | None = None) -> JsonResponse:
        response = problem(self.status, self.detail, code=self.code, instance=instance, **self.extra)
        for name, value in self.headers.items():
            response[name] = value
        return response
