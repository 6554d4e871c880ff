"""Issued documents' public check (django-ninja router, mounted at /api/ by gisportal/api.py): what a
verification code stands for, and whether an uploaded copy is the original."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from gisportal.core.problems import Problem

from . import selectors

router = Router(tags=["documents"])


class Verified(Schema):
    verdict: Literal["genuine"]
    verification_code: str
    kind: str
    kind_label: str
    number: str
    office: str
    case_sign: str
    issued_at: str
    issued_by: str
    sha256: str
    original_url: str | None
    replaces: str | None = None
    replaced_by: str | None = None


class CopyVerdict(Schema):
    verdict: Literal["genuine", "altered", "unknown"]
    verification_code: str
    number: str
    office: str
    reason: str
    signed_by: str | None = None


def _doc(code: str):
    doc = selectors.document_by_code(code)
    if doc is None:
        raise Problem(404, _("No document has this verification code."), code="not_found")
    return doc


@router.get(
    "/documents/{code}/verify",
    response=Verified,
    auth=None,
    url_name="api_document_verify",
    summary="What a document's verification code stands for: kind, number, office, when and by whom",
    openapi_extra={"responses": {404: {"description": "no document has this code"}}},
)
def verify(request, code: str):
    return selectors.verify_json(_doc(code))


@router.post(
    "/documents/{code}/verify",
    response=CopyVerdict,
    auth=None,
    url_name="api_document_verify_copy",
    summary="Check a copy (multipart `file`): genuine, altered or unknown",
    openapi_extra={"responses": {404: {"description": "no document has this code"}}},
)
def verify_copy(request, code: str, file: File[UploadedFile]):
    doc = _doc(code)
    data = file.read(selectors.MAX_COPY + 1)
    return selectors.check_copy(doc, data)
