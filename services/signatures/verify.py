"""Verifying a signed file: its format told from its content (not its name), then the format's verifier.

`verify_file` returns a report (report.py) or raises one of the errors below, each a 4xx with words for
the person who sent the file; nothing here raises anything else for any input."""

from __future__ import annotations

import hashlib
import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError

from . import asic, cades, xades
from .report import Report, no_signature_text
from .trust import trust_store
from .xmlsafe import UnsafeXml, has_doctype

log = logging.getLogger(__name__)
MAX_FILE = 20 * 1024 * 1024


class NotSigned(GisportalError):
    code = "no_signature"
    status = 422


class UnsupportedFile(GisportalError):
    code = "unsupported_format"
    status = 415


class UnreadableFile(GisportalError):
    code = "unreadable_document"
    status = 422


class FileTooLarge(GisportalError):
    code = "too_large"
    status = 413


def sniff(data: bytes) -> str | None:
    """pdf | xml | asic | cms, from the bytes."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if head.startswith(b"<"):
        return "xml"
    if asic.is_asic(data):
        return "asic"
    if (
        head.startswith(b"0\x80")
        or head.startswith(b"0\x82")
        or head.startswith(b"0\x83")
        or head.startswith(b"0\x84")
    ):
        return "cms"
    if head.startswith(b"-----BEGIN PKCS7") or head.startswith(b"-----BEGIN CMS"):
        return "cms"
    if head[:1] == b"0" and len(data) < 128:
        return "cms"
    return None


def verify_file(
    data: bytes, name: str = "", *, detached: bytes | None = None, detached_name: str = ""
) -> Report:
    if len(data) > MAX_FILE or (detached is not None and len(detached) > MAX_FILE):
        raise FileTooLarge(
            _("The file is too large to check (at most %(n)s MB).") % {"n": MAX_FILE // 1024**2}
        )
    if not data:
        raise UnreadableFile(_("The file is empty."))
    kind = sniff(data)
    store = trust_store()
    try:
        if kind == "xml":
            if has_doctype(data):
                raise UnsafeXml("DOCTYPE")

            # a detached signature names its file by URI; the one file given is taken as it whatever its name
            # now (files are renamed on the way), as DSS does: the digest decides whether it is the same file
            fmt, signatures = xades.verify_xml(data, store, resolve=lambda _uri: detached)
        elif kind == "pdf":
            fmt, signatures = "PAdES", cades.verify_pdf(data, store)
        elif kind == "asic":
            fmt, signatures = asic.verify_asic(data, store)
        elif kind == "cms":
            fmt, signatures = "CAdES", cades.verify_cms(data, store, detached=detached, name=detached_name)
        else:
            raise UnsupportedFile(
                _(
                    "This file type cannot be checked: give a signed XML (XAdES), PDF (PAdES), .p7s (CAdES) or ASiC file."
                )
            )
    except LookupError:
        raise NotSigned(no_signature_text()) from None
    except UnsafeXml as e:
        reason = (
            _("it declares a DOCTYPE, which is not allowed")
            if str(e) == "DOCTYPE"
            else _("it is not well-formed XML")
        )
        raise UnreadableFile(_("The XML file cannot be checked: %(reason)s.") % {"reason": reason}) from None
    except cades.NotCms:
        raise UnreadableFile(_("The file is damaged or is not a signature that can be read.")) from None
    except asic.BadContainer as e:
        raise UnreadableFile(
            _("The container cannot be checked: %(reason)s.") % {"reason": _container_reason(str(e))}
        ) from None
    return Report(
        file={"name": name[:200], "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)},
        format=fmt,
        signatures=signatures,
        verified_at=timezone.now().isoformat(),
        detached=None
        if detached is None
        else {
            "name": detached_name[:200],
            "sha256": hashlib.sha256(detached).hexdigest(),
            "size": len(detached),
        },
        trust={
            "anchors": len(store.anchors),
            "lists": [
                {"file": t.file, "territory": t.territory, "issued": t.issued, "accepted": not t.problem}
                for t in store.lists
            ],
        },
    )


def _container_reason(problem: str) -> str:
    return {
        "no ASiC mimetype": _("it is a zip file but not an ASiC signature container"),
        "too many files": _("it holds too many files"),
        "a file inflates too much": _("a file in it is too large when unpacked"),
        "the files inflate too much": _("its files are too large when unpacked"),
        "unsafe file name": _("a file in it has a forbidden name"),
    }.get(problem, _("it is damaged"))
