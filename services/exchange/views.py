"""The clerks' exchange register (/urzad/wymiana/): what the office sent to and received from other
offices, one envelope with its files, seal check and receipt, the answer to a request that came in, and a
new request for documents or data. Staff of an office (capability work_cases) see their own office's
envelopes only; another office's envelope is 404."""

from __future__ import annotations

import io
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError
from gisportal.core.nul import has_nul, without_nul
from services.offices.selectors import office_of

from . import requests, selectors
from .actions import reachable_offices
from .models import Direction, Kind, Status

PAGE = 50
DOWNLOAD_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "application/xml"})
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
DIRECTIONS = [  # the model's labels ("sent", "received") are single words already used elsewhere
    (Direction.OUT, gettext_lazy("sent to other offices")),
    (Direction.IN, gettext_lazy("received from other offices")),
]


def _clerk_office(request):
    if not request.user.has_perm("gisportal.work_cases"):
        raise PermissionDenied(_("Only office staff may work on cases."))
    office = office_of(request.user)
    if office is None:
        raise PermissionDenied(_("Your account is not attached to an office."))
    return office


def _envelope(office, pk: int):
    row = selectors.office_envelope(office, pk)
    if row is None:
        raise Http404(_("There is no such message."))
    return row


@login_required
@require_GET
def register(request):
    office = _clerk_office(request)
    direction, kind = request.GET.get("direction", ""), request.GET.get("kind", "")
    page = Paginator(selectors.office_envelopes(office, direction=direction, kind=kind), PAGE).get_page(
        request.GET.get("page")
    )
    signs = selectors.case_signs(office, [row.case_id for row in page])
    return render(
        request,
        "exchange/register.html",
        {
            "office": office,
            "page": page,
            "rows": [(row, signs.get(row.case_id, "")) for row in page],
            "directions": DIRECTIONS,
            "kinds": Kind.choices,
            "direction": direction if direction in Direction.values else "",
            "kind": kind if kind in Kind.values else "",
            "pending": Status.PENDING,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def envelope(request, pk: int):
    office = _clerk_office(request)
    row = _envelope(office, pk)
    error, status, text = "", 200, ""
    if request.method == "POST":
        if not selectors.answerable(row):
            raise Http404(_("There is no such request."))
        text = without_nul(request.POST.get("text", ""))
        try:
            if has_nul(request.POST):  # a multipart body is not checked by the middleware
                raise GisportalError(_("The value holds a NUL character."))
            answer = requests.request_answer(
                office=office, request_pk=row.pk, text=text, files=_files(request)
            )
        except GisportalError as e:
            error, status = str(e.message), _status(e)
        else:
            messages.success(
                request,
                _("The answer is sealed and will be sent to %(office)s.")
                % {"office": answer.peer_office_name},
            )
            return redirect("exchange_envelope", pk=answer.pk)
    signs = selectors.case_signs(office, [row.case_id])
    return render(
        request,
        "exchange/envelope.html",
        {
            "office": office,
            "row": row,
            "view": selectors.envelope_view(row),
            "case_sign": signs.get(row.case_id, ""),
            "related": selectors.related(row),
            "answerable": selectors.answerable(row),
            "error": error,
            "text": text,
            "max_files": requests.MAX_FILES,
        },
        status=status,
    )


@login_required
@require_GET
def envelope_file(request, pk: int, n: int):
    office = _clerk_office(request)
    found = selectors.envelope_file(_envelope(office, pk), n)
    if found is None:
        raise Http404(_("There is no such file."))
    name, mime, content = found
    # always a download: the file came from another office; nosniff and a sandbox CSP besides
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=_UNSAFE_NAME.sub("_", name)[-150:] or "plik",
        content_type=mime if mime in DOWNLOAD_TYPES else "application/octet-stream",
    )
    return harden(response)


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    office = _clerk_office(request)
    offices = reachable_offices(office)
    source = request.POST if request.method == "POST" else request.GET
    case_id = _case_id(source.get("case"))
    if case_id is not None and not selectors.case_known(office, case_id):
        raise Http404(_("There is no such case."))
    values = {k: without_nul(request.POST.get(k, "")) for k in ("to_office", "subject", "text")}
    error, status = "", 200
    if request.method == "POST":
        try:
            if has_nul(request.POST):
                raise GisportalError(_("The value holds a NUL character."))
            row = requests.request_send(
                office=office,
                to_office=values["to_office"][:60],
                subject=values["subject"],
                text=values["text"],
                files=_files(request),
                case_id=case_id,
            )
        except GisportalError as e:
            error, status = str(e.message), _status(e)
        else:
            messages.success(
                request,
                _("The request is sealed and will be sent to %(office)s.") % {"office": row.peer_office_name},
            )
            return redirect("exchange_envelope", pk=row.pk)
    return render(
        request,
        "exchange/new.html",
        {
            "office": office,
            "offices": offices,
            "case_id": case_id,
            "case_sign": selectors.case_signs(office, [case_id]).get(case_id, "") if case_id else "",
            "values": values,
            "error": error,
            "max_files": requests.MAX_FILES,
        },
        status=status,
    )


def _status(e: GisportalError) -> int:
    """400 for what the clerk can correct; 503 when the office cannot seal now (its message says so)."""
    return e.status if 400 <= e.status < 600 and e.status != 500 else 400


def _case_id(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _files(request) -> list[tuple[str, str, bytes]]:
    return requests.read_files(request.FILES.getlist("files"))
