"""The addressee's portal inbox (/skrzynka/): the deliveries of the account, one delivery with its legal note
and the confirmation of receipt, then the document and the proof of delivery (UPD: sealed XML and PDF).

Thin views: each parses the request, calls one selector or action and renders. Only the addressee sees a
delivery; anyone else gets 404, the same as a delivery that does not exist, and the attempt is logged."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.downloads import harden
from gisportal.core.errors import GisportalError, NotFound

from . import selectors
from .actions import delivery_access_refused, delivery_acknowledge
from .models import Kind, Status
from .proofpdf import proof_pdf


def _own_or_404(request, delivery_id):
    """The delivery when the logged-in user is its addressee; for anyone else the attempt is logged and the
    answer is 404."""
    d = selectors.delivery_of_addressee(request.user, delivery_id)
    if d is None:
        delivery_access_refused(delivery_id, request.user)
        raise Http404(_("There is no such delivery."))
    return d


def _delivered_or_404(request, delivery_id):
    d = _own_or_404(request, delivery_id)
    if d.status != Status.DELIVERED:  # the document and the proof open with delivery, not before
        raise Http404(_("The document opens when you confirm its receipt."))
    return d


@login_required
@require_GET
def inbox(request):
    deliveries = list(selectors.inbox_of(request.user))
    deliveries.sort(key=lambda d: d.status != Status.AWAITING)  # unopened first, each group newest first
    for d in deliveries:
        d.deemed_day = selectors.deemed_on(d) if d.status == Status.AWAITING else None
    return render(
        request,
        "delivery/inbox.html",
        {"deliveries": deliveries, "unread": sum(d.status == Status.AWAITING for d in deliveries)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def delivery_detail(request, delivery_id):
    d = _own_or_404(request, delivery_id)
    if request.method == "POST":
        try:
            delivery_acknowledge(d.pk, request.user)
        except NotFound:
            raise Http404(_("There is no such delivery.")) from None
        except GisportalError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(request, _("Receipt confirmed. The document is open below."))
        return redirect("delivery_detail", delivery_id=d.pk)
    return render(
        request,
        "delivery/delivery.html",
        {
            "d": d,
            "delivered": d.status == Status.DELIVERED,
            "awaiting": d.status == Status.AWAITING,
            "deemed_day": selectors.deemed_on(d),
            "appeal": d.kind == Kind.DECISION,
            "complaint": d.kind == Kind.ORDER,
        },
    )


@login_required
@require_GET
def delivery_document(request, delivery_id):
    d = _delivered_or_404(request, delivery_id)
    response = FileResponse(
        d.file.open("rb"),
        as_attachment=True,
        filename=d.file_name or "dokument",
        content_type=d.content_type or "application/octet-stream",
    )
    return harden(response)  # nosniff and a sandbox CSP, as every file we serve (gisportal/core/downloads.py)


@login_required
@require_GET
def delivery_proof(request, delivery_id, fmt: str):
    if fmt not in ("xml", "pdf"):
        raise Http404(_("There is no such file."))
    d = _delivered_or_404(request, delivery_id)
    if fmt == "xml":
        response = HttpResponse(bytes(d.proof_xml or b""), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="UPD-{d.pk}.xml"'
    else:
        response = HttpResponse(proof_pdf(d), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="UPD-{d.pk}.pdf"'
    return harden(response)
