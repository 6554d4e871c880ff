"""A clerk's requests for documents or data to another office, and answers to the requests that came in
(the register's pages, services/exchange/views.py). Actions on plain values: the checks first, then one
`envelope_send` in a transaction, so a refused input stores nothing. The files are (name, type, content),
read from the uploads by `read_files` (PDF, JPEG, PNG, XML: the type from the extension AND the content,
as services/forms does; exchange may not import forms, which imports receipts and signatures)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput

from . import envelope as env_format
from .actions import envelope_send, reachable_offices
from .models import Direction, Envelope, Kind

MAX_TEXT = 10_000
MAX_FILES = 5
MAX_FILE = env_format.MAX_ENVELOPE  # the envelope's own limit (with the base64) says the rest
FILE_TYPES = {  # MIME type: (extensions, magic prefixes)
    "application/pdf": ((".pdf",), (b"%PDF-",)),
    "image/jpeg": ((".jpg", ".jpeg"), (b"\xff\xd8\xff",)),
    "image/png": ((".png",), (b"\x89PNG\r\n\x1a\n",)),
    "application/xml": ((".xml",), (b"<?xml", b"<")),
}


def read_files(uploads) -> list[tuple[str, str, bytes]]:
    """(name, type, content) of each upload, or InvalidInput naming every file refused."""
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise InvalidInput(_("At most %(n)s files.") % {"n": MAX_FILES})
    out, errors = [], []
    for f in uploads:
        name = (getattr(f, "name", "") or "plik").replace("/", "_").replace("\\", "_")[-150:]
        content = f.read(MAX_FILE + 1)
        if len(content) > MAX_FILE:
            errors.append(
                _("%(name)s is larger than %(n)s MB.") % {"name": name[:60], "n": MAX_FILE // 1024**2}
            )
            continue
        mime = _sniff(name, content[:64])
        if mime is None:
            errors.append(
                _(
                    "%(name)s: only PDF, JPEG, PNG and XML files are sent, and the content must match the type."
                )
                % {"name": name[:60]}
            )
            continue
        out.append((name, mime, content))
    if errors:
        raise InvalidInput(" ".join(errors))
    return out


def _sniff(name: str, head: bytes) -> str | None:
    lower = name.lower()
    for mime, (exts, magics) in FILE_TYPES.items():
        if lower.endswith(exts):
            if mime == "application/xml":
                head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
            return mime if head.startswith(magics) else None
    return None


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write the text of the message."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("The text is too long (at most %(n)s characters).") % {"n": MAX_TEXT})
    return text


def _files(files) -> list[tuple[str, str, bytes]]:
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise InvalidInput(_("At most %(n)s files.") % {"n": MAX_FILES})
    for name, mime, _content in files:
        if mime not in FILE_TYPES:
            raise InvalidInput(
                _("%(name)s: only PDF, JPEG, PNG and XML files are sent.") % {"name": name[:60]}
            )
    return files


def request_send(
    *,
    office,
    to_office: str,
    subject: str,
    text: str,
    files=(),
    case_id: int | None = None,
) -> Envelope:
    """A request for documents or data to an office this hub reaches (sealed, sent after the commit)."""
    text, files = _text(text), _files(files)
    if to_office not in {code for code, _name, _hub in reachable_offices(office)}:
        raise InvalidInput(_("There is no such office to send to."))
    with transaction.atomic():
        return envelope_send(
            office=office,
            to_office=to_office,
            kind=Kind.REQUEST,
            subject=subject,
            body={"text": text},
            files=files,
            case_id=case_id,
        )


def request_answer(*, office, request_pk: int, text: str, files=()) -> Envelope:
    """The answer to a request that came to `office`: back to the office that sent it, bound to it by
    `in_reply_to` (the sender's case register puts it into the case the request came from)."""
    text, files = _text(text), _files(files)
    with transaction.atomic():
        request = (
            Envelope.objects.select_for_update()
            .filter(pk=request_pk, office=office, direction=Direction.IN, kind=Kind.REQUEST)
            .first()
        )
        if request is None:
            raise InvalidInput(_("There is no such request."))
        subject = request.subject if request.subject.startswith("Re: ") else f"Re: {request.subject}"
        return envelope_send(
            office=office,
            to_office=request.peer_office,
            kind=Kind.ANSWER,
            subject=subject[:300],
            body={"text": text},
            files=files,
            in_reply_to=request.envelope_id,
        )
