"""Registry imports for clerks and the voivodeship geodesist: a staff page and the JSON API.
Views are thin: parse, call one action or selector, render."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from gisportal.core.apiauth import ApiAuthError, api_user
from gisportal.core.problems import problem
from layers.actions import import_job_create, import_job_progress
from layers.importing.base import ImportFailed
from layers.importing.scope import ImportScope
from layers.models import ImportJob
from services.offices.selectors import import_scope_of

CAPABILITY = "gisportal.import_registries"
MAX_UPLOAD = 2 * 1024**3
LAYER_CHOICES = [("", "—"), ("dzialki", "dzialki"), ("budynki", "budynki"), ("obreby", "obreby"),
                 ("jednostki_ewidencyjne", "jednostki_ewidencyjne"), ("uzytki", "uzytki"),
                 ("kontury_klasyfikacyjne", "kontury_klasyfikacyjne"), ("adresy", "adresy"), ("mpzp", "mpzp"),
                 ("granice", "granice")]


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (EGiB GML, GeoPackage, GeoJSON or zipped Shapefile)"))
    policy = forms.ChoiceField(label=gettext_lazy("Invalid objects"), choices=ImportJob.Policy.choices, initial="reject")
    layer = forms.ChoiceField(label=gettext_lazy("Layer (for GeoPackage, Shapefile, GeoJSON)"), choices=LAYER_CHOICES, required=False)
    mapping = forms.CharField(label=gettext_lazy("Field mapping, one TARGET=SOURCE per line"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    srs = forms.CharField(label=gettext_lazy("Coordinate reference system, when the file has none (e.g. EPSG:2180)"),
                          required=False, max_length=40)
    encoding = forms.CharField(label=gettext_lazy("Character encoding of a Shapefile without .cpg (e.g. cp1250)"),
                               required=False, max_length=20)
    dry_run = forms.BooleanField(label=gettext_lazy("Check only: validate and report, write nothing"), required=False)

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
    "error": gettext_lazy("error"), "warning": gettext_lazy("warning"), "rejected": gettext_lazy("rejected"),
    "kept": gettext_lazy("kept"), "repaired": gettext_lazy("repaired"), "reading": gettext_lazy("reading the file"),
    "writing": gettext_lazy("writing to the register"), "done": gettext_lazy("done"), "failed": gettext_lazy("failed"),
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
        return import_job_create(form.cleaned_data["file"], user=user, policy=form.cleaned_data["policy"],
                                 options=form.options(), storage_dir=settings.GISPORTAL_IMPORT_DIR, scope=scope,
                                 dry_run=bool(form.cleaned_data.get("dry_run")))


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
    return render(request, "web/imports.html", {"form": form, "jobs": jobs, "scope": scope},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def import_detail(request, job_id: int):
    job = get_object_or_404(_jobs_of(_require(request.user)), pk=job_id)
    progress = import_job_progress(job)
    progress["phase_label"] = CODE_LABELS.get(progress.get("phase"), progress.get("phase"))
    problems = [{**p, "severity_label": CODE_LABELS.get(p.get("severity"), p.get("severity")),
                 "action_label": CODE_LABELS.get(p.get("action"), p.get("action"))}
                for p in (job.report.get("problems") or [])[:500]]
    return render(request, "web/import_detail.html", {"job": job, "progress": progress, "problems": problems})


# ---------------------------------------------------------------- JSON API
def _api_access(request):
    """(the caller's import scope, None) when the caller (API key, HTTP Basic or session:
    gisportal.core.apiauth) may import, the caller then being request.user; otherwise (None, the
    401/403/429 problem to answer with)."""
    try:
        user = api_user(request)
    except ApiAuthError as e:
        return None, e.response
    if user is None:
        return None, problem(401, _("Log in first."), code="not_authenticated")
    if not user.has_perm(CAPABILITY):
        return None, problem(403, _("You are not allowed to import registry data."), code="forbidden")
    request.user = user
    try:
        return import_scope_of(user), None
    except PermissionDenied as e:
        return None, problem(403, str(e), code="forbidden")


@require_http_methods(["GET", "POST"])
def api_imports(request):
    scope, denied = _api_access(request)
    if denied:
        return denied
    if request.method == "GET":
        return JsonResponse({"imports": [import_job_progress(j) for j in _jobs_of(scope)[:100]]},
                            json_dumps_params={"ensure_ascii": False})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return problem(400, _("The request is invalid."), code="invalid", errors=form.errors.get_json_data())
    try:
        job = _create(form, request.user, scope)
    except ImportFailed as e:
        return problem(403, str(e.message), code="outside_scope")
    return JsonResponse(import_job_progress(job), status=202, headers={"Location": f"/api/imports/{job.pk}"},
                        json_dumps_params={"ensure_ascii": False})


@require_GET
def api_import(request, job_id: int):
    scope, denied = _api_access(request)
    if denied:
        return denied
    job = _jobs_of(scope).filter(pk=job_id).first()
    if job is None:
        return problem(404, _("There is no such import."), code="not_found")
    data = import_job_progress(job)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        data["report"] = job.report
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
