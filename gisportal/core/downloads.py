"""Serving files that someone uploaded (case documents, form attachments): never as a page of our origin.

Only PDF and PNG/JPEG images are shown in the browser (inline); every other type (XML, XHTML, text,
anything) is a download (`Content-Disposition: attachment`). All of them carry `X-Content-Type-Options:
nosniff` and `Content-Security-Policy: sandbox`, so even a file a browser does render runs no script
with access to the portal (a sandboxed document has an opaque origin: no cookies, no same-origin
requests). The same headers go on our own generated files (receipts) through `harden`."""

from __future__ import annotations

import re

from django.http import FileResponse, HttpResponse

_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
SANDBOX = "sandbox"


def harden(response: HttpResponse) -> HttpResponse:
    """nosniff and a sandbox CSP (the CSP middleware keeps a policy a view has set)."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    return response


def _media_type(content_type: str) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media if _MEDIA_TYPE.match(media) else "application/octet-stream"


def uploaded_file_response(fileobj, *, content_type: str, filename: str) -> FileResponse:
    """A stored upload: inline only when PDF/PNG/JPEG, otherwise an attachment; hardened either way."""
    media = _media_type(content_type)
    inline = media in INLINE_TYPES
    response = FileResponse(
        fileobj, as_attachment=not inline, filename=filename or "file", content_type=media
    )
    return harden(response)
