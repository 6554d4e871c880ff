"""The e-forms' JSON API (django-ninja router, mounted at /api/ by gisportal/api.py): the e-service
catalogue, fee quotes and filing a form. Thin: parse (the schemas), call one action or selector, answer;
errors are raised as Problem / GisportalError and rendered by the API's one error mapper."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from gisportal.core.apiauth import ApiAuth
from gisportal.core.problems import Problem
from services.payments.fees import MAX_COUNT
from services.payments.selectors import fee_quote, quote_json

from . import selectors
from .actions import submission_file, submission_receipt
from .models import Submission

router = Router(tags=["e-services"])
# offices' systems file forms with HTTP Basic since before API keys: Basic needs no CSRF token here
AUTH = ApiAuth(basic_without_csrf=True)
QUOTE_DATA = ("variant", "form", "product", "copies", "pages", "parts", "housing_exemption")


class Texts(Schema):
    pl: str
    en: str


class Fee(Schema):
    rule: str
    pl: str
    en: str


class Service(Schema):
    code: str
    version: int
    title: Texts
    description: Texts
    legal_basis: str
    service_kind: str
    jrwa: str
    fee: Fee
    deadline_days: int | None
    deadline_kind: str = Field(
        "",
        description="the statutory term: immediate, certificate_7_days, working_days_10, one_month, two_months",
    )
    data_schema: dict[str, Any] = Field(
        alias="schema",
        description="JSON Schema 2020-12 of `data`; `x-validator` "
        "names a Polish identifier check, `x-registry` a registry check",
    )
    layout: dict[str, Any]
    form_url: str


class ServiceList(Schema):
    services: list[Service]


class FeeLine(Schema):
    label: str
    quantity: int
    unit_price: str | None
    amount: str | None
    amount_max: str | None


class Payee(Schema):
    office: str
    account: str | None
    how: str


class FeeQuote(Schema):
    service: str
    rule: str
    kind: Literal["pgik", "stamp_duty", "none"]
    currency: str
    total: str | None = Field(
        description="PLN with two decimals; null: set in a fee calculation document (DOO)"
    )
    total_max: str | None
    final: bool
    other_form_total: str | None
    legal_basis: str
    lines: list[FeeLine]
    notes: list[str]
    payee: Payee | None


class SubmissionIn(Schema):
    service: str = Field(max_length=100, description="the e-service's code (/api/services/)")
    version: int | None = Field(
        None, description="the form version the data was entered in; another one is a 409"
    )
    data: dict[str, Any] = Field(description="valid against the service's schema")


class Receipt(Schema):
    verification_code: str
    issued: str
    verify_url: str


class PaymentSummary(Schema):
    id: uuid.UUID
    status: Literal["due", "pending", "paid", "failed", "refunded", "cancelled"]
    amount: str = Field(description="PLN with two decimals")
    currency: str
    title: str = Field(description="the transfer title (the fee document's number and the case sign)")
    account: str = Field(description="IBAN of the office's account")
    pay_url: str = Field(description="the page where the applicant pays (/platnosci/<id>/)")


class IssuedDocumentOut(Schema):
    id: uuid.UUID
    kind: str = Field(
        description="egib_wyrys, egib_wypis, egib_wypis_full, zoning_extract, zoning_certificate"
    )
    title: str
    number: str
    issued_at: str
    verification_code: str
    url: str = Field(description="the sealed PDF (PAdES), for its owner")


class SubmissionOut(Schema):
    id: uuid.UUID
    service: str
    version: int
    office: str
    office_name: str
    received: str
    sha256: str
    parcels: list[str]
    receipt: Receipt
    documents: list[IssuedDocumentOut] = Field(default_factory=list, description="documents issued in answer")
    payment: PaymentSummary | None = Field(
        None, description="the fee asked for by the office's fee document; null while none has been issued"
    )


def _service(code: str):
    service = selectors.service_active(code)
    if service is None:
        raise Problem(404, _("There is no such e-service."), code="not_found")
    return service


@router.get(
    "/services/",
    response=ServiceList,
    by_alias=True,
    auth=None,
    url_name="api_services",
    summary="Active e-services with their data schema and page layout",
)
def services(request):
    return {"services": [selectors.service_json(s) for s in selectors.services_active()]}


@router.get(
    "/services/{slug:code}",
    response=Service,
    by_alias=True,
    auth=None,
    url_name="api_service",
    summary="One e-service",
    openapi_extra={"responses": {404: {"description": "no such service"}}},
)
def service(request, code: str):
    return selectors.service_json(_service(code))


@router.get(
    "/fees/quote",
    response=FeeQuote,
    auth=None,
    url_name="api_fee_quote",
    summary="The official fee of an e-service for the given data (DOMAIN.md §6)",
    description="Lines, total (a range while the office does not know the page count), the other form's "
    "price and who is paid.",
)
def fees_quote(
    request,
    service: Annotated[str, Query(max_length=100, description="the e-service's code (/api/services/)")],
    parcels: Annotated[str, Query(description="parcel identifiers, comma-separated (at most 20)")] = "",
    variant: Annotated[
        str, Query(max_length=50, description="wypis-wyrys-egib: the document variant of the form")
    ] = "",
    form: Annotated[Literal["electronic", "paper"] | None, Query(description="wypis-wyrys-egib")] = None,
    product: Annotated[
        Literal["wypis", "wyrys", "wypis_wyrys"] | None, Query(description="wypis-wyrys-mpzp")
    ] = None,
    copies: Annotated[int | None, Query(ge=1, le=MAX_COUNT, description="wypis-wyrys-mpzp")] = None,
    pages: Annotated[
        int | None, Query(ge=0, le=MAX_COUNT, description="pages of the wypis, when known")
    ] = None,
    parts: Annotated[
        int | None, Query(ge=0, le=MAX_COUNT, description="started A4 parts of the wyrys, when known")
    ] = None,
    housing_exemption: Annotated[bool, Query(description="zaswiadczenie-mpzp")] = False,
):
    unknown = set(request.GET) - {"service", "parcels", *QUOTE_DATA}
    if unknown:
        raise Problem(
            400,
            _("Unknown parameter(s): %(p)s.") % {"p": ", ".join(sorted(unknown))[:200]},
            code="bad_request",
        )
    found = _service(service)
    given = {
        "variant": variant,
        "form": form,
        "product": product,
        "copies": copies,
        "pages": pages,
        "parts": parts,
        "housing_exemption": housing_exemption,
    }
    data: dict[str, Any] = {k: v for k, v in given.items() if k in request.GET}
    data["parcels"] = [i.strip() for v in request.GET.getlist("parcels") for i in v.split(",") if i.strip()]
    quote = fee_quote(found.fee_rule, data)  # InvalidInput: a 400 with its own code
    payee = selectors.fee_payee(selectors.fee_office(found, data["parcels"]), quote)
    return {"service": found.code, **quote_json(quote), "payee": payee}


@router.post(
    "/submissions/",
    response={201: SubmissionOut},
    auth=AUTH,
    url_name="api_submissions",
    summary="File a form; the answer carries the receipt's verification code",
    openapi_extra={
        "responses": {
            403: {"description": "not allowed to file this form"},
            404: {"description": "no such service"},
            409: {"description": "form version gone, or Idempotency-Key reused with other data"},
            422: {"description": "invalid data; `errors` maps fields to messages"},
            429: {"description": "HTTP Basic locked out after repeated wrong passwords; see Retry-After"},
        }
    },
)
def submissions(
    request,
    response: HttpResponse,
    body: SubmissionIn,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            description=(
                "Repeating a request with the same key returns the first submission; the same key with other data is a 409 "
                "(the first 100 characters count)."
            ),
        ),
    ] = "",
):
    service = _service(body.service)
    if body.version is not None and body.version != service.version:
        raise Problem(
            409,
            _("This version of the form is no longer in use (current: %(v)s).") % {"v": service.version},
            code="version_gone",
            current_version=service.version,
        )
    sub = submission_file(
        service, body.data, user=request.auth, idempotency_key=idempotency_key, channel="api"
    )
    response["Location"] = reverse("api:api_submission", args=[sub.id])
    return Status(201, selectors.submission_json(sub, submission_receipt(sub)))


@router.get(
    "/submissions/{uuid:id}",
    response=SubmissionOut,
    auth=AUTH,
    url_name="api_submission",
    summary="One of my submissions",
    openapi_extra={"responses": {404: {"description": "not found"}}},
)
def submission(request, id: uuid.UUID):
    sub = Submission.objects.select_related("service", "office").filter(id=id).first()
    if sub is None or sub.user_id != request.auth.id:
        raise Problem(404, _("There is no such submission."), code="not_found")
    return selectors.submission_json(sub, submission_receipt(sub))
