"""WFS 2.0 for the harmonised INSPIRE feature types (ogc/inspire/registry.py: cp:CadastralParcel, …) beside
our own application schema.

A request naming an INSPIRE type (by prefix, NAMESPACES binding or `{namespace}`), one of their feature
ids, or the INSPIRE data set in the pre-defined stored query becomes an `InspireGetFeature` here; the rest of
the WFS never sees it. Offered (Basic WFS): GetFeature, KVP or XML POST, in GML 3.2 with BBOX, RESOURCEID,
COUNT/STARTINDEX paging, resultType=hits and SRSNAME, GetFeatureById and the INSPIRE stored query, FES 2.0
FILTER and SORTBY on the property paths each source declares (`Source.filterable`: XPaths such as
`cp:inspireId/base:Identifier/base:localId` → a Django field), PROPERTYNAME for the types whose content
model is declared (`InspireType.properties`), and GetPropertyValue. Paths are minimum XPath (FES 2.0
7.4.4: child steps, `.`, `[n]`, a leading step naming the type, `@gml:id`), resolved namespace-aware. A
filter's ValueReferences are renamed to aliases, then the filter goes through ogc/filters (FES parser,
AST → Q) against an adapter presenting the source as a layer whose public attributes are those aliases:
names are never SQL and an unknown path is refused. A projection drops the unrequested optional
properties of each encoded feature; GetPropertyValue selects its values in the encoded features. GeoJSON
and WFS 1.1 are refused with an exception naming the parameter (our own types keep them). Features are
written with lxml one by one (ogc/inspire), in chunks of primary keys: memory holds one chunk, never the
data set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import OperationalError, connections, transaction
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from lxml import etree

from gisportal.core.replica import read_alias
from layers.selectors import data_version

from .. import metadata
from ..common.crs import CrsRef, Form, InvalidCRS, Protocol, parse_crs
from ..common.gml import GML
from ..common.kvp import Params
from ..features.featuretypes import feature_types
from ..features.query import COUNT_TIMEOUT_MS, decimals_for
from ..inspire.base import BASE, XLINK, XSI, Context, Filterable, InspireType, Source, with_geometries
from ..inspire.bu import BU_BASE
from ..inspire.cp import GMD, GN
from ..inspire.registry import TYPES, by_dataset

WFS20 = "http://www.opengis.net/wfs/2.0"
GML32_MIME = "application/gml+xml; version=3.2"
CHUNK = 500  # features encoded per database round trip and yielded chunk
GET_FEATURE_BY_ID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"
_ROOT_NS = {"wfs": WFS20, "gml": GML, "xlink": XLINK, "xsi": XSI}
_DECL = re.compile(rb'\sxmlns:([\w.-]+)="([^"]*)"')


def endpoint() -> str:
    from django.conf import settings

    return f"{settings.GISPORTAL_PUBLIC_URL}/ows"


def invalid(message: str, locator: str | None = None, code: str = "InvalidParameterValue"):
    from ..common.exceptions import OGCException

    return OGCException(code, message, locator)


# ---- names and ids -------------------------------------------------------------------------------
def types_for(user) -> tuple[InspireType, ...]:
    """The INSPIRE types this user may read: those whose catalogue layer the user may read."""
    readable = {ft.name for ft in feature_types(user)}
    return tuple(t for t in TYPES if t.layer in readable)


def types_for_types(types) -> tuple[InspireType, ...]:
    """The INSPIRE types readable by whoever may read these (our) feature types."""
    readable = {ft.name for ft in types}
    return tuple(t for t in TYPES if t.layer in readable)


def _qualified(name: str, namespaces: dict[str, str]) -> tuple[str | None, str]:
    text = (name or "").strip()
    if text.startswith("{"):
        ns, _sep, local = text[1:].partition("}")
        return ns, local
    if ":" in text:
        prefix, local = text.split(":", 1)
        default = {t.prefix: t.namespace for t in TYPES}.get(prefix)
        return namespaces.get(prefix, default), local
    return None, text


def is_inspire_name(name: str, namespaces: dict[str, str] | None = None) -> bool:
    """True when the name is in the namespace of a harmonised type (known or not: cp:Nothing is ours to refuse)."""
    ns, _local = _qualified(name, namespaces or {})
    return ns is not None and ns in {t.namespace for t in TYPES}


def resolve(
    name: str, user, namespaces: dict[str, str] | None = None, locator: str = "typeNames"
) -> InspireType:
    ns, local = _qualified(name, namespaces or {})
    for t in types_for(user):
        if t.namespace == ns and t.local_name == local:
            return t
    raise invalid(_("Unknown feature type %(t)s.") % {"t": (name or "")[:60]}, locator)


def is_inspire_fid(value: str) -> bool:
    head = (value or "").strip().split(".", 1)[0]
    return any(t.local_name == head for t in TYPES)


def parse_fid(value: str, user) -> tuple[InspireType, Source, int] | None:
    key, _sep, pk = (value or "").strip().rpartition(".")
    if not pk.isdigit() or len(pk) > 18:
        return None
    for t in types_for(user):
        for s in t.sources:
            if s.key == key:
                return t, s, int(pk)
    return None


# ---- requests ------------------------------------------------------------------------------------
def queryset(source: Source):
    """The source's rows with the computed properties its filters may compare (e.g. the area in m²)."""
    qs = source.queryset()
    computed = {f.lookup: f.expression for f in source.filterable if f.expression is not None}
    return qs.annotate(**computed) if computed else qs


@dataclass
class InspireQuery:
    itype: InspireType
    source: Source
    where: Q = field(default_factory=Q)
    sort: tuple[str, ...] = ()  # order_by() terms of SORTBY, before the primary key
    # PROPERTYNAME: the local names of the top-level properties written (the requested and the mandatory
    # ones); None: all
    properties: frozenset[str] | None = None

    def ids(self):
        fetch = getattr(self.source, "fetch_ids", None)  # a source computed in SQL (cp:CadastralBoundary)
        if fetch is not None:
            return fetch(self.where, self.sort)
        return (
            queryset(self.source).filter(self.where).order_by(*self.sort, "pk").values_list("pk", flat=True)
        )


@dataclass
class InspireGetFeature:
    version: str
    queries: list[InspireQuery]
    srs: CrsRef
    count: int
    start: int = 0
    hits: bool = False
    by_id: bool = False
    kvp: dict[str, str] = field(default_factory=dict)
    namespaces: dict[str, str] = field(default_factory=dict)  # NAMESPACES, or the XML request's declarations

    @property
    def types(self) -> tuple[InspireType, ...]:
        return tuple(dict.fromkeys(q.itype for q in self.queries))


def wants(params: Params, namespaces: dict[str, str]) -> bool:
    """Does this KVP GetFeature name an INSPIRE type or feature?"""
    from .requests import _split_list

    names = _split_list(params.get("TYPENAMES") or params.get("TYPENAME"))
    if any(is_inspire_name(n, namespaces) for n in names):
        return True
    rid = params.get("RESOURCEID") or params.get("FEATUREID") or ""
    return any(is_inspire_fid(v) for v in rid.split(","))


def parse_srs(value: str | None, locator: str = "srsName") -> CrsRef:
    from .requests import DEFAULT_CRS, OTHER_CRS

    try:
        return parse_crs(value or DEFAULT_CRS, Protocol.WFS, (2180, *OTHER_CRS))
    except InvalidCRS:
        raise invalid(
            _("CRS %(crs)s is not offered by this service.") % {"crs": (value or "")[:60]}, locator
        ) from None


def _only_v2_gml(version: str, fmt: str, locator: str = "typeNames") -> None:
    if not version.startswith("2"):
        raise invalid(
            _("INSPIRE feature types are served by WFS 2.0.0 only (GML 3.2); ask for VERSION=2.0.0."), locator
        )
    if fmt != "gml":
        raise invalid(_("INSPIRE feature types are served in GML 3.2 only."), "outputFormat")


def parse_kvp(
    params: Params, user, common: dict, namespaces: dict[str, str], *, projection: bool = True
) -> InspireGetFeature:
    from .requests import _split_list, parse_bbox

    version = common["version"]
    _only_v2_gml(version, common["fmt"])
    names = _split_list(params.get("TYPENAMES") or params.get("TYPENAME"))
    for n in names:
        if not is_inspire_name(n, namespaces):
            raise invalid(
                _("INSPIRE feature types cannot be queried together with other feature types."), "typeNames"
            )
    types = [resolve(n, user, namespaces) for n in names]
    rid = params.get("RESOURCEID") or params.get("FEATUREID")
    bbox = params.get("BBOX")
    filt = (params.get("FILTER") or params.get("QUERY") or "").strip()  # QUERY: OWSLib's GET
    if sum(1 for x in (rid, bbox, filt) if x) > 1:
        raise invalid(_("FILTER, BBOX and RESOURCEID exclude one another."), "FILTER")
    if filt and (params.get("FILTER_LANGUAGE") or "").strip() not in (
        "",
        "urn:ogc:def:queryLanguage:OGC-FES:Filter",
    ):
        raise invalid(_("Only FES filters are supported."), "FILTER_LANGUAGE")
    queries: list[InspireQuery] = []
    if rid:
        wanted: dict[tuple[str, str], tuple[InspireType, Source, list[int]]] = {}
        for raw in rid.split(","):
            parsed = parse_fid(raw, user)
            if parsed is None:
                if is_inspire_fid(raw):
                    continue  # a well-formed id of an INSPIRE type matching nothing
                raise invalid(
                    _("%(id)s is not a feature identifier of this service.") % {"id": raw[:60]}, "RESOURCEID"
                )
            t, s, pk = parsed
            if types and t not in types:
                raise invalid(_("A resource id names a feature of another type."), "RESOURCEID")
            wanted.setdefault((t.typename, s.key), (t, s, []))[2].append(pk)
        queries = [InspireQuery(t, s, Q(pk__in=pks)) for t, s, pks in wanted.values()]
    else:
        if not types:
            raise invalid(
                _("Parameter %(p)s is missing.") % {"p": "TYPENAMES"}, "typeNames", "MissingParameterValue"
            )
        where = Q(geom__intersects=parse_bbox(bbox)) if bbox else Q()
        filters = _split_list(filt) if filt.startswith("(") else [filt] * len(types)
        if len(filters) != len(types):
            raise invalid(_("Give one filter per feature type."), "FILTER")
        queries = []
        for t, f in zip(types, filters, strict=True):
            aliased = aliased_filter(f, t, namespaces) if f else None
            for s in t.sources:
                q = where & compile_filter(aliased, s, user) if aliased is not None else where
                queries.append(InspireQuery(t, s, q))
    sortby = (params.get("SORTBY") or "").strip()
    if sortby:
        for q in queries:
            q.sort = parse_sort(sortby, q.itype, q.source, namespaces)
    if projection:
        _project_kvp(params.get("PROPERTYNAME"), types, queries, namespaces)
    srs = parse_srs(params.get("SRSNAME"))
    return InspireGetFeature(
        version=version,
        queries=queries,
        srs=srs,
        count=common["count"],
        start=common["start"],
        hits=common["hits"],
        kvp=params.as_dict(),
        namespaces=namespaces,
    )


def _project_kvp(
    value: str | None, types: list[InspireType], queries: list[InspireQuery], namespaces
) -> None:
    """PROPERTYNAME: one list for every type, or one parenthesised list per type of TYPENAMES."""
    from .requests import _split_list

    value = (value or "").strip()
    if not value:
        return
    if value.startswith("("):
        lists = _split_list(value)
        if len(lists) != len(types):
            raise invalid(_("Give one property list per feature type."), "propertyName")
        per_type = {
            t: [n for n in names.split(",") if n.strip()] for t, names in zip(types, lists, strict=True)
        }
    else:
        per_type = {q.itype: [n for n in value.split(",") if n.strip()] for q in queries}
    for q in queries:
        q.properties = parse_properties(per_type.get(q.itype, []), q.itype, namespaces)


def parse_properties(
    names: list[str], t: InspireType, namespaces: dict[str, str], scope: dict[str, str] | None = None
) -> frozenset[str] | None:
    """The local names of the top-level properties a projection writes: those named and every mandatory one
    of the declared content model (`InspireType.properties`), so that each feature stays schema-valid;
    None for all of them (no name, or `*`). A type without a declared content model is always whole."""
    names = [n.strip() for n in names if n.strip()]
    if not names or names == ["*"]:
        return None
    if not t.properties:
        raise invalid(
            _("%(p)s is not offered for %(t)s: its features are always answered whole.")
            % {"p": "PROPERTYNAME", "t": t.typename},
            "propertyName",
        )
    declared = {p.name for p in t.properties}
    keep = {p.name for p in t.properties if p.min >= 1}
    for name in names:
        steps = _path(name, scope or {}, namespaces, t)
        step = steps[0] if steps and len(steps) == 1 else None
        if (
            step is None
            or step.attribute
            or step.index is not None
            or step.ns not in (None, t.namespace)
            or step.local not in declared
        ):
            raise invalid(
                _("%(p)s is not a property of %(t)s.") % {"p": name[:80], "t": t.typename}, "propertyName"
            )
        keep.add(step.local)
    return frozenset(keep)


def _project(feature: etree._Element, q: InspireQuery) -> etree._Element:
    """The feature without the top-level properties of its type's namespace that the projection drops."""
    if q.properties is not None:
        ns = q.itype.namespace
        for child in list(feature):
            name = etree.QName(child)
            if name.namespace == ns and name.localname not in q.properties:
                feature.remove(child)
    return feature


def parse_xml(root, user, common: dict, *, projection: bool = True) -> InspireGetFeature:
    """An XML GetFeature (or GetPropertyValue) whose wfs:Query elements name INSPIRE types: typeNames,
    srsName, fes:Filter, wfs:PropertyName and fes:SortBy per query, with the prefixes declared in the
    document; count, startIndex and resultType from the root (`common`)."""
    _only_v2_gml(common["version"], common["fmt"])
    queries: list[InspireQuery] = []
    srs = None
    for qel in root.findall(f"{{{WFS20}}}Query"):
        scope = {k: v for k, v in qel.nsmap.items() if k}
        names = (qel.get("typeNames") or qel.get("typeName") or "").split()
        if len(names) != 1:
            raise invalid(
                _("Each query names exactly one feature type (joins are not offered)."), "typeNames"
            )
        if not is_inspire_name(names[0], scope):
            raise invalid(
                _("INSPIRE feature types cannot be queried together with other feature types."), "typeNames"
            )
        t = resolve(names[0], user, scope)
        srs = srs or (parse_srs(qel.get("srsName")) if qel.get("srsName") else None)
        filt = qel.find(f"{{{FES20}}}Filter")
        aliased = aliased_filter(etree.tostring(filt), t, scope) if filt is not None else None
        sort = []
        sort_el = qel.find(f"{{{FES20}}}SortBy")
        if sort_el is not None:
            for sp in sort_el.findall(f"{{{FES20}}}SortProperty"):
                ref = sp.find(f"{{{FES20}}}ValueReference")
                order = sp.find(f"{{{FES20}}}SortOrder")
                path = (ref.text or "").strip() if ref is not None else ""
                sort.append(f"{path or '?'} {(order.text or 'ASC').strip() if order is not None else 'ASC'}")
        # wfs:PropertyName (OWSLib writes it unqualified)
        props = [
            (p.text or "")
            for p in qel
            if isinstance(p.tag, str) and p.tag in (f"{{{WFS20}}}PropertyName", "PropertyName")
        ]
        properties = parse_properties(props, t, {}, scope) if projection else None
        for s in t.sources:
            where = compile_filter(aliased, s, user) if aliased is not None else Q()
            order = parse_sort(",".join(sort), t, s, scope) if sort else ()
            queries.append(InspireQuery(t, s, where, order, properties))
    if not queries:
        raise invalid(_("The request holds no query."), "Query", "MissingParameterValue")
    return InspireGetFeature(
        version=common["version"],
        queries=queries,
        srs=srs or parse_srs(None),
        count=common["count"],
        start=common["start"],
        hits=common["hits"],
        namespaces={k: v for k, v in root.nsmap.items() if k},
    )


# ---- FES filters and SORTBY on INSPIRE property paths ---------------------------------------------
FES20 = "http://www.opengis.net/fes/2.0"
_SORT = re.compile(r"\s*(\S+?)(?:\s+(ASC|DESC|A|D))?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Step:
    """One step of a minimum XPath path: an element (or, last, an attribute `@prefix:name`) by namespace (None:
    any, for an unprefixed step) and local name, with its positional predicate `[n]` (None: all)."""

    ns: str | None
    local: str
    index: int | None = None
    attribute: bool = False


_STEP = re.compile(r"(@)?(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)(?:\[([1-9]\d{0,5})\])?", re.ASCII)
# the prefixes a path may use undeclared (besides each type's own): those of the INSPIRE schemas' usual
# bindings that the harmonised types' properties use
_KNOWN = {"base": BASE, "bu-base": BU_BASE, "gn": GN, "gmd": GMD, "gml": GML, "xlink": XLINK}


def _path(
    text: str, scope: dict[str, str], namespaces: dict[str, str], t: InspireType | None = None
) -> tuple[Step, ...] | None:
    """A property path in the minimum XPath subset (FES 2.0, 7.4.4) as steps, or None when it is not one.
    Accepted: child steps, `.` steps, a positional predicate `[n]` on a step, a last step `@attribute`, and a
    first step naming the queried type itself (`cp:CadastralParcel/cp:label`, dropped). A prefix is looked
    up in the element's own declarations, then the request's NAMESPACES, then the INSPIRE prefixes; an
    unprefixed step has no namespace (matched by its local name). Other axes, predicates and functions: None."""
    known = _KNOWN | {ty.prefix: ty.namespace for ty in TYPES}
    raw = (text or "").strip().split("/")
    out: list[Step] = []
    for i, part in enumerate(raw):
        if part == ".":
            continue
        m = _STEP.fullmatch(part)
        if m is None:
            return None
        at, prefix, local, index = m.groups()
        if at and (index or i != len(raw) - 1):
            return None
        ns = None
        if prefix:
            ns = scope.get(prefix) or namespaces.get(prefix) or known.get(prefix)
            if ns is None:
                return None
        out.append(Step(ns, local, int(index) if index else None, bool(at)))
    if (
        t is not None
        and len(out) > 1
        and out[0] in (Step(t.namespace, t.local_name), Step(None, t.local_name))
    ):
        out = out[1:]
    return tuple(out) or None


def _steps(
    text: str, scope: dict[str, str], namespaces: dict[str, str], t: InspireType | None = None
) -> tuple[tuple[str | None, str], ...]:
    """A path a filter or SORTBY may name, as (namespace, local name) steps: a minimum XPath path of element
    steps whose predicates are all `[1]` (a property of the database holds one value); else empty."""
    steps = _path(text, scope, namespaces, t)
    if steps is None or any(s.attribute or s.index not in (None, 1) for s in steps):
        return ()
    return tuple((s.ns, s.local) for s in steps)


def _matches(steps, prop: Filterable) -> bool:
    return len(steps) == len(prop.path) and all(
        local == want_local and ns in (None, want_ns)
        for (ns, local), (want_ns, want_local) in zip(steps, prop.path, strict=True)
    )


def _alias(prop: Filterable) -> str:
    """The name a property path takes in the rewritten filter (what ogc/filters resolves)."""
    if prop.type == "geometry":
        from ..filters.compile import GEOMETRY

        return GEOMETRY
    return "_".join(local.replace("-", "_").replace(".", "_") for _ns, local in prop.path)


def _find(steps, t: InspireType) -> Filterable | None:
    """The type's property at this path (every source of a filterable type declares the same paths)."""
    if not steps:
        return None
    for s in t.sources:
        for prop in s.filterable:
            if _matches(steps, prop):
                return prop
    return None


def _refuse_unfilterable(t: InspireType, parameter: str, locator: str) -> None:
    if not all(s.filterable for s in t.sources):
        raise invalid(
            _("%(p)s is not offered for %(t)s (BBOX and RESOURCEID are).")
            % {"p": parameter, "t": t.typename},
            locator,
        )


def aliased_filter(text: str, t: InspireType, namespaces: dict[str, str]) -> bytes:
    """The FES 2.0 filter with each ValueReference's path replaced by its alias; InvalidParameterValue
    (FILTER) for a path the type does not offer. The XML is read with a parser that resolves nothing;
    ogc/filters reads the result again with all its limits."""
    from ..filters.fes_xml import MAX_BYTES, OWS_NAMESPACES

    _refuse_unfilterable(t, "FILTER", "FILTER")
    data = text.encode() if isinstance(text, str) else text
    if len(data) > MAX_BYTES:
        raise invalid(_("The filter is too large."), "FILTER")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        raise invalid(_("The filter is not well-formed XML."), "FILTER") from None
    if root.getroottree().docinfo.doctype:
        raise invalid(_("The filter must not have a DOCTYPE."), "FILTER")
    for el in root.iter(f"{{{FES20}}}ValueReference"):
        raw = (el.text or "").strip()
        prefix, colon, local = raw.rpartition(":")
        if colon and local == "BoundingBox" and el.nsmap.get(prefix) in OWS_NAMESPACES:
            continue  # OWSLib's BBox: the default geometry, as ogc/filters reads it
        prop = _find(_steps(raw, {k: v for k, v in el.nsmap.items() if k}, namespaces, t), t)
        if prop is None:
            raise invalid(_("Unknown property %(p)s of %(t)s.") % {"p": raw[:80], "t": t.typename}, "FILTER")
        el.text = _alias(prop)
    return etree.tostring(root)


@dataclass(frozen=True)
class _SourceLayer:
    """A source as the filter compiler sees a layer: a name and public attributes (the aliases)."""

    name: str
    public_attributes: tuple


def compile_filter(xml: bytes, source: Source, user) -> Q:
    """A Q on the source's rows for an aliased FES 2.0 filter (ogc/filters: parse_filter, to_q)."""
    from pygeofilter import ast

    from layers.catalogue import Attribute

    from ..filters.compile import ResourceId, to_q
    from ..filters.fes_xml import parse_filter

    layer = _SourceLayer(
        source.key,
        tuple(Attribute(_alias(f), f.lookup, f.type) for f in source.filterable if f.type != "geometry"),
    )

    def q(node) -> Q:
        if isinstance(node, ast.Combination):  # nesting is bounded by the parser (MAX_LOGICAL_DEPTH)
            connector = Q.AND if isinstance(node, ast.And) else Q.OR
            return Q(q(node.lhs), q(node.rhs), _connector=connector)
        if isinstance(node, ast.Not):
            return ~q(node.sub_node)
        if isinstance(node, ResourceId):  # INSPIRE feature ids: `<source key>.<primary key>`
            pks = []
            for rid in node.rids:
                parsed = parse_fid(rid, user)
                if parsed is not None and parsed[1].key == source.key:
                    pks.append(parsed[2])
            return Q(pk__in=pks)
        return to_q(node, layer)

    return q(parse_filter(xml, version="2.0"))


def parse_sort(value: str, t: InspireType, source: Source, namespaces: dict[str, str]) -> tuple[str, ...]:
    """SORTBY (`path [ASC|DESC]`, comma-separated) as order_by() terms on the source's fields."""
    _refuse_unfilterable(t, "SORTBY", "sortBy")
    out = []
    for item in value.split(","):
        if not item.strip():
            continue
        m = _SORT.fullmatch(item)
        steps = _steps(m.group(1), {}, namespaces, t) if m else ()
        prop = next((f for f in source.filterable if steps and _matches(steps, f)), None)
        sortable = getattr(source, "sortable", None)  # a computed source's own list
        if prop is None or prop.type == "geometry" or (sortable is not None and prop.lookup not in sortable):
            raise invalid(
                _("Cannot sort by %(p)s: not a property of %(t)s.")
                % {"p": item.strip()[:60], "t": t.typename},
                "sortBy",
            )
        descending = (m.group(2) or "ASC").upper() in ("DESC", "D")
        out.append(f"-{prop.lookup}" if descending else prop.lookup)
    return tuple(out)


def feature_by_id(ident: str, user, common: dict) -> InspireGetFeature | None:
    """GetFeatureById of an INSPIRE feature (None when the id is not one)."""
    if not is_inspire_fid(ident):
        return None
    _only_v2_gml(common["version"], common["fmt"], "ID")
    parsed = parse_fid(ident, user)
    if parsed is None:
        from ..common.exceptions import OGCException

        raise OGCException(
            "NotFound", _("Feature %(id)s does not exist.") % {"id": ident[:60]}, "ID", status=404
        )
    t, s, pk = parsed
    return InspireGetFeature(
        version=common["version"],
        queries=[InspireQuery(t, s, Q(pk=pk))],
        srs=common["srs"],
        count=1,
        by_id=True,
    )


def dataset(code: str, user, common: dict, srs: CrsRef, count: int, kvp: dict) -> InspireGetFeature | None:
    """The INSPIRE pre-defined data set download of a harmonised data set (None when `code` is not one)."""
    readable = set(types_for(user))
    types = [t for t in by_dataset(code.strip()) if t in readable]
    if not types:
        return None
    _only_v2_gml(common["version"], common["fmt"], "DataSetIdCode")
    return InspireGetFeature(
        version=common["version"],
        queries=[InspireQuery(t, s) for t in types for s in t.sources],
        srs=srs,
        count=count,
        start=common["start"],
        hits=common["hits"],
        kvp=kvp,
    )


# ---- running -------------------------------------------------------------------------------------
def _count(q: InspireQuery, timeout_ms: int | None = COUNT_TIMEOUT_MS) -> int | None:
    """Matching features, cached per query and data version; None when counting takes too long."""
    fetch = getattr(q.source, "fetch_count", None)
    if fetch is not None:  # a source computed in SQL: its SQL and parameters name the query
        qs, sql, stable = None, q.source.cache_key(q.where), []
    else:
        qs = queryset(q.source).filter(q.where)
        sql, params = qs.query.sql_with_params()
        stable = [str(p) for p in params]
    key = (
        "gisportal:wfs-inspire-count:"
        + hashlib.sha256(f"{sql}|{stable}|{data_version()}".encode()).hexdigest()
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    alias = read_alias()  # the database this request reads from (a replica for OGC reads, if configured)
    try:
        with transaction.atomic(using=alias):
            if timeout_ms:
                with connections[alias].cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            n = fetch(q.where) if qs is None else qs.using(alias).count()
    except OperationalError:
        return None
    cache.set(key, n, timeout=3600)
    return n


def _plan(req: InspireGetFeature) -> tuple[list[tuple[InspireQuery, list[int]]], int | None, bool]:
    """The primary keys of the page, query by query; numberMatched (None: unknown); whether more follow.
    One query is paged on its own (one key more than asked tells whether a next page exists); several
    are paged over their concatenation, which needs their counts. The sources of one type under SORTBY
    (cp:CadastralZoning's units and precincts) are one sorted sequence, not one after the other."""
    start, count = req.start, req.count
    if len(req.queries) == 1:
        q = req.queries[0]
        ids = list(q.ids()[start : start + count + 1])
        has_next, ids = len(ids) > count, ids[:count]
        matched = start + len(ids) if not has_next and (ids or start == 0) else _count(q)
        return [(q, ids)], matched, has_next
    groups: list[list[InspireQuery]] = []
    for q in req.queries:
        last = groups[-1][-1] if groups else None
        merge = last is not None and q.sort and last.itype is q.itype and len(last.sort) == len(q.sort)
        if merge and not any(hasattr(x.source, "fetch_ids") for x in (last, q)):
            groups[-1].append(q)
        else:
            groups.append([q])
    plan, offset, remaining, total = [], start, count, 0
    for group in groups:
        n = sum(_count(q, timeout_ms=None) or 0 for q in group)
        total += n
        if offset >= n:
            offset -= n
            continue
        if remaining > 0:
            if len(group) == 1:
                runs = [(group[0], list(group[0].ids()[offset : offset + remaining]))]
            else:
                runs = _merged(group, offset, offset + remaining)
            plan += runs
            remaining -= sum(len(ids) for _q, ids in runs)
        offset = 0
    return plan, total, start + count < total


def _merged(queries: list[InspireQuery], start: int, stop: int) -> list[tuple[InspireQuery, list[int]]]:
    """The keys [start:stop] of several sources of one type in their common SORTBY order (each source's
    sort fields, then the source, then the primary key): a UNION ALL of their sort values ordered by the
    database, as runs of consecutive keys of one source."""
    from django.db.models import F, IntegerField, Value

    parts = []
    for i, q in enumerate(queries):
        keys = {f"sort_{n}": F(term.lstrip("-")) for n, term in enumerate(q.sort)}
        rows = queryset(q.source).filter(q.where).order_by()
        rows = rows.annotate(**keys, sort_source=Value(i, output_field=IntegerField()), sort_pk=F("pk"))
        parts.append(rows.values(*keys, "sort_source", "sort_pk"))
    order = [f"-sort_{n}" if t.startswith("-") else f"sort_{n}" for n, t in enumerate(queries[0].sort)]
    union = parts[0].union(*parts[1:], all=True).order_by(*order, "sort_source", "sort_pk")
    runs: list[tuple[InspireQuery, list[int]]] = []
    for row in union[start:stop]:
        q = queries[row["sort_source"]]
        if runs and runs[-1][0] is q:
            runs[-1][1].append(row["sort_pk"])
        else:
            runs.append((q, [row["sort_pk"]]))
    return runs


def context(srs: CrsRef) -> Context:
    srid = srs.srid

    def href(fid: str) -> str:
        query = urlencode(
            {
                "SERVICE": "WFS",
                "VERSION": "2.0.0",
                "REQUEST": "GetFeature",
                "STOREDQUERY_ID": GET_FEATURE_BY_ID,
                "ID": fid,
            }
        )
        return f"{endpoint()}?{query}"

    # INSPIRE data carry the http URI form of their CRS (TG requirement; the validator's rs.a.1, ia.a.1): a
    # request in URN form (or none: the URN default) gets the URI, same authority axis order; `EPSG:` keeps
    # its own form, whose coordinates are easting first
    srs_name = srs.as_form(Form.URI) if srs.form is Form.URN else srs.text
    return Context(
        srid=srid,
        srs_name=srs_name,
        north_first=srs.swap(Protocol.WFS),
        decimals=decimals_for(srid),
        feature_href=href,
    )


def _rows(q: InspireQuery, ids: list[int], ctx: Context, project: bool = True) -> Iterator[etree._Element]:
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        fetch = getattr(q.source, "fetch_rows", None)
        if fetch is not None:
            rows = {r.pk: r for r in fetch(part, ctx.srid)}
        else:
            rows = {r.pk: r for r in with_geometries(q.source.queryset().filter(pk__in=part), ctx.srid)}
        for pk in part:
            if pk in rows:
                feature = q.source.encode(rows[pk], ctx)
                yield _project(feature, q) if project else feature


def schema_location(types) -> str:
    pairs = [
        (WFS20, "http://schemas.opengis.net/wfs/2.0/wfs.xsd"),
        (GML, "http://schemas.opengis.net/gml/3.2.1/gml.xsd"),
    ]
    pairs += list(dict.fromkeys((t.namespace, t.schema_location) for t in types))
    return " ".join(f"{ns} {url}" for ns, url in pairs)


def _strip(feature: bytes, declared: dict[str, str]) -> bytes:
    """A serialized feature without the namespace declarations its collection already makes."""
    end = feature.index(b">")
    head = _DECL.sub(
        lambda m: b"" if declared.get(m.group(1).decode()) == m.group(2).decode() else m.group(0),
        feature[:end],
    )
    return head + feature[end:]


def _link(req: InspireGetFeature, start: int) -> str | None:
    if not req.kvp:
        return None
    kvp = {k: v for k, v in req.kvp.items() if k != "STARTINDEX"}
    kvp["STARTINDEX"] = str(start)
    return f"{endpoint()}?{urlencode(kvp)}"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _document(req: InspireGetFeature, plan, matched, returned, next_url, previous_url) -> Iterator[bytes]:
    ctx = context(req.srs)
    features = (f for q, ids in plan for f in _rows(q, ids, ctx))
    first = next(features, None)
    nsmap = dict(_ROOT_NS)
    for t in req.types:
        nsmap.setdefault(t.prefix, t.namespace)
    if first is not None:  # the namespaces the features use are declared once, at the collection
        for prefix, uri in first.nsmap.items():
            if prefix and prefix not in nsmap:
                nsmap[prefix] = uri
    attrs = {
        "timeStamp": _now(),
        "numberMatched": "unknown" if matched is None else str(matched),
        "numberReturned": str(returned),
    }
    if next_url:
        attrs["next"] = next_url
    if previous_url:
        attrs["previous"] = previous_url
    root = etree.Element(f"{{{WFS20}}}FeatureCollection", attrs, nsmap=nsmap)
    root.set(f"{{{XSI}}}schemaLocation", schema_location(req.types))
    head = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    # the open tag of the (empty, self-closed) collection element: features follow it
    yield head[: head.rindex(b"/>")] + b">\n"
    buf: list[bytes] = []
    feature = first
    while feature is not None:
        member = _strip(etree.tostring(feature, encoding="UTF-8"), nsmap)
        buf.append(b"<wfs:member>" + member + b"</wfs:member>\n")
        if len(buf) >= CHUNK:
            yield b"".join(buf)
            buf.clear()
        feature = next(features, None)
    buf.append(b"</wfs:FeatureCollection>\n")
    yield b"".join(buf)


def get_feature(req: InspireGetFeature) -> HttpResponse:
    from ..common.exceptions import OGCException

    if req.by_id:
        ctx = context(req.srs)
        q = req.queries[0]
        ids = list(q.ids()[:1])
        feature = next(_rows(q, ids, ctx), None)
        if feature is None:
            raise OGCException("NotFound", _("The feature does not exist."), "ID", status=404)
        feature.set(f"{{{XSI}}}schemaLocation", f"{q.itype.namespace} {q.itype.schema_location}")
        body = etree.tostring(feature, encoding="UTF-8", xml_declaration=True)
        return HttpResponse(body, content_type=GML32_MIME)
    previous = _link(req, max(0, req.start - req.count)) if req.start > 0 else None
    if req.hits:
        counts = [_count(q, timeout_ms=None) for q in req.queries]
        matched = None if any(c is None for c in counts) else sum(counts)
        return HttpResponse(b"".join(_document(req, [], matched, 0, None, None)), content_type=GML32_MIME)
    plan, matched, has_next = _plan(req)
    returned = sum(len(ids) for _q, ids in plan)
    next_url = _link(req, req.start + req.count) if has_next else None
    body = _document(req, plan, matched, returned, next_url, previous)
    if returned <= CHUNK:
        return HttpResponse(b"".join(body), content_type=GML32_MIME)
    return StreamingHttpResponse(body, content_type=GML32_MIME)


# ---- GetPropertyValue ------------------------------------------------------------------------------
def value_path(ref: str, t: InspireType, namespaces: dict[str, str]) -> tuple[Step, ...]:
    """VALUEREFERENCE as steps into a feature of `t`: `@gml:id`, or a minimum XPath path whose first step is
    a property of the type (of its declared content model; for a type without one, a property in one of the
    namespaces its properties use). InvalidParameterValue (valueReference) otherwise."""
    steps = _path(ref, {}, namespaces, t)
    if steps and steps[0].attribute:
        ok = len(steps) == 1 and steps[0].local == "id" and steps[0].ns in (None, GML)
    elif steps:
        first = steps[0]
        if t.properties:
            ok = first.ns in (None, t.namespace) and first.local in {p.name for p in t.properties}
        else:
            used = {t.namespace} | {f.path[0][0] for s in t.sources for f in s.filterable}
            ok = first.ns is None or first.ns in used
    else:
        ok = False
    if not ok:
        raise invalid(
            _("%(p)s is not a property of %(t)s.") % {"p": (ref or "")[:80], "t": t.typename},
            "valueReference",
        )
    return steps


def _select(feature: etree._Element, steps: tuple[Step, ...]) -> list:
    """The nodes the path selects in the feature: elements, or attribute values (strings)."""
    nodes = [feature]
    for step in steps:
        if step.attribute:
            out = []
            for n in nodes:
                for key, value in n.attrib.items():
                    name = etree.QName(key)
                    if name.localname == step.local and (step.ns is None or name.namespace == step.ns):
                        out.append(value)
            return out
        found = []
        for n in nodes:
            kids = [
                c
                for c in n
                if isinstance(c.tag, str)
                and etree.QName(c).localname == step.local
                and (step.ns is None or etree.QName(c).namespace == step.ns)
            ]
            found += kids[step.index - 1 : step.index] if step.index else kids
        nodes = found
    return nodes


def _value(node, declared: dict[str, str]) -> bytes:
    """The member content of one selected node: a string (an attribute) as text; a property element holding
    one element as that element (its value: gml:MultiSurface, base:Identifier, …); an element of simple
    content as its text; any other (an object with several properties, a reference, a nil) as itself."""
    from .encode import xml_escape

    if isinstance(node, str):
        return xml_escape(node).encode()
    children = [c for c in node if isinstance(c.tag, str)]
    if len(children) == 1:
        node = children[0]
    elif not children and (node.text or "").strip():
        return xml_escape(node.text).encode()
    return _strip(etree.tostring(node, encoding="UTF-8", with_tail=False), declared)


def get_property_value(req: InspireGetFeature, ref: str) -> HttpResponse:
    """A wfs:ValueCollection of the values at VALUEREFERENCE in the features the query selects (paging,
    COUNT and hits apply to the features, as for GetFeature)."""
    paths = {t: value_path(ref, t, req.namespaces) for t in req.types}
    nsmap = dict(_ROOT_NS)
    for t in req.types:
        nsmap.setdefault(t.prefix, t.namespace)
    previous = _link(req, max(0, req.start - req.count)) if req.start > 0 else None
    members: list[bytes] = []
    next_url = None
    if req.hits:
        counts = [_count(q, timeout_ms=None) for q in req.queries]
        matched = None if any(c is None for c in counts) else sum(counts)
        previous = None
    else:
        plan, matched, has_next = _plan(req)
        next_url = _link(req, req.start + req.count) if has_next else None
        ctx = context(req.srs)
        selected = []
        for q, ids in plan:
            for feature in _rows(q, ids, ctx, project=False):
                for prefix, uri in feature.nsmap.items():
                    if prefix and prefix not in nsmap:
                        nsmap[prefix] = uri
                selected.extend(_select(feature, paths[q.itype]))
        members = [_value(node, nsmap) for node in selected]
    attrs = {
        "timeStamp": _now(),
        "numberMatched": "unknown" if matched is None else str(matched),
        "numberReturned": str(len(members)),
    }
    if next_url:
        attrs["next"] = next_url
    if previous:
        attrs["previous"] = previous
    root = etree.Element(f"{{{WFS20}}}ValueCollection", attrs, nsmap=nsmap)
    root.set(f"{{{XSI}}}schemaLocation", schema_location(req.types))
    head = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    body = [head[: head.rindex(b"/>")] + b">\n"]
    body += [b"<wfs:member>" + m + b"</wfs:member>\n" for m in members]
    body.append(b"</wfs:ValueCollection>\n")
    return HttpResponse(b"".join(body), content_type="application/xml; charset=utf-8")


# ---- DescribeFeatureType and capabilities ----------------------------------------------------------
def describe(types) -> bytes:
    """The schema of INSPIRE types. Types of one namespace whose content model is declared
    (`InspireType.properties`) are written out (elements and complexTypes, importing GML, base, … from
    their official locations: what QGIS reads); other types of one namespace include the official schema
    (the answer is then that namespace's schema, as clients expect); several namespaces import theirs."""
    from ..inspire.xsd import schema

    xs = "http://www.w3.org/2001/XMLSchema"
    types = list(dict.fromkeys(types))
    locations = list(dict.fromkeys((t.namespace, t.schema_location) for t in types))
    if len(locations) == 1 and all(t.properties for t in types):
        return schema(types[0].namespace, types[0].prefix, [(t.local_name, t.properties) for t in types])
    if len(locations) == 1:
        ns, url = locations[0]
        root = etree.Element(
            f"{{{xs}}}schema", nsmap={"xs": xs}, targetNamespace=ns, elementFormDefault="qualified"
        )
        etree.SubElement(root, f"{{{xs}}}include", schemaLocation=url)
    else:
        root = etree.Element(f"{{{xs}}}schema", nsmap={"xs": xs}, elementFormDefault="qualified")
        for ns, url in locations:
            etree.SubElement(root, f"{{{xs}}}import", namespace=ns, schemaLocation=url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def metadata_url(t: InspireType) -> str:
    """The record of the type's INSPIRE data set (CP, AD, BU)."""
    return metadata.dataset_record_url(t.dataset)


def title(t: InspireType, language: str) -> str:
    return t.title_en if language == "en" else t.title_pl


def abstract(t: InspireType, language: str) -> str:
    return t.extra.get(f"abstract_{language}") or title(t, language)
