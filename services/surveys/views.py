"""The surveyor's materials package on the portal's pages: what "My case" shows about it (the panel's
context, rendered by templates/surveys/_package.html) and its download for the logged-in surveyor. Thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from gisportal.core.downloads import harden

from . import selectors

ZIP = "application/vnd.etsi.asic-e+zip"


def package_panel(case, user) -> dict:
    """{"survey_package": {...}} for the surveyor's own work notification, {} for any other case."""
    found = selectors.package_for(user, case_id=case.pk)
    if found is None:
        return {}
    pkg = found.package
    return {
        "survey_package": {
            "state": found.state,
            "progress": pkg.progress if pkg else 0,
            "kerg": found.case.sign,
            "ready_at": pkg.ready_at if pkg else None,
            "expires_at": pkg.expires_at if pkg else None,
            "size": pkg.size if pkg else 0,
            "files": (pkg.contents or {}).get("files", {}) if pkg else {},
            "parcels": (pkg.contents or {}).get("parcels") if pkg else None,
            "notes": (pkg.contents or {}).get("notes", []) if pkg else [],
            "url": reverse("survey_package", args=[case.pk]) if found.state == "ready" else "",
            "api_url": reverse("api:api_survey_package", args=[found.case.sign]),
        }
    }


@login_required
@require_GET
def package_download(request, case_id: int):
    found = selectors.package_for(request.user, case_id=case_id)
    if found is None or found.state != "ready" or found.package is None:
        raise Http404
    pkg = found.package
    response = FileResponse(pkg.file.open("rb"), content_type=ZIP, as_attachment=True)
    response["Content-Disposition"] = f'attachment; filename="{pkg.kerg}.asice"'
    return harden(response)
