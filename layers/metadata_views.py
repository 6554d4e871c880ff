"""Staff pages for dataset metadata at /urzad/metadane/: the published layers (edited or not) and one
layer's metadata form. Staff with the capability import_registries only, as the sources pages. Views are
thin: parse with the form, call metadata_save, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gisportal.core.errors import GisportalError, NotFound

from . import metadata
from .models import DatasetMetadata

CAPABILITY = "gisportal.import_registries"


def _theme_choices():
    language = get_language() or "pl"
    first, second = ("label_en", "label_pl") if language.startswith("en") else ("label_pl", "label_en")
    return [("", _("— none —"))] + [
        (t.code, f"{getattr(t, first)} / {getattr(t, second)}") for t in metadata.INSPIRE_THEMES
    ]


class MetadataForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Empty: the layer's title in the catalogue."),
    )
    abstract = forms.CharField(
        label=gettext_lazy("Abstract"),
        max_length=metadata.MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Empty: the layer's description in the catalogue."),
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords"),
        max_length=3200,
        required=False,
        help_text=gettext_lazy("Separated by commas, e.g. EGiB, działki, Piaseczno."),
    )
    inspire_theme = forms.ChoiceField(label=gettext_lazy("INSPIRE theme"), required=False, choices=())
    lineage = forms.CharField(
        label=gettext_lazy("Lineage"),
        max_length=metadata.MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Where the data come from and how they are kept."),
    )
    licence = forms.CharField(
        label=gettext_lazy("Licence / conditions of use"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("e.g. CC BY 4.0"),
    )
    contact_name = forms.CharField(
        label=gettext_lazy("Contact (organisation)"), max_length=200, required=False
    )
    contact_email = forms.EmailField(label=gettext_lazy("Contact e-mail"), max_length=254, required=False)
    update_frequency = forms.ChoiceField(
        label=gettext_lazy("Update frequency"),
        choices=DatasetMetadata.Frequency.choices,
        initial=DatasetMetadata.Frequency.AS_NEEDED,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspire_theme"].choices = _theme_choices()

    def describe_errors(self) -> None:
        """Tie each field to its help and error texts (aria-describedby, aria-invalid)."""
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.id_for_label}_help")
            if self.is_bound and bound.errors:
                ids.append(f"{bound.id_for_label}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)


def _require(user) -> None:
    if not user.has_perm(CAPABILITY):
        raise PermissionDenied


def _initial(md: DatasetMetadata | None) -> dict:
    if md is None:
        return {}
    return {
        "title": md.title,
        "abstract": md.abstract,
        "keywords": ", ".join(md.keywords or []),
        "inspire_theme": md.inspire_theme,
        "lineage": md.lineage,
        "licence": md.licence,
        "contact_name": md.contact_name,
        "contact_email": md.contact_email,
        "update_frequency": md.update_frequency,
    }


@login_required
@require_http_methods(["GET"])
def metadata_list(request):
    _require(request.user)
    edited = metadata.metadata_all()
    language = get_language() or "pl"
    rows = [
        {"layer": layer, "title": layer.title(language), "metadata": edited.get(layer.name)}
        for layer in metadata.published_layers()
    ]
    return render(request, "layers/metadata_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def metadata_edit(request, layer_name: str):
    _require(request.user)
    layer = metadata.published_layer(layer_name)
    if layer is None:
        raise Http404
    md = metadata.metadata_of(layer.name)
    form = MetadataForm(request.POST or None, initial=_initial(md))
    if request.method == "POST" and form.is_valid():
        try:
            metadata.metadata_save(layer.name, form.cleaned_data, request.user)
        except NotFound:
            raise Http404 from None
        except GisportalError as e:
            form.add_error(e.field if e.field in form.fields else None, str(e.message))
        else:
            messages.success(request, _("The metadata are saved and published."))
            return redirect("metadata_edit", layer_name=layer.name)
    form.describe_errors()
    language = get_language() or "pl"
    return render(
        request,
        "layers/metadata_edit.html",
        {"form": form, "layer": layer, "title": layer.title(language), "metadata": md},
        status=400 if form.errors else 200,
    )
