"""The layer catalogue: one declaration per published layer, the single source of truth for WMS,
WFS, OGC API, tiles and the web pages (ARCHITECTURE §5.8). Nothing here touches the database.

A layer names its model; from it come the table, the current-row rule (`current_only`: rows whose
`end_object` is set have been retired) and the public columns with their types. The services read
rows only through `layer_queryset` (WFS, OGC API, feature info) and `layer_sql_source` (tiles, Mapnik,
extents), so adding a layer is one entry here (and its group); a layer without styles of its own is
drawn in the default style of its geometry type (ogc/render/styles.py).

Besides the declared layers, the catalogue holds the layers harvested from other offices' services
(layers/sources/harvested.py registers their provider at start-up, `set_extra_layers`): read through
`all_layers`, `get_layer`, `layer_names` and `layers_for`, never the `LAYERS` tuple alone. Their rows share
one table (`HarvestedFeature`), told apart by `partition` (the harvested layer's id); their attributes
are keys of a JSON column (`properties__NAME`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Attribute:
    """A published attribute: the public name (KIEG-style where one exists) and the ORM path."""

    name: str
    source: str
    type: str = "string"  # string | integer | decimal | date | datetime
    title_pl: str = ""
    title_en: str = ""


@dataclass(frozen=True)
class Layer:
    name: str
    group: str
    title_pl: str
    title_en: str
    abstract_pl: str
    abstract_en: str
    model: str  # app_label.ModelName
    geometry_type: str  # MultiPolygon | Point | LineString
    id_attribute: str  # the official identifier, used as feature id
    public_attributes: tuple[Attribute, ...]
    restricted_attributes: tuple[str, ...] = ()
    queryable: bool = True
    min_scale: float | None = None  # MinScaleDenominator
    max_scale: float | None = None  # MaxScaleDenominator
    default_style: str = "default"
    styles: tuple[str, ...] = ("default",)
    inspire_alias: str = ""
    keywords: tuple[str, ...] = ()
    current_only: bool = True  # registry objects with life-cycle dates
    required_capability: str = "view_public_layers"
    labels_of: str = ""  # for label-only layers (numery_dzialek): the layer whose labels they are
    # for view-only layers (the INSPIRE view layers, CP.CadastralParcel …): the layer whose data they portray
    # under another name and style; served by the WMS only (downloads have their own schema, ogc/inspire)
    view_of: str = ""
    tiles: bool = False  # vector tiles (OGC API – Tiles, MVT)
    tile_min_zoom: int = 13  # WebMercatorQuad level below which the layer's tiles are empty
    tile_detail_zoom: int = 16  # from this level on the tiles carry `tile_attributes` besides the id
    tile_attributes: tuple[str, ...] = ()  # public attribute names
    # who keeps (and alone may import) the layer: "county" (the starosta: EGiB), "gmina" (its own area),
    # "voivodeship" (the voivodeship geodesist) — the levels of services.offices.OFFICE_KIND_LEVEL
    keeper: str = "county"
    partition: int | None = None  # harvested layers: the HarvestedLayer id their rows carry
    origin: str = ""  # harvested layers: the remote service and type or collection they come from
    harvested_at: str = ""  # harvested layers: the last harvest (ISO 8601)

    def title(self, language: str = "pl") -> str:
        return self.title_en if language.startswith("en") else self.title_pl

    @property
    def is_dataset(self) -> bool:
        """A data set of its own (features, a metadata record), not labels or a view of another layer."""
        return not self.labels_of and not self.view_of

    def abstract(self, language: str = "pl") -> str:
        return self.abstract_en if language.startswith("en") else self.abstract_pl

    def attribute(self, name: str) -> Attribute | None:
        for a in self.public_attributes:
            if a.name.lower() == name.lower():
                return a
        return None

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.public_attributes)

    def attribute_of_source(self, source: str) -> Attribute | None:
        """The public attribute read from this ORM path (style columns name their source)."""
        return next((a for a in self.public_attributes if a.source == source), None)


@dataclass(frozen=True)
class LayerGroup:
    name: str
    title_pl: str
    title_en: str

    def title(self, language: str = "pl") -> str:
        return self.title_en if language.startswith("en") else self.title_pl

    @property
    def layers(self) -> tuple[str, ...]:
        """The names of the group's layers in catalogue order (each layer names its group)."""
        return tuple(layer.name for layer in all_layers() if layer.group == self.name)


A = Attribute

_PARCEL_ATTRS = (
    A("ID_DZIALKI", "parcel_id", title_pl="Identyfikator działki", title_en="Parcel identifier"),
    A("NUMER_DZIALKI", "number", title_pl="Numer działki", title_en="Parcel number"),
    A("NUMER_ARKUSZA", "sheet", "integer", "Numer arkusza mapy", "Map sheet number"),
    A("NUMER_OBREBU", "precinct__number", title_pl="Numer obrębu", title_en="Precinct number"),
    A("NAZWA_OBREBU", "precinct__name", title_pl="Nazwa obrębu", title_en="Precinct name"),
    A("ID_JEDNOSTKI", "precinct__unit__unit_id", title_pl="Jednostka ewidencyjna", title_en="Cadastral unit"),
    A("NAZWA_GMINY", "precinct__unit__gmina__name", title_pl="Nazwa gminy", title_en="Gmina"),
    A("POLE_EWIDENCYJNE", "area_ha", "decimal", "Pole ewidencyjne [ha]", "Registered area [ha]"),
    A("GRUPA_REJESTROWA", "registration_group", "integer", "Grupa rejestrowa", "Registration group"),
    A("DATA", "start_version", "datetime", "Data wersji", "Version date"),
)

LAYERS: tuple[Layer, ...] = (
    Layer(
        name="dzialki",
        group="egib",
        title_pl="Działki ewidencyjne",
        title_en="Cadastral parcels",
        abstract_pl="Granice działek ewidencyjnych z ewidencji gruntów i budynków (EGiB) gminy Piaseczno.",
        abstract_en="Boundaries of cadastral parcels from the land and building register (EGiB) of gmina Piaseczno.",
        model="layers.Parcel",
        geometry_type="MultiPolygon",
        id_attribute="ID_DZIALKI",
        public_attributes=_PARCEL_ATTRS,
        restricted_attributes=("KW", "OWNERS"),
        max_scale=50000,
        styles=("default", "kieg", "wypelnienie"),
        inspire_alias="CP.CadastralParcel",
        keywords=("EGiB", "działki", "cadastral parcels", "KIEG"),
        tiles=True,
        tile_min_zoom=13,
        tile_detail_zoom=16,
        tile_attributes=("NUMER_DZIALKI", "NAZWA_OBREBU", "POLE_EWIDENCYJNE"),
    ),
    Layer(
        name="numery_dzialek",
        group="egib",
        title_pl="Numery działek",
        title_en="Parcel numbers",
        abstract_pl="Numery działek ewidencyjnych (etykiety), widoczne w dużych skalach.",
        abstract_en="Cadastral parcel numbers (labels), shown at large scales.",
        model="layers.Parcel",
        geometry_type="MultiPolygon",
        id_attribute="ID_DZIALKI",
        public_attributes=_PARCEL_ATTRS[:5],
        queryable=False,
        max_scale=5000,
        inspire_alias="",
        keywords=("EGiB", "numery działek"),
        labels_of="dzialki",
    ),
    Layer(
        name="budynki",
        group="egib",
        title_pl="Budynki",
        title_en="Buildings",
        abstract_pl="Budynki z ewidencji gruntów i budynków (EGiB): rodzaj według KŚT i liczba kondygnacji.",
        abstract_en="Buildings from the land and building register (EGiB): KŚT class and number of storeys.",
        model="layers.Building",
        geometry_type="MultiPolygon",
        id_attribute="ID_BUDYNKU",
        public_attributes=(
            A("ID_BUDYNKU", "building_id", title_pl="Identyfikator budynku", title_en="Building identifier"),
            A("FUNKCJA", "kst_type", title_pl="Rodzaj wg KŚT", title_en="KŚT class"),
            A("KONDYGNACJE", "storeys_above", "integer", "Kondygnacje nadziemne", "Storeys above ground"),
            A(
                "KONDYGNACJE_PODZIEMNE",
                "storeys_below",
                "integer",
                "Kondygnacje podziemne",
                "Storeys below ground",
            ),
            A(
                "POWIERZCHNIA_ZABUDOWY",
                "built_up_area_m2",
                "decimal",
                "Powierzchnia zabudowy [m²]",
                "Built-up area [m²]",
            ),
        ),
        restricted_attributes=("KW",),
        max_scale=25000,
        inspire_alias="BU.Building",
        keywords=("EGiB", "budynki", "buildings"),
        tiles=True,
        tile_min_zoom=14,
        tile_detail_zoom=16,
        tile_attributes=("FUNKCJA", "KONDYGNACJE"),
    ),
    Layer(
        name="obreby",
        group="egib",
        title_pl="Obręby ewidencyjne",
        title_en="Cadastral precincts",
        abstract_pl="Obręby ewidencyjne gminy Piaseczno z numerami i nazwami.",
        abstract_en="Cadastral precincts of gmina Piaseczno with their numbers and names.",
        model="layers.Precinct",
        geometry_type="MultiPolygon",
        id_attribute="ID_OBREBU",
        public_attributes=(
            A("ID_OBREBU", "precinct_id", title_pl="Identyfikator obrębu", title_en="Precinct identifier"),
            A("NUMER_OBREBU", "number", title_pl="Numer obrębu", title_en="Precinct number"),
            A("NAZWA_OBREBU", "name", title_pl="Nazwa obrębu", title_en="Precinct name"),
            A("ID_JEDNOSTKI", "unit__unit_id", title_pl="Jednostka ewidencyjna", title_en="Cadastral unit"),
        ),
        inspire_alias="CP.CadastralZoning",
        keywords=("EGiB", "obręby", "cadastral zoning"),
    ),
    Layer(
        name="jednostki_ewidencyjne",
        group="egib",
        title_pl="Jednostki ewidencyjne",
        title_en="Cadastral units",
        abstract_pl="Jednostki ewidencyjne: miasto Piaseczno (141804_4) i obszar wiejski (141804_5).",
        abstract_en="Cadastral units: the town of Piaseczno (141804_4) and its rural area (141804_5).",
        model="layers.CadastralUnit",
        geometry_type="MultiPolygon",
        id_attribute="ID_JEDNOSTKI",
        public_attributes=(
            A("ID_JEDNOSTKI", "unit_id", title_pl="Identyfikator jednostki", title_en="Unit identifier"),
            A("NAZWA", "name", title_pl="Nazwa", title_en="Name"),
        ),
        inspire_alias="CP.CadastralZoning",
        keywords=("EGiB", "jednostki ewidencyjne"),
    ),
    Layer(
        name="uzytki",
        group="egib",
        title_pl="Użytki gruntowe",
        title_en="Land-use contours",
        abstract_pl="Kontury użytków gruntowych (OFU) z EGiB.",
        abstract_en="Land-use contours (OFU) from EGiB.",
        model="layers.LandUseContour",
        geometry_type="MultiPolygon",
        id_attribute="ID_UZYTKU",
        public_attributes=(
            A("ID_UZYTKU", "contour_id", title_pl="Identyfikator konturu", title_en="Contour identifier"),
            A("OFU", "ofu", title_pl="Oznaczenie użytku (OFU)", title_en="Land use (OFU)"),
        ),
        max_scale=25000,
        styles=("default",),
        keywords=("EGiB", "użytki gruntowe", "land use"),
    ),
    Layer(
        name="kontury_klasyfikacyjne",
        group="egib",
        title_pl="Kontury klasyfikacyjne",
        title_en="Soil-class contours",
        abstract_pl="Kontury klasyfikacyjne (OZU, OZK) z EGiB.",
        abstract_en="Soil-class contours (OZU, OZK) from EGiB.",
        model="layers.SoilClassContour",
        geometry_type="MultiPolygon",
        id_attribute="ID_KONTURU",
        public_attributes=(
            A("ID_KONTURU", "contour_id", title_pl="Identyfikator konturu", title_en="Contour identifier"),
            A("OZU", "ozu", title_pl="Oznaczenie użytku (OZU)", title_en="Soil use (OZU)"),
            A("OZK", "ozk", title_pl="Klasa gleboznawcza (OZK)", title_en="Soil class (OZK)"),
        ),
        max_scale=25000,
        keywords=("EGiB", "kontury klasyfikacyjne", "soil classes"),
    ),
    Layer(
        name="adresy",
        keeper="gmina",
        group="adresy",
        title_pl="Punkty adresowe",
        title_en="Address points",
        abstract_pl="Punkty adresowe z gminnej ewidencji miejscowości, ulic i adresów (EMUiA).",
        abstract_en="Address points from the gmina register of localities, streets and addresses (EMUiA).",
        model="layers.AddressPoint",
        geometry_type="Point",
        id_attribute="ID_ADRESU",
        public_attributes=(
            A("ID_ADRESU", "local_id", title_pl="Identyfikator punktu", title_en="Address point identifier"),
            A("MIEJSCOWOSC", "locality", title_pl="Miejscowość", title_en="Locality"),
            A("SIMC", "simc", title_pl="Identyfikator SIMC", title_en="SIMC id"),
            A("ULICA", "street", title_pl="Ulica", title_en="Street"),
            A("ULIC", "ulic", title_pl="Identyfikator ULIC", title_en="ULIC id"),
            A("NUMER", "number", title_pl="Numer porządkowy", title_en="House number"),
            A("KOD_POCZTOWY", "postcode", title_pl="Kod pocztowy", title_en="Postal code"),
        ),
        max_scale=10000,
        inspire_alias="AD.Address",
        keywords=("EMUiA", "adresy", "addresses"),
        tiles=True,
        tile_min_zoom=15,
        tile_detail_zoom=15,
        tile_attributes=("ULICA", "NUMER", "MIEJSCOWOSC"),
    ),
    Layer(
        name="mpzp",
        keeper="gmina",
        group="planowanie",
        title_pl="Miejscowe plany zagospodarowania przestrzennego",
        title_en="Local zoning plans",
        abstract_pl="Tereny miejscowych planów zagospodarowania przestrzennego (MPZP) z przeznaczeniem.",
        abstract_en="Zones of the local zoning plans (MPZP) with their designation.",
        model="layers.ZoningArea",
        geometry_type="MultiPolygon",
        id_attribute="ID_TERENU",
        public_attributes=(
            A("ID_TERENU", "id", "integer", "Identyfikator terenu", "Zone identifier"),
            A("OZNACZENIE", "label", title_pl="Oznaczenie terenu", title_en="Zone label"),
            A("SYMBOL", "symbol", title_pl="Symbol przeznaczenia", title_en="Designation symbol"),
            A("PRZEZNACZENIE", "description", title_pl="Przeznaczenie", title_en="Designation"),
            A("PLAN", "plan__name", title_pl="Plan", title_en="Plan"),
            A("UCHWALA", "plan__resolution_no", title_pl="Uchwała", title_en="Resolution"),
            A("DATA_UCHWALY", "plan__resolution_date", "date", "Data uchwały", "Resolution date"),
        ),
        inspire_alias="LU.ZoningElement",
        keywords=("MPZP", "planowanie przestrzenne", "zoning"),
        current_only=False,
        tiles=True,
        tile_min_zoom=11,
        tile_detail_zoom=14,
        tile_attributes=("OZNACZENIE", "SYMBOL", "PRZEZNACZENIE"),
    ),
    Layer(
        name="granice",
        keeper="voivodeship",
        group="granice",
        title_pl="Granice administracyjne",
        title_en="Administrative boundaries",
        abstract_pl="Granice województwa, powiatu i gmin (uproszczone, z PRG).",
        abstract_en="Boundaries of the voivodeship, county and gminy (simplified, from PRG).",
        model="layers.AdministrativeUnit",
        geometry_type="MultiPolygon",
        id_attribute="TERYT",
        public_attributes=(
            A("TERYT", "teryt", title_pl="Kod TERYT", title_en="TERYT code"),
            A("POZIOM", "level", title_pl="Poziom", title_en="Level"),
            A("NAZWA", "name", title_pl="Nazwa", title_en="Name"),
        ),
        inspire_alias="AU.AdministrativeUnit",
        keywords=("PRG", "granice", "boundaries"),
        current_only=False,
        tiles=True,
        tile_min_zoom=6,
        tile_detail_zoom=9,
        tile_attributes=("NAZWA", "POZIOM"),
    ),
)

# ---- the INSPIRE view layers: the data of the layers above under the harmonised layer names, titles and
# default styles of the data specifications (TG Cadastral Parcels 3.1 §11, Addresses 3.1 §11, Buildings
# 3.1 §11; titles as in Regulation 1089/2010 Annex II and its Polish text). WMS only: the INSPIRE download
# (cp:CadastralParcel, …) has its own schema (ogc/inspire). Their attributes (GetFeatureInfo) carry the
# INSPIRE property names where one of ours maps straight onto one; the styles are in ogc/render/styles.py.
_INSPIRE_KEYWORDS = ("INSPIRE", "infoMapAccessService")
# attributes every INSPIRE view layer's feature info shows (the IIP identity, the version's start)
_IIP_IDENTITY = (
    A("localId", "local_id", title_pl="Identyfikator lokalny IIP", title_en="Local identifier"),
    A("namespace", "namespace", title_pl="Przestrzeń nazw IIP", title_en="Namespace"),
)
_BEGIN_LIFESPAN = A(
    "beginLifespanVersion", "start_version", "datetime", "Początek wersji", "Begin of lifespan version"
)
INSPIRE_LAYERS: tuple[Layer, ...] = (
    Layer(
        name="CP.CadastralParcel",
        group="inspire",
        title_pl="Działka katastralna",
        title_en="Cadastral Parcel",
        abstract_pl="Działki ewidencyjne gminy Piaseczno (EGiB) jako działki katastralne INSPIRE (temat: działki "
        "katastralne), w stylu domyślnym specyfikacji danych: granice czarną linią, etykieta – numer działki.",
        abstract_en="Cadastral parcels of gmina Piaseczno (EGiB) as INSPIRE cadastral parcels (theme: cadastral "
        "parcels), in the default style of the data specification: black outlines, labelled with the parcel number.",
        model="layers.Parcel",
        geometry_type="MultiPolygon",
        id_attribute="nationalCadastralReference",
        public_attributes=(
            A(
                "nationalCadastralReference",
                "parcel_id",
                title_pl="Identyfikator działki",
                title_en="National cadastral reference",
            ),
            A("label", "number", title_pl="Numer działki", title_en="Label"),
            *_IIP_IDENTITY,
            A("zoning", "precinct__precinct_id", title_pl="Obręb ewidencyjny", title_en="Cadastral zoning"),
            _BEGIN_LIFESPAN,
        ),
        max_scale=20000,
        default_style="CP.CadastralParcel.Default",
        styles=("CP.CadastralParcel.Default",),
        inspire_alias="CP.CadastralParcel",
        keywords=(*_INSPIRE_KEYWORDS, "Działki katastralne", "Cadastral parcels"),
        view_of="dzialki",
    ),
    Layer(
        name="CP.CadastralZoning",
        group="inspire",
        title_pl="Obszar katastralny",
        title_en="Cadastral Zoning",
        abstract_pl="Obręby ewidencyjne gminy Piaseczno jako obszary katastralne INSPIRE (drugi poziom podziału "
        "katastralnego), w stylu domyślnym specyfikacji danych: granice czarną linią 2 px, etykieta – nazwa obrębu.",
        abstract_en="Cadastral precincts of gmina Piaseczno as INSPIRE cadastral zonings (the second level of the "
        "cadastral hierarchy), in the default style of the data specification: 2 px black outlines, labelled with "
        "the precinct name.",
        model="layers.Precinct",
        geometry_type="MultiPolygon",
        id_attribute="nationalCadastralZoningReference",
        public_attributes=(
            A(
                "nationalCadastralZoningReference",
                "precinct_id",
                title_pl="Identyfikator obrębu",
                title_en="National cadastral zoning reference",
            ),
            A("label", "name", title_pl="Nazwa obrębu", title_en="Label"),
            *_IIP_IDENTITY,
            A(
                "upperLevelUnit",
                "unit__unit_id",
                title_pl="Jednostka ewidencyjna",
                title_en="Upper level unit",
            ),
            _BEGIN_LIFESPAN,
        ),
        max_scale=20000,
        default_style="CP.CadastralZoning.Default",
        styles=("CP.CadastralZoning.Default",),
        inspire_alias="CP.CadastralZoning",
        keywords=(*_INSPIRE_KEYWORDS, "Działki katastralne", "Cadastral parcels"),
        view_of="obreby",
    ),
    Layer(
        # the boundaries are the outlines of the current parcels, drawn as lines (the registry keeps no boundary
        # lines of its own); a click inside a parcel is not on a boundary, so the layer is not queryable
        name="CP.CadastralBoundary",
        group="inspire",
        title_pl="Granica katastralna",
        title_en="Cadastral Boundary",
        abstract_pl="Granice działek ewidencyjnych gminy Piaseczno jako granice katastralne INSPIRE: obrysy działek "
        "czarną linią 1 px (styl domyślny specyfikacji danych).",
        abstract_en="Boundaries of the cadastral parcels of gmina Piaseczno as INSPIRE cadastral boundaries: the "
        "parcel outlines as 1 px black lines (the default style of the data specification).",
        model="layers.Parcel",
        geometry_type="MultiPolygon",
        id_attribute="nationalCadastralReference",
        public_attributes=(
            A(
                "nationalCadastralReference",
                "parcel_id",
                title_pl="Identyfikator działki",
                title_en="National cadastral reference",
            ),
        ),
        queryable=False,
        max_scale=20000,
        default_style="CP.CadastralBoundary.Default",
        styles=("CP.CadastralBoundary.Default",),
        inspire_alias="CP.CadastralBoundary",
        keywords=(*_INSPIRE_KEYWORDS, "Działki katastralne", "Cadastral parcels"),
        view_of="dzialki",
    ),
    Layer(
        name="AD.Address",
        keeper="gmina",
        group="inspire",
        title_pl="Adresy",
        title_en="Addresses",
        abstract_pl="Punkty adresowe gminy Piaseczno (EMUiA) jako adresy INSPIRE, w stylu domyślnym specyfikacji "
        "danych: kwadrat 6 px (punkt adresowy w obrysie budynku lub działki: wypełnienie szare 75%).",
        abstract_en="Address points of gmina Piaseczno (EMUiA) as INSPIRE addresses, in the default style of the "
        "data specification: a 6 px square (a point within the building or parcel: 75% grey fill).",
        model="layers.AddressPoint",
        geometry_type="Point",
        id_attribute="localId",
        public_attributes=(
            *_IIP_IDENTITY,
            A("locatorDesignator", "number", title_pl="Numer porządkowy", title_en="Locator designator"),
            A("thoroughfareName", "street", title_pl="Ulica", title_en="Thoroughfare name"),
            A("addressAreaName", "locality", title_pl="Miejscowość", title_en="Address area name"),
            A("postCode", "postcode", title_pl="Kod pocztowy", title_en="Post code"),
            _BEGIN_LIFESPAN,
        ),
        default_style="AD.Address.Default",
        styles=("AD.Address.Default",),
        inspire_alias="AD.Address",
        keywords=(*_INSPIRE_KEYWORDS, "Adresy", "Addresses"),
        view_of="adresy",
    ),
    Layer(
        name="BU.Building",
        group="inspire",
        title_pl="Budynek",
        title_en="Building",
        abstract_pl="Budynki z EGiB gminy Piaseczno jako budynki INSPIRE (profil 2D), w stylu domyślnym "
        "specyfikacji danych: wypełnienie szare z czarnym obrysem.",
        abstract_en="Buildings from the EGiB of gmina Piaseczno as INSPIRE buildings (2D profile), in the default "
        "style of the data specification: grey fill with a black outline.",
        model="layers.Building",
        geometry_type="MultiPolygon",
        id_attribute="localId",
        public_attributes=(
            *_IIP_IDENTITY,
            A(
                "externalReference",
                "building_id",
                title_pl="Identyfikator budynku",
                title_en="External reference",
            ),
            A(
                "numberOfFloorsAboveGround",
                "storeys_above",
                "integer",
                "Kondygnacje nadziemne",
                "Number of floors above ground",
            ),
            _BEGIN_LIFESPAN,
        ),
        min_scale=50,
        max_scale=25000,
        default_style="BU.Building.Default",
        styles=("BU.Building.Default",),
        inspire_alias="BU.Building",
        keywords=(*_INSPIRE_KEYWORDS, "Budynki", "Buildings"),
        view_of="budynki",
    ),
)
LAYERS = LAYERS + INSPIRE_LAYERS

GROUPS: tuple[LayerGroup, ...] = (
    LayerGroup("egib", "Ewidencja gruntów i budynków", "Land and building register"),
    LayerGroup("adresy", "Adresy", "Addresses"),
    LayerGroup("planowanie", "Planowanie przestrzenne", "Spatial planning"),
    LayerGroup("granice", "Granice", "Boundaries"),
    LayerGroup("inspire", "INSPIRE – warstwy zharmonizowane", "INSPIRE – harmonised layers"),
    LayerGroup("zrodla", "Dane z innych urzędów", "Data from other offices"),
)

_BY_NAME = {layer.name: layer for layer in LAYERS}
_extra: Callable[[], tuple[Layer, ...]] | None = None


def set_extra_layers(provider: Callable[[], tuple[Layer, ...]] | None) -> None:
    """Register the provider of the layers that are not declared here (harvested ones); it must be cheap
    (cached) and never return a declared name."""
    global _extra
    _extra = provider


def extra_layers() -> tuple[Layer, ...]:
    if _extra is None:
        return ()
    return tuple(layer for layer in _extra() if layer.name not in _BY_NAME)


def all_layers() -> tuple[Layer, ...]:
    """The declared layers, then the harvested ones."""
    return LAYERS + extra_layers()


def layer_names() -> tuple[str, ...]:
    return tuple(_BY_NAME) + tuple(layer.name for layer in extra_layers())


def get_layer(name: str) -> Layer | None:
    """The layer of that exact name (case-sensitive: lower-case ASCII, or an INSPIRE layer name such as
    `CP.CadastralParcel` for a view layer), or None."""
    found = _BY_NAME.get(name)
    if found is None and _extra is not None:
        found = next((layer for layer in extra_layers() if layer.name == name), None)
    return found


def layers_for(user) -> tuple[Layer, ...]:
    """The layers this user may read (evaluated once per request, O(layers))."""
    return tuple(layer for layer in all_layers() if user_can_read(user, layer))


def user_can_read(user, layer: Layer) -> bool:
    return bool(user.has_perm("gisportal." + layer.required_capability))


def validate_catalogue() -> list[str]:
    """Consistency checks run by tests and at start-up: names, groups, models, attribute sources."""
    problems: list[str] = []
    group_names = {g.name for g in GROUPS}
    for layer in LAYERS:
        if layer.group not in group_names:
            problems.append(f"{layer.name}: no group {layer.group}")
        if layer.view_of:
            problems += _view_problems(layer)
        elif not _IDENT.match(layer.name) or layer.name != layer.name.lower():
            problems.append(f"{layer.name}: a layer name is a lower-case ASCII identifier")
        if layer.id_attribute not in layer.attribute_names:
            problems.append(f"{layer.name}: id attribute {layer.id_attribute} is not public")
        for name in layer.tile_attributes:
            if name not in layer.attribute_names:
                problems.append(f"{layer.name}: tile attribute {name} is not public")
        for attr in layer.public_attributes:
            try:
                _resolve(layer_model(layer), attr.source)
            except ValueError as e:
                problems.append(f"{layer.name}.{attr.name}: {e}")
            if not _IDENT.match(attr.name):
                problems.append(f"{layer.name}.{attr.name}: not a plain identifier")
            for banned in ("kw", "pesel", "owner", "subject"):
                if banned in attr.source.lower():
                    problems.append(f"{layer.name}.{attr.name}: personal data in a public attribute")
        if not (layer.title_pl and layer.abstract_pl and layer.title_en and layer.abstract_en):
            problems.append(f"{layer.name}: title/abstract missing in Polish or English")
    return problems


def _view_problems(layer: Layer) -> list[str]:
    """A view layer portrays a declared data set (same model) under a lower-case or an INSPIRE layer name, is
    not a label layer and has no tiles (the WMS alone serves it)."""
    problems = []
    if not (
        _INSPIRE_LAYER_NAME.match(layer.name)
        or (_IDENT.match(layer.name) and layer.name == layer.name.lower())
    ):
        problems.append(f"{layer.name}: a view layer's name is lower-case ASCII or an INSPIRE layer name")
    portrayed = _BY_NAME.get(layer.view_of)
    if portrayed is None or not portrayed.is_dataset:
        problems.append(f"{layer.name}: view_of {layer.view_of} is not a declared data set layer")
    elif portrayed.model != layer.model:
        problems.append(
            f"{layer.name}: portrays {layer.view_of} but reads {layer.model}, not {portrayed.model}"
        )
    if layer.labels_of or layer.tiles:
        problems.append(f"{layer.name}: a view layer has neither labels_of nor tiles")
    return problems


# ---- where the rows of a layer are: one definition for querysets and SQL ---------------------------
CURRENT_ROW_FIELD = "end_object"  # registry objects (layers.models.RegistryObject): set once retired
GEOMETRY_FIELD = "geom"
PARTITION_FIELD = "layer_id"  # harvested layers (layers.HarvestedFeature)
ALIAS = "t"  # the layer's own table in `SqlSource` SQL
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# INSPIRE layer names (http://inspire.ec.europa.eu/layer): theme prefix, then dotted CamelCase parts
_INSPIRE_LAYER_NAME = re.compile(r"^[A-Z]{2}(\.[A-Z][A-Za-z0-9]*)+$")


def layer_model(layer: Layer):
    from django.apps import apps

    return apps.get_model(layer.model)


def layer_queryset(layer: Layer):
    """All rows the layer publishes: the current ones of registry objects, every row otherwise (of its
    partition, for a harvested layer)."""
    qs = layer_model(layer)._default_manager.all()
    if layer.partition is not None:
        qs = qs.filter(**{PARTITION_FIELD: layer.partition})
    return qs.filter(**{f"{CURRENT_ROW_FIELD}__isnull": True}) if layer.current_only else qs


def quote(name: str) -> str:
    """A quoted SQL identifier; only plain names (from models and this catalogue) are accepted."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


@dataclass(frozen=True)
class SqlSource:
    """The SQL of a layer's rows for code that cannot use the ORM (MVT, Mapnik, extents): `FROM
    {from_clause} WHERE {where}` with the table as `t`; `columns` are expressions of the asked
    public attributes over `t` and the joins their ORM paths need. Every identifier comes from the
    models and this catalogue, quoted; nothing here is user input."""

    table: str
    pk: str
    geometry: str
    joins: str
    conditions: tuple[str, ...]
    columns: tuple[tuple[Attribute, str], ...]

    @property
    def from_clause(self) -> str:
        return f"{self.table} {ALIAS}{self.joins}"

    def where(self, *extra: str) -> str:
        """The conditions (`extra` first, e.g. the spatial filter) joined by AND; "true" when none."""
        return " AND ".join((*extra, *self.conditions)) or "true"


def _resolve(model, path: str) -> tuple[list[tuple[str, str, str, bool]], str]:
    """The joins ([(alias, table, ON condition, nullable)]) and the column expression of an ORM path."""
    from django.core.exceptions import FieldDoesNotExist

    joins: list[tuple[str, str, str, bool]] = []
    parts = path.split("__")
    alias = ALIAS
    for i, part in enumerate(parts):
        try:
            f = model._meta.get_field(part)
        except FieldDoesNotExist:
            raise ValueError(f"no field {path}") from None
        if not getattr(f, "concrete", False) or getattr(f, "many_to_many", False):
            raise ValueError(f"{path} is not a column")
        if i == len(parts) - 1:
            return joins, f"{alias}.{quote(f.column)}"
        if f.get_internal_type() == "JSONField" and i == len(parts) - 2:  # a key of a JSON column, as text
            key = parts[-1]
            if not _IDENT.match(key):
                raise ValueError(f"not a plain JSON key: {key!r}")
            return joins, f"({alias}.{quote(f.column)} ->> '{key}')"
        if not (f.many_to_one or f.one_to_one):
            raise ValueError(f"{path} does not follow a foreign key")
        related = f.related_model
        target = f"j_{'_'.join(parts[: i + 1])}"
        on = f"{quote(target)}.{quote(f.target_field.column)} = {alias}.{quote(f.column)}"
        joins.append((quote(target), quote(related._meta.db_table), on, bool(f.null)))
        alias, model = quote(target), related
    raise ValueError(f"empty path {path!r}")


def layer_sql_source(layer: Layer, attributes: Iterable[Attribute] = ()) -> SqlSource:
    """The table, current-row rule and columns of `attributes` (public attributes of the layer) in SQL."""
    model = layer_model(layer)
    public = set(layer.public_attributes)
    joins: dict[str, str] = {}
    columns = []
    for attr in attributes:
        if attr not in public:
            raise ValueError(f"{layer.name}: {attr.name} is not a public attribute")
        path_joins, expr = _resolve(model, attr.source)
        for alias, table, on, nullable in path_joins:
            joins.setdefault(alias, f" {'LEFT JOIN' if nullable else 'JOIN'} {table} {alias} ON {on}")
        columns.append((attr, expr))
    meta = model._meta
    current_column = quote(meta.get_field(CURRENT_ROW_FIELD).column) if layer.current_only else ""
    current = (f"{ALIAS}.{current_column} IS NULL",) if current_column else ()
    if layer.partition is not None:
        current += (f"{ALIAS}.{quote(meta.get_field('layer').column)} = {int(layer.partition)}",)
    return SqlSource(
        table=quote(meta.db_table),
        pk=f"{ALIAS}.{quote(meta.pk.column)}",
        geometry=f"{ALIAS}.{quote(meta.get_field(GEOMETRY_FIELD).column)}",
        joins="".join(joins.values()),
        conditions=current,
        columns=tuple(columns),
    )


__all__ = [
    "LAYERS",
    "INSPIRE_LAYERS",
    "GROUPS",
    "Layer",
    "Attribute",
    "LayerGroup",
    "SqlSource",
    "get_layer",
    "all_layers",
    "set_extra_layers",
    "layer_names",
    "layers_for",
    "layer_model",
    "layer_queryset",
    "layer_sql_source",
]
