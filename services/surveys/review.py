"""The county clerk's review of survey results (`/urzad/prace/<kerg>/`) and the surveyor's handing in from
the case page (`/moje-sprawy/<id>/wyniki/`). Thin: parse, call one action, render or redirect."""

from __future__ import annotations

import shapely
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from gisportal.core.errors import GisportalError
from services.cases.models import Case
from services.offices.selectors import office_of
from services.signatures.report import with_words

from .models import Results
from .results import results_accept, results_return, results_submit
from .results_api import SERVICE

MAP_WIDTH = 600
KIND_LABELS = {
    "unit": gettext_lazy("cadastral unit"),
    "precinct": gettext_lazy("precinct"),
    "parcel": gettext_lazy("parcel"),
    "building": gettext_lazy("building"),
    "landuse": gettext_lazy("land use contour"),
    "soil": gettext_lazy("soil class contour"),
    "address": gettext_lazy("address point"),
}


# ---------------------------------------------------------------------------------------- reads
def _svg_paths(geoms_wkt: list[str], x0: float, y1: float, scale: float) -> str:
    out = []
    for wkt in geoms_wkt:
        geom = shapely.from_wkt(wkt)
        polygons = list(getattr(geom, "geoms", [geom]))
        for poly in polygons:
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                pts = " L ".join(f"{(x - x0) / scale:.1f} {(y1 - y) / scale:.1f}" for x, y in ring.coords)
                out.append(f"M {pts} Z")
    return " ".join(out)


def before_after(report: dict, work_area_wkt: str | None) -> dict | None:
    """Two SVG outlines of the same box: the old geometries (retired and changed objects as they were) and
    the new ones (new and changed objects), with the work area; None without polygons."""
    old, new = [], []
    for items in report.get("retired", {}).values():
        old += [i["wkt"] for i in items if i.get("wkt")]
    for items in report.get("changed", {}).values():
        old += [i["old_wkt"] for i in items if i.get("old_wkt")]
        new += [i["wkt"] for i in items if i.get("wkt")]
    for items in report.get("new", {}).values():
        new += [i["wkt"] for i in items if i.get("wkt")]
    geoms = [shapely.from_wkt(w) for w in [*old, *new, *([work_area_wkt] if work_area_wkt else [])]]
    if not geoms:
        return None
    x0, y0, x1, y1 = shapely.GeometryCollection(geoms).bounds
    margin = max(x1 - x0, y1 - y0, 20.0) * 0.08
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    scale = max((x1 - x0) / MAP_WIDTH, (y1 - y0) / 400)
    width, height = round((x1 - x0) / scale), round((y1 - y0) / scale)
    return {
        "width": width,
        "height": height,
        "area": _svg_paths([work_area_wkt], x0, y1, scale) if work_area_wkt else "",
        "old": _svg_paths(old, x0, y1, scale),
        "new": _svg_paths(new, x0, y1, scale),
    }


def _rows(report: dict, outcome: str) -> list[dict]:
    return [
        {**i, "kind_label": KIND_LABELS.get(kind, kind)}
        for kind, items in report.get(outcome, {}).items()
        for i in items
    ]


def results_view(res: Results) -> dict:
    report = res.report or {}
    return {
        "res": res,
        "counts": report.get("counts", {}),
        "retired": _rows(report, "retired"),
        "new": _rows(report, "new"),
        "changed": _rows(report, "changed"),
        "problems": (report.get("pipeline") or {}).get("problems", [])[:300],
        "error": report.get("error", ""),
        "apply_error": report.get("apply_error", ""),
        "busy": res.status in (Results.Status.CHECKING, Results.Status.APPLYING),
        "signatures": [with_words(r) if "error" not in r else r for r in res.signature_reports],
    }


def results_for_surveyor(case: Case, user) -> dict:
    """What the surveyor sees on the case page: the latest results handed in, and whether to hand in."""
    latest = Results.objects.filter(case_id=case.pk).first()
    accepted = Results.objects.filter(
        case_id=case.pk, status__in=[Results.Status.ACCEPTED, Results.Status.APPLYING]
    ).exists()
    return {
        "case": case,
        "latest": results_view(latest) if latest else None,
        "may_hand_in": case.applicant_user_id == getattr(user, "pk", None) and not accepted,
    }


def _staff_case(request, kerg: str) -> Case:
    if not request.user.has_perm("gisportal.work_cases"):
        raise PermissionDenied(_("Only office staff may review survey results."))
    office = office_of(request.user)
    case = Case.objects.filter(sign=kerg, office=office).first() if office else None
    if case is None or office.kind != "county":
        raise Http404(_("There is no such case."))
    return case


# ---------------------------------------------------------------------------------------- views
@login_required
@require_http_methods(["GET", "POST"])
def review(request, kerg: str):
    case = _staff_case(request, kerg)
    error, status = "", 200
    if request.method == "POST":
        res = Results.objects.filter(case_id=case.pk, pk=_uuid(request.POST.get("results"))).first()
        if res is None:
            raise Http404(_("There are no such results."))
        try:
            if request.POST.get("action") == "accept":
                results_accept(res.pk, case=case, actor=request.user)
                messages.success(
                    request, _("The results were accepted; they are being entered into the register.")
                )
            elif request.POST.get("action") == "return":
                results_return(res.pk, case=case, actor=request.user, remarks=request.POST.get("remarks", ""))
                messages.success(request, _("The results were returned to the surveyor."))
            else:
                raise GisportalError(_("Unknown action."))
        except GisportalError as e:
            error, status = str(e.message), e.status if 400 <= e.status < 500 else 400
        else:
            return redirect("survey_review", kerg=case.sign)
    all_results = list(Results.objects.filter(case_id=case.pk))
    current = all_results[0] if all_results else None
    view = results_view(current) if current else None
    return render(
        request,
        "surveys/review.html",
        {
            "case": case,
            "view": view,
            "earlier": all_results[1:],
            "map": before_after(current.report, case.location.wkt if case.location else None)
            if current
            else None,
            "error": error,
        },
        status=status,
    )


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@login_required
@require_POST
def hand_in(request, case_id: int):
    """The surveyor's form on the case page (without JS): the same action as the API."""
    case = Case.objects.filter(pk=case_id, applicant_user=request.user, service__code=SERVICE).first()
    if case is None:
        raise Http404(_("There is no such case."))
    gml = request.FILES.get("gml")
    if gml is None:
        messages.error(request, _("Attach the GML file."))
    else:
        try:
            results_submit(case, user=request.user, gml=gml, files=request.FILES.getlist("files"))
        except GisportalError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(
                request, _("The results were handed in and are being checked; the office will review them.")
            )
    return redirect("my_case", case_id=case.pk)


def results_panel(case: Case, user) -> dict:
    """{"survey_results": ...} on the surveyor's own work notification's page ("My case"), {} elsewhere."""
    if case.applicant_user_id != getattr(user, "pk", None) or case.service is None:
        return {}
    if case.service.code != "zgloszenie-prac":
        return {}
    return {"survey_results": results_for_surveyor(case, user)}
