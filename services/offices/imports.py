"""Registry imports for clerks and the voivodeship geodesist: a staff page and the JSON API. They live
with the offices because an office decides what its staff may import (ImportScope).
Views are thin: parse, call one action or selector, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from ninja import Field, Router, Schema, Status

from gisportal.core.apiauth import ApiAuth
from gisportal.core.problems import Problem
from layers.actions import import_job_create, import_job_progress
from layers.importing.base import ImportFailed
from layers.importing.scope import ImportScope
from layers.models import ImportJob

from .selectors import import_scope_of

CAPABILITY = "gisportal.import_registries"
MAX_UPLOAD = 2 * 1024**3
LAYER_CHOICES = [
    ("", "—"),
    ("dzialki", "dzialki"),
    ("budynki", "budynki"),
    ("obreby", "obreby"),
    ("jednostki_ewidencyjne", "jednostki_ewidencyjne"),
    ("uzytki", "uzytki"),
    ("kontury_klasyfikacyjne", "kontury_klasyfikacyjne"),
    ("adresy", "adresy"),
    ("mpzp", "mpzp"),
    ("granice", "granice"),
]


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (EGiB GML, GeoPackage, GeoJSON or zipped Shapefile)"))
    policy = forms.ChoiceField(
        label=gettext_lazy("Invalid objects"), choices=ImportJob.Policy.choices, initial="reject"
    )
    layer = forms.ChoiceField(
        label=gettext_lazy("Layer (for GeoPackage, Shapefile, GeoJSON)"),
        choices=LAYER_CHOICES,
        required=False,
    )
    mapping = forms.CharField(
        label=gettext_lazy("Field mapping, one TARGET=SOURCE per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    srs = forms.CharField(
        label=gettext_lazy("Coordinate reference system, when the file has none (e.g. EPSG:2180)"),
        required=False,
        max_length=40,
    )
    encoding = forms.CharField(
        label=gettext_lazy("Character encoding of a Shapefile without .cpg (e.g. cp1250)"),
        required=False,
        max_length=20,
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Check only: validate and report, write nothing"), required=False
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than %(n)s GB.") % {"n": MAX_UPLOAD // 1024**3})
        return f

    def clean_mapping(self):
        out = {}
        for line in (self.cleaned_data.get("mapping") or "").splitlines():
            if not line.strip():
                continue
            if "=" not in line:
                raise forms.ValidationError(_("Each line must read TARGET=SOURCE."))
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
        return out

    def options(self) -> dict:
        opts = {}
        if self.cleaned_data.get("layer"):
            opts["layer"] = self.cleaned_data["layer"]
        if self.cleaned_data.get("mapping"):
            opts["mapping"] = self.cleaned_data["mapping"]
        for key in ("srs", "encoding"):
            if self.cleaned_data.get(key):
                opts[key] = self.cleaned_data[key].strip()
        return opts


CODE_LABELS = {
    "error": gettext_lazy("error"),
    "warning": gettext_lazy("warning"),
    "rejected": gettext_lazy("rejected"),
    "kept": gettext_lazy("kept"),
    "repaired": gettext_lazy("repaired"),
    "reading": gettext_lazy("reading the file"),
    "writing": gettext_lazy("writing to the register"),
    "done": gettext_lazy("done"),
    "failed": gettext_lazy("failed"),
}


def _require(user):
    """The user's import scope (None: the superuser, unrestricted); PermissionDenied without the right or an office."""
    if not user.has_perm(CAPABILITY):
        raise PermissionDenied
    return import_scope_of(user)


def _jobs_of(scope: ImportScope | None):
    """An office sees its own jobs only (those of its keeper level and unit); the superuser sees all."""
    jobs = ImportJob.objects.all()
    if scope is not None:
        jobs = jobs.filter(scope__keeper=scope.keeper, scope__teryt=scope.teryt)
    return jobs


def _create(form: ImportForm, user, scope: ImportScope | None) -> ImportJob:
    with transaction.atomic():
        return import_job_create(
            form.cleaned_data["file"],
            user=user,
            policy=form.cleaned_data["policy"],
            options=form.options(),
            storage_dir=settings.GISPORTAL_IMPORT_DIR,
            scope=scope,
            dry_run=bool(form.cleaned_data.get("dry_run")),
        )


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    scope = _require(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = _create(form, request.user, scope)
        except ImportFailed as e:
            form.add_error("layer", str(e.message))
        else:
            return redirect("import_detail", job_id=job.pk)
    jobs = _jobs_of(scope)[:50]
    return render(
        request,
        "web/imports.html",
        {"form": form, "jobs": jobs, "scope": scope},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def import_detail(request, job_id: int):
    job = get_object_or_404(_jobs_of(_require(request.user)), pk=job_id)
    progress = import_job_progress(job)
    progress["phase_label"] = CODE_LABELS.get(progress.get("phase"), progress.get("phase"))
    problems = [
        {
            **p,
            "severity_label": CODE_LABELS.get(p.get("severity"), p.get("severity")),
            "action_label": CODE_LABELS.get(p.get("action"), p.get("action")),
        }
        for p in (job.report.get("problems") or [])[:500]
    ]
    return render(request, "web/import_detail.html", {"job": job, "progress": progress, "problems": problems})


# ---------------------------------------------------------------- JSON API (django-ninja, mounted by gisportal/api.py)
router = Router(
    tags=["imports"], auth=ApiAuth()
)  # API key, HTTP Basic or session; unsafe methods need the CSRF token
UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "policy": {
                        "type": "string",
                        "enum": [c for c, _label in ImportJob.Policy.choices],
                        "default": "reject",
                    },
                    "layer": {"type": "string", "enum": [c for c, _label in LAYER_CHOICES]},
                    "mapping": {"type": "string", "description": "one TARGET=SOURCE per line"},
                    "srs": {"type": "string", "maxLength": 40, "examples": ["EPSG:2180"]},
                    "encoding": {"type": "string", "maxLength": 20, "examples": ["cp1250"]},
                    "dry_run": {"type": "boolean"},
                },
            }
        }
    },
}


class ImportProgress(Schema):
    id: int
    file: str
    status: str
    phase: str
    read: int
    written: int
    rejected: int
    created_at: str
    finished_at: str | None
    error: str
    dry_run: bool
    office: str
    report: dict[str, Any] | None = Field(None, description="the job's report, once it is done or failed")


class ImportList(Schema):
    imports: list[ImportProgress]


def _api_scope(request) -> ImportScope | None:
    """The import scope of the authenticated caller (request.user); 403 without the right or an office."""
    if not request.user.has_perm(CAPABILITY):
        raise Problem(403, _("You are not allowed to import registry data."), code="forbidden")
    try:
        return import_scope_of(request.user)
    except PermissionDenied as e:
        raise Problem(403, str(e), code="forbidden") from None


@router.get(
    "/imports/",
    response=ImportList,
    exclude_unset=True,
    url_name="api_imports",
    summary="The import jobs of the caller's office (newest first, at most 100)",
    openapi_extra={"responses": {403: {"description": "not allowed"}}},
)
def imports_list(request):
    return {"imports": [import_job_progress(j) for j in _jobs_of(_api_scope(request))[:100]]}


@router.post(
    "/imports/",
    response={202: ImportProgress},
    exclude_unset=True,
    url_name="api_imports",
    summary="Start a registry import (staff of the office that keeps the layer)",
    description="EGiB layers are the county's (starosta), `adresy` and `mpzp` the gmina's, `granice` the "
    "voivodeship geodesist's; objects outside the office's area fail the whole job. `dry_run` "
    "validates and reports without writing. The file's format is read from its bytes: EGiB GML, "
    "GeoPackage, GeoJSON or one zipped Shapefile; nothing else is opened.",
    openapi_extra={
        "requestBody": UPLOAD,
        "responses": {
            400: {"description": "invalid upload; `errors` maps fields to messages"},
            403: {"description": "not allowed, or a layer the office does not keep"},
        },
    },
)
def imports_start(request, response: HttpResponse):
    scope = _api_scope(request)  # the multipart body is read only now, after the permission check
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        raise Problem(400, _("The request is invalid."), code="invalid", errors=form.errors.get_json_data())
    try:
        job = _create(form, request.user, scope)
    except ImportFailed as e:
        raise Problem(403, str(e.message), code="outside_scope") from None
    response["Location"] = f"/api/imports/{job.pk}"
    return Status(202, import_job_progress(job))


@router.get(
    "/imports/{int:job_id}",
    response=ImportProgress,
    exclude_unset=True,
    url_name="api_import",
    summary="Progress and report of an import job",
    openapi_extra={"responses": {404: {"description": "not found"}}},
)
def imports_one(request, job_id: int):
    job = _jobs_of(_api_scope(request)).filter(pk=job_id).first()
    if job is None:
        raise Problem(404, _("There is no such import."), code="not_found")
    data = import_job_progress(job)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        data["report"] = job.report
    return data
