"""What only WFS needs of the feature types (ogc/features/featuretypes.py): XSD types for
DescribeFeatureType, type names resolved with namespaces (F2), feature ids (`<layer>.<primary key>`)
parsed back.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from ..common.exceptions import OGCException
from ..common.gml import GISPORTAL_NS
from ..features.featuretypes import PREFIX, FeatureType, feature_types

XSD_TYPES = {
    "string": "xs:string",
    "integer": "xs:integer",
    "decimal": "xs:decimal",
    "date": "xs:date",
    "datetime": "xs:dateTime",
}
GEOMETRY_XSD = {
    "MultiPolygon": ("gml:MultiSurfacePropertyType", "MultiSurface"),
    "Point": ("gml:PointPropertyType", "Point"),
    "LineString": ("gml:CurvePropertyType", "LineString"),
}
_FID = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{1,18})$")


def geometry_xsd(ft: FeatureType) -> str:
    """The GML property type of a feature type's geometry in DescribeFeatureType."""
    return GEOMETRY_XSD[ft.layer.geometry_type][0]


def resolve(
    name: str, user, *, locator: str = "typeNames", namespaces: dict[str, str] | None = None
) -> FeatureType:
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
