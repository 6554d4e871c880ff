"""Dataset metadata that staff edit for the published layers (issue 27): the INSPIRE themes offered (the
34 themes of the GEMET "INSPIRE themes" thesaurus, labels in Polish and English), the published layers
with their edits (reads), and the one write, `metadata_save`. ogc/metadata.py publishes the result as
ISO 19139 (the CSW at /csw and OGC API – Records read those records); an empty field falls back to
what the catalogue says. Layers are always looked up through the catalogue's functions: harvested
layers are catalogue entries too."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput, NotFound

from . import catalogue
from .models import DatasetMetadata


@dataclass(frozen=True)
class InspireTheme:
    code: str  # the theme's short name in the INSPIRE registry (http://inspire.ec.europa.eu/theme/<code>)
    annex: str
    label_pl: str
    label_en: str

    @property
    def uri(self) -> str:
        return f"{INSPIRE_THEME_REGISTER}/{self.code}"

    def label(self, language: str = "pl") -> str:
        return self.label_en if language.startswith("en") else self.label_pl


INSPIRE_THEME_REGISTER = "http://inspire.ec.europa.eu/theme"
# the thesaurus the theme keyword cites (INSPIRE metadata TG, requirement 1.5: title, publication date)
GEMET_THESAURUS_TITLE = "GEMET - INSPIRE themes, version 1.0"
GEMET_THESAURUS_DATE = "2008-06-01"

T = InspireTheme
INSPIRE_THEMES: tuple[InspireTheme, ...] = (
    T("rs", "I", "Systemy odniesienia za pomocą współrzędnych", "Coordinate reference systems"),
    T("gg", "I", "Systemy siatek geograficznych", "Geographical grid systems"),
    T("gn", "I", "Nazwy geograficzne", "Geographical names"),
    T("au", "I", "Jednostki administracyjne", "Administrative units"),
    T("ad", "I", "Adresy", "Addresses"),
    T("cp", "I", "Działki katastralne", "Cadastral parcels"),
    T("tn", "I", "Sieci transportowe", "Transport networks"),
    T("hy", "I", "Hydrografia", "Hydrography"),
    T("ps", "I", "Obszary chronione", "Protected sites"),
    T("el", "II", "Ukształtowanie terenu", "Elevation"),
    T("lc", "II", "Pokrycie terenu", "Land cover"),
    T("oi", "II", "Ortoobrazy", "Orthoimagery"),
    T("ge", "II", "Geologia", "Geology"),
    T("su", "III", "Jednostki statystyczne", "Statistical units"),
    T("bu", "III", "Budynki", "Buildings"),
    T("so", "III", "Gleba", "Soil"),
    T("lu", "III", "Zagospodarowanie przestrzenne", "Land use"),
    T("hh", "III", "Zdrowie i bezpieczeństwo ludzi", "Human health and safety"),
    T("us", "III", "Usługi użyteczności publicznej i służby państwowe", "Utility and governmental services"),
    T("ef", "III", "Urządzenia do monitorowania środowiska", "Environmental monitoring facilities"),
    T("pf", "III", "Obiekty produkcyjne i przemysłowe", "Production and industrial facilities"),
    T(
        "af",
        "III",
        "Obiekty rolnicze oraz obiekty gospodarki wodnej",
        "Agricultural and aquaculture facilities",
    ),
    T("pd", "III", "Rozmieszczenie ludności – demografia", "Population distribution — demography"),
    T(
        "am",
        "III",
        "Gospodarowanie obszarem/strefy ograniczone/regulacyjne oraz jednostki sprawozdawcze",
        "Area management/restriction/regulation zones and reporting units",
    ),
    T("nz", "III", "Strefy zagrożenia naturalnego", "Natural risk zones"),
    T("ac", "III", "Warunki atmosferyczne", "Atmospheric conditions"),
    T("mf", "III", "Warunki meteorologiczno-geograficzne", "Meteorological geographical features"),
    T("of", "III", "Warunki oceanograficzno-geograficzne", "Oceanographic geographical features"),
    T("sr", "III", "Obszary morskie", "Sea regions"),
    T("br", "III", "Regiony biogeograficzne", "Bio-geographical regions"),
    T("hb", "III", "Siedliska i obszary przyrodniczo jednorodne", "Habitats and biotopes"),
    T("sd", "III", "Rozmieszczenie gatunków", "Species distribution"),
    T("er", "III", "Zasoby energetyczne", "Energy resources"),
    T("mr", "III", "Zasoby mineralne", "Mineral resources"),
)
THEMES_BY_CODE = {t.code: t for t in INSPIRE_THEMES}

MAX_KEYWORDS = 30
MAX_KEYWORD = 100
MAX_TEXT = 5000  # abstract, lineage
# characters XML 1.0 cannot carry (the ISO record would not serialise): C0 controls but tab and newlines
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FIELDS = (
    "title",
    "abstract",
    "keywords",
    "lineage",
    "licence",
    "contact_name",
    "contact_email",
    "update_frequency",
    "inspire_theme",
)


# ---------------------------------------------------------------- reads
def published_layers() -> tuple[catalogue.Layer, ...]:
    """The layers whose data sets are described (ISO record, CSW, OGC API – Records): what anyone may read,
    label-only layers (numery_dzialek) excepted."""
    return tuple(layer for layer in catalogue.layers_for(AnonymousUser()) if layer.is_dataset)


def published_layer(name: str) -> catalogue.Layer | None:
    layer = catalogue.get_layer(name)
    if layer is None or not layer.is_dataset or not catalogue.user_can_read(AnonymousUser(), layer):
        return None
    return layer


def metadata_of(layer_name: str) -> DatasetMetadata | None:
    return DatasetMetadata.objects.filter(layer_name=layer_name).first()


def metadata_all() -> dict[str, DatasetMetadata]:
    return {m.layer_name: m for m in DatasetMetadata.objects.all()}


def metadata_version() -> str:
    """Changes whenever a member of staff saves metadata: with the data version, the CSW's cache key."""
    row = DatasetMetadata.objects.aggregate(latest=Max("updated_at"), n=Max("pk"))
    latest = row["latest"]
    return f"{latest.isoformat() if latest else '-'}:{row['n'] or 0}"


def theme(code: str) -> InspireTheme | None:
    return THEMES_BY_CODE.get(code or "")


# ---------------------------------------------------------------- the write
def parse_keywords(value) -> list[str]:
    """Keywords from a comma-separated text (the form) or a list: trimmed, without empty ones and
    repeats (case-insensitive), at most MAX_KEYWORDS of at most MAX_KEYWORD characters each."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        word = " ".join(str(item).split())
        if not word or word.casefold() in seen:
            continue
        if len(word) > MAX_KEYWORD:
            raise InvalidInput(
                _("A keyword may have at most %(n)d characters.") % {"n": MAX_KEYWORD}, field="keywords"
            )
        seen.add(word.casefold())
        out.append(word)
    if len(out) > MAX_KEYWORDS:
        raise InvalidInput(_("At most %(n)d keywords, please.") % {"n": MAX_KEYWORDS}, field="keywords")
    return out


def _text(data: dict, field: str, limit: int) -> str:
    value = str(data.get(field) or "").strip()
    if _NOT_XML.search(value):
        raise InvalidInput(_("The text contains control characters."), field=field)
    if len(value) > limit:
        raise InvalidInput(
            _("At most %(n)d characters, please.") % {"n": limit}, field=field, code="too_long"
        )
    return value


def metadata_save(layer_name: str, data: dict, user=None) -> DatasetMetadata:
    """Save the metadata of one published layer; fields not in `data` become empty (the catalogue's value
    is published then). InvalidInput (with the field) and nothing saved when a value is refused; NotFound
    for a layer that is not published."""
    if published_layer(layer_name) is None:
        raise NotFound(_("No such published layer."))
    values = {
        "title": _text(data, "title", 300),
        "abstract": _text(data, "abstract", MAX_TEXT),
        "lineage": _text(data, "lineage", MAX_TEXT),
        "licence": _text(data, "licence", 300),
        "contact_name": _text(data, "contact_name", 200),
        "contact_email": _text(data, "contact_email", 254),
        "keywords": parse_keywords(data.get("keywords")),
    }
    for word in values["keywords"]:
        if _NOT_XML.search(word):
            raise InvalidInput(_("The text contains control characters."), field="keywords")
    if values["contact_email"]:
        try:
            validate_email(values["contact_email"])
        except ValidationError:
            raise InvalidInput(_("Enter a valid e-mail address."), field="contact_email") from None
    frequency = str(data.get("update_frequency") or DatasetMetadata.Frequency.AS_NEEDED)
    if frequency not in DatasetMetadata.Frequency.values:
        raise InvalidInput(_("Choose an update frequency from the list."), field="update_frequency")
    code = str(data.get("inspire_theme") or "")
    if code and code not in THEMES_BY_CODE:
        raise InvalidInput(_("Choose an INSPIRE theme from the list."), field="inspire_theme")
    values["update_frequency"] = frequency
    values["inspire_theme"] = code
    values["updated_by"] = user if user is not None and getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        record, _created = DatasetMetadata.objects.update_or_create(layer_name=layer_name, defaults=values)
    return record
