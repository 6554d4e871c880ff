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

from gisportal.core.problems import problem
from layers.actions import import_job_create, import_job_progress
from layers.models import ImportJob

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


def _require(user) -> None:
    if not user.has_perm(CAPABILITY):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    _require(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            job = import_job_create(form.cleaned_data["file"], user=request.user, policy=form.cleaned_data["policy"],
                                    options=form.options(), storage_dir=settings.GISPORTAL_IMPORT_DIR)
        return redirect("import_detail", job_id=job.pk)
    jobs = ImportJob.objects.all()[:50]
    return render(request, "web/imports.html", {"form": form, "jobs": jobs})


@login_required
@require_GET
def import_detail(request, job_id: int):
    _require(request.user)
    job = get_object_or_404(ImportJob, pk=job_id)
    progress = import_job_progress(job)
    progress["phase_label"] = CODE_LABELS.get(progress.get("phase"), progress.get("phase"))
    problems = [{**p, "severity_label": CODE_LABELS.get(p.get("severity"), p.get("severity")),
                 "action_label": CODE_LABELS.get(p.get("action"), p.get("action"))}
                for p in (job.report.get("problems") or [])[:500]]
    return render(request, "web/import_detail.html", {"job": job, "progress": progress, "problems": problems})


# ---------------------------------------------------------------- JSON API
def _api_user_ok(request):
    if not request.user.is_authenticated:
        return problem(401, _("Log in first."), code="not_authenticated")
    if not request.user.has_perm(CAPABILITY):
        return problem(403, _("You are not allowed to import registry data."), code="forbidden")
    return None


@require_http_methods(["GET", "POST"])
def api_imports(request):
    denied = _api_user_ok(request)
    if denied:
        return denied
    if request.method == "GET":
        return JsonResponse({"imports": [import_job_progress(j) for j in ImportJob.objects.all()[:100]]})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return problem(400, _("The request is invalid."), code="invalid", errors=form.errors.get_json_data())
    with transaction.atomic():
        job = import_job_create(form.cleaned_data["file"], user=request.user, policy=form.cleaned_data["policy"],
                                options=form.options(), storage_dir=settings.GISPORTAL_IMPORT_DIR)
    return JsonResponse(import_job_progress(job), status=202, headers={"Location": f"/api/imports/{job.pk}"})


@require_GET
def api_import(request, job_id: int):
    denied = _api_user_ok(request)
    if denied:
        return denied
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return problem(404, _("There is no such import."), code="not_found")
    data = import_job_progress(job)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        data["report"] = job.report
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
