"""The surveyor's results over the JSON API (django-ninja router, mounted at /api/ by gisportal/api.py):
`POST /api/surveys/{kerg}/results` hands in the changed EGiB data and the operat's files of one's own work."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from gisportal.core.apiauth import ApiAuth
from gisportal.core.errors import GisportalError
from gisportal.core.problems import Problem
from services.cases.models import Case

from .results import results_submit

SERVICE = "zgloszenie-prac"  # the work notification whose case sign is the KERG identifier
router = Router(tags=["surveys"], auth=ApiAuth())
UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["gml"],
                "properties": {
                    "gml": {
                        "type": "string",
                        "format": "binary",
                        "description": "the changed EGiB data (GML)",
                    },
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "the operat's files, signed (PAdES, XAdES, CAdES or ASiC)",
                    },
                },
            }
        }
    },
}


class ResultsOut(Schema):
    id: str
    kerg: str
    status: str
    submitted_at: str
    counts: dict[str, dict[str, int]] = Field(description="new, changed and retired objects per kind")
    problems: list[dict[str, Any]] = Field(
        description="what the dry import of the data found (empty while the results are being checked)"
    )
    signatures: list[dict[str, Any]] = Field(description="one verdict per file of the operat")


def own_case(user, kerg: str) -> Case | None:
    """The case of this sign filed by this user; None for another's case and for none (the same 404)."""
    if not user.is_authenticated:
        return None
    return Case.objects.filter(sign=kerg, applicant_user=user, service__code=SERVICE).first()


@router.post(
    "/surveys/{kerg}/results",
    response={202: ResultsOut},
    url_name="api_survey_results",
    summary="Hand in the results of one's surveying work (the surveyor who filed it)",
    description="`gml`: the work area's EGiB data after the work (an export of the area, changed); objects "
    "of a kind the file holds that lie wholly inside the work area and are missing are retired. New and changed "
    "objects must lie inside the work area (1 m of tolerance): the file is read and compared with the register at "
    'once; the dry import that checks it runs as a background job (`status` "checking", then "checked" or '
    '"rejected"; the case page shows it). The county\'s clerk then reviews and accepts or returns it.',
    openapi_extra={
        "requestBody": UPLOAD,
        "responses": {
            400: {"description": "no GML file"},
            404: {"description": "no such case of the caller's"},
            409: {"description": "the results were accepted already"},
            422: {"description": "the GML cannot be read, or changes objects outside the work area"},
        },
    },
)
def results_hand_in(request, kerg: str, response: HttpResponse):
    case = own_case(request.user, kerg)
    if case is None:
        raise Problem(404, _("There is no such case."), code="not_found")
    gml = request.FILES.get("gml")
    if gml is None:
        raise Problem(
            400, _("Attach the GML file."), code="invalid", errors={"gml": [_("This field is required.")]}
        )
    try:
        res = results_submit(case, user=request.user, gml=gml, files=request.FILES.getlist("files"))
    except GisportalError as e:
        raise Problem(e.status, str(e.message), code=e.code) from None
    response["Location"] = f"/api/surveys/{kerg}/results"
    report = res.report
    return Status(
        202,
        {
            "id": str(res.pk),
            "kerg": res.kerg,
            "status": res.status,
            "submitted_at": res.submitted_at.isoformat(),
            "counts": report.get("counts", {}),
            "problems": report.get("pipeline", {}).get("problems", [])[:200],
            "signatures": [
                {
                    "file": (r.get("file") or {}).get("name", ""),
                    "indication": r.get("indication", ""),
                    "error": r.get("error", ""),
                }
                for r in res.signature_reports
            ],
        },
    )
