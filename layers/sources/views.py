"""Staff pages for remote sources at /urzad/zrodla/: the list, registering a source, one source's layers
with their CRSs and the choice of those to use. Staff with the capability import_registries only.
Views are thin: parse, call one action or selector, render."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gisportal.core.errors import GisportalError, NotFound
from layers.models import RemoteSource

from . import actions, harvest, selectors

CAPABILITY = "gisportal.import_registries"


class SourceForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Service address (URL)"),
        max_length=500,
        help_text=gettext_lazy("e.g. https://example.gov.pl/wms — without a user name or password"),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind of service"), choices=RemoteSource.Kind.choices)


def _require(user) -> None:
    if not user.has_perm(CAPABILITY):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def source_list(request):
    _require(request.user)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = actions.source_add(
                form.cleaned_data["url"], form.cleaned_data["kind"], user=request.user
            )
        except GisportalError as e:
            form.add_error("url", str(e.message))
        else:
            return redirect("source_detail", source_id=source.pk)
    return render(
        request,
        "layers/sources.html",
        {"form": form, "sources": selectors.source_list()[:200]},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def source_detail(request, source_id: int):
    _require(request.user)
    try:
        source = selectors.source_get(source_id)
    except RemoteSource.DoesNotExist:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "refresh":
                actions.source_refresh(source.pk)
            elif action == "harvest":
                harvest.harvest_start(source.pk, request.POST.get("name", "")[:200])
            elif action == "schedule":
                hours = request.POST.get("hours", "")
                harvest.harvest_schedule(_int(request.POST.get("layer")), _int(hours))
            elif action == "axis":
                harvest.source_axis(source.pk, request.POST.get("axis", ""))
            else:
                actions.source_choose(source.pk, request.POST.getlist("names"))
        except NotFound:
            raise Http404 from None
        except GisportalError as e:
            error = str(e.message)
        else:
            return redirect("source_detail", source_id=source.pk)
    return render(
        request,
        "layers/sources_detail.html",
        {
            "source": source,
            "layers": selectors.source_layers(source),
            "harvests": harvest.harvest_overview(source),
            "axes": RemoteSource.Axis.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


def _int(value) -> int:
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 9:
        raise GisportalError(gettext_lazy("Give a whole number."))
    return int(value)
