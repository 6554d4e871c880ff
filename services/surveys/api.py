"""The surveyor's materials package over the JSON API (django-ninja router, mounted at /api/ by
gisportal/api.py). Thin: one selector, one answer. Only the surveyor who filed the work notification
sees it; for anyone else it does not exist (404)."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Router

from gisportal.core.apiauth import ApiAuth
from gisportal.core.downloads import harden
from gisportal.core.problems import Problem

from . import actions, selectors

router = Router(tags=["surveys"])
AUTH = ApiAuth()
ZIP = "application/vnd.etsi.asic-e+zip"


@router.get(
    "/surveys/{kerg}/package",
    auth=AUTH,
    url_name="api_survey_package",
    summary="The materials package of a surveying work (ASiC-E sealed by the county), once the fee is paid",
    description=(
        "`kerg` is the work notification's KERG identifier, its case sign (e.g. `GK.6640.1.2026`). Only the "
        "surveyor who filed the notification gets the package; for anyone else it does not exist (404). "
        "The package is prepared after the fee calculation document (DOO) is paid: before that the answer is "
        "402 (`not_paid`), while it is being prepared 409 (`being_prepared`, with `progress` in per cent), "
        "after its expiry (the work's end date + 1 year) 410 (`expired`). The container holds egib.gml, "
        "warstwy.gpkg, mapa.pdf, dzialki.csv and punkty.csv with the county's seal over their digests; check "
        "it with POST /api/signatures/verify."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "the package: an ASiC-E container (zip) sealed by the county",
                "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
            },
            402: {"description": "the fee has not been paid yet (`not_paid`)"},
            404: {"description": "no such work notification of yours"},
            409: {"description": "being prepared (`being_prepared`, `progress`), or failed (`failed`)"},
            410: {"description": "the package has expired (`expired`)"},
        }
    },
)
def package(request, kerg: str):
    found = selectors.package_for(request.auth, kerg=kerg)
    if found is None:
        raise Problem(404, _("You have no work notification with this identifier."), code="not_found")
    state, pkg = found.state, found.package
    if state == "not_paid":
        raise Problem(
            402,
            _("The materials package is prepared once the fee is paid: it is not paid yet."),
            code="not_paid",
        )
    if state == "expired":
        raise Problem(410, _("The materials package has expired."), code="expired")
    if pkg is None:  # paid, but the payment's callback was lost: ask for it now
        pkg = actions.package_request(found.case.pk)
    if pkg is None or state in ("queued", "running"):
        raise Problem(
            409,
            _("The materials package is being prepared; try again in a few minutes."),
            code="being_prepared",
            progress=pkg.progress if pkg else 0,
        )
    if state == "failed":
        raise Problem(
            409, _("The materials package could not be prepared; the office has been told."), code="failed"
        )
    response = FileResponse(pkg.file.open("rb"), content_type=ZIP, as_attachment=True)
    response["Content-Disposition"] = f'attachment; filename="{pkg.kerg}.asice"'
    return harden(response)
