"""Request hygiene in one place: a NUL character can never be stored or looked up (PostgreSQL
refuses it in text), so a path or query parameter holding one is answered with a 400 at once."""

from __future__ import annotations

from django.http import HttpResponseBadRequest


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forms = [request.GET]
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            forms.append(request.POST)
        if "\x00" in request.path or any(_has_nul(q) for q in forms):
            return HttpResponseBadRequest("NUL characters are not allowed in requests.", content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _has_nul(query) -> bool:
    return any("\x00" in k or any("\x00" in v for v in query.getlist(k)) for k in query)
