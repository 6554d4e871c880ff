"""WFS feature types: a thin view of the layer catalogue (names, properties, XSD types, querysets).

Every published property comes from `Layer.public_attributes`; nothing else of a model can be read,
filtered or sorted through WFS. The geometry property is called `geometry`. Feature ids are
`<layer>.<primary key>` (always an NCName; official ids such as `…/2` are not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext as _

from layers import catalogue
from layers.catalogue import Attribute, Layer

from ..common.exceptions import OGCException
from ..common.gml import GISPORTAL_NS

PREFIX = "gisportal"
GEOMETRY = "geometry"
XSD_TYPES = {"string": "xs:string", "integer": "xs:integer", "decimal": "xs:decimal", "date": "xs:date",
             "datetime": "xs:dateTime"}
GEOMETRY_XSD = {"MultiPolygon": ("gml:MultiSurfacePropertyType", "MultiSurface"), "Point": ("gml:PointPropertyType", "Point"),
                "LineString": ("gml:CurvePropertyType", "LineString")}
_FID = re.compile(r"^([a-z_]+)\.(\d{1,18})$")


@dataclass(frozen=True)
class FeatureType:
    layer: Layer

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def typename(self) -> str:
        return f"{PREFIX}:{self.layer.name}"

    @cached_property
    def model(self):
        return catalogue.layer_model(self.layer)

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        return self.layer.public_attributes

    @property
    def property_names(self) -> tuple[str, ...]:
        return (*self.layer.attribute_names, GEOMETRY)

    @property
    def geometry_xsd(self) -> str:
        return GEOMETRY_XSD[self.layer.geometry_type][0]

    @property
    def temporal_attribute(self) -> Attribute | None:
        """The attribute FES `During` applies to: the version date of registry objects."""
        return next((a for a in self.attributes if a.type in ("datetime", "date")), None)

    def queryset(self):
        return catalogue.layer_queryset(self.layer)

    def attribute(self, name: str) -> Attribute | None:
        """The attribute of this exact (case-sensitive) public name, optionally prefixed `gisportal:`."""
        bare = name[len(PREFIX) + 1:] if name.startswith(PREFIX + ":") else name
        return next((a for a in self.attributes if a.name == bare), None)

    def fid(self, pk: int) -> str:
        return f"{self.name}.{pk}"


def feature_types(user) -> tuple[FeatureType, ...]:
    """The feature types this user may read; label-only layers (numery_dzialek) are not features."""
    return tuple(FeatureType(la) for la in catalogue.layers_for(user) if not la.labels_of)


def resolve(name: str, user, *, locator: str = "typeNames", namespaces: dict[str, str] | None = None) -> FeatureType:
    """A feature type from a qualified (`gisportal:dzialki`, `{ns}dzialki`) or bare name; names are
    case-sensitive and a prefix bound to another namespace is an error (F2)."""
    text = (name or "").strip()
    namespaces = namespaces or {}
    bare = text
    if text.startswith("{"):
        ns, _sep, bare = text[1:].partition("}")
        if ns != GISPORTAL_NS:
            bare = ""
    elif ":" in text:
        prefix, bare = text.split(":", 1)
        if namespaces.get(prefix, GISPORTAL_NS if prefix == PREFIX else None) != GISPORTAL_NS:
            bare = ""
    for ft in feature_types(user):
        if ft.name == bare:
            return ft
    raise OGCException("InvalidParameterValue", _("Unknown feature type %(t)s.") % {"t": text[:60]}, locator)


def parse_fid(value: str, user, *, locator: str = "RESOURCEID") -> tuple[FeatureType, int] | None:
    """(feature type, primary key) of a feature id; None when it cannot name any feature of ours."""
    m = _FID.match((value or "").strip())
    if not m:
        return None
    for ft in feature_types(user):
        if ft.name == m.group(1):
            return ft, int(m.group(2))
    return None
