"""WFS 2.0 for the harmonised INSPIRE feature types (ogc/inspire/registry.py: cp:CadastralParcel, …) beside
our own application schema.

A request naming an INSPIRE type (by prefix, NAMESPACES binding or `{namespace}`), one of their feature
ids, or the INSPIRE data set in the pre-defined stored query becomes an `InspireGetFeature` here; the rest of
the WFS never sees it. Offered: KVP GetFeature in GML 3.2 with BBOX, RESOURCEID, COUNT/STARTINDEX paging,
resultType=hits and SRSNAME, GetFeatureById and the INSPIRE stored query, and FES 2.0 FILTER and SORTBY on
the property paths each source declares (`Source.filterable`: XPaths such as
`cp:inspireId/base:Identifier/base:localId` → a Django field). A filter's ValueReferences are resolved here
(namespace-aware) and renamed to aliases, then the filter goes through ogc/filters (FES parser, AST → Q)
against an adapter presenting the source as a layer whose public attributes are those aliases: names are
never SQL and an unknown path is refused. PROPERTYNAME, GeoJSON, WFS 1.1 and GetPropertyValue are refused
with an exception naming the parameter (our own types keep all of them). Features are written with lxml one
by one (ogc/inspire), in chunks of primary keys: memory holds one chunk, never the data set.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from lxml import etree

from layers.selectors import data_version

from .. import metadata
from ..common.crs import CrsRef, Form, InvalidCRS, Protocol, parse_crs
from ..common.gml import GML
from ..common.kvp import Params
from ..features.featuretypes import feature_types
from ..features.query import COUNT_TIMEOUT_MS, decimals_for
from ..inspire.base import XLINK, XSI, Context, Filterable, InspireType, Source, with_geometries
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

    def ids(self):
        fetch = getattr(self.source, "fetch_ids", None)  # a source computed in SQL (cp:CadastralBoundary)
        if fetch is not None:
            return fetch(self.where)
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


def parse_kvp(params: Params, user, common: dict, namespaces: dict[str, str]) -> InspireGetFeature:
    from .requests import _split_list, parse_bbox

    version = common["version"]
    _only_v2_gml(version, common["fmt"])
    if (params.get("PROPERTYNAME") or "").strip():
        raise invalid(
            _("%(p)s is not offered for INSPIRE feature types.") % {"p": "PROPERTYNAME"},
            "propertyName",
        )
    names = _split_list(params.get("TYPENAMES") or params.get("TYPENAME"))
    for n in names:
        if not is_inspire_name(n, namespaces):
            raise invalid(
                _("INSPIRE feature types cannot be queried together with other feature types."), "typeNames"
            )
    types = [resolve(n, user, namespaces) for n in names]
    rid = params.get("RESOURCEID") or params.get("FEATUREID")
    bbox = params.get("BBOX")
    filt = (params.get("FILTER") or "").strip()
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
    srs = parse_srs(params.get("SRSNAME"))
    return InspireGetFeature(
        version=version,
        queries=queries,
        srs=srs,
        count=common["count"],
        start=common["start"],
        hits=common["hits"],
        kvp=params.as_dict(),
    )


# ---- FES filters and SORTBY on INSPIRE property paths ---------------------------------------------
FES20 = "http://www.opengis.net/fes/2.0"
_SORT = re.compile(r"\s*(\S+?)(?:\s+(ASC|DESC|A|D))?\s*", re.IGNORECASE)


def _steps(
    text: str, scope: dict[str, str], namespaces: dict[str, str]
) -> tuple[tuple[str | None, str], ...]:
    """A property path as (namespace, local name) steps; a prefix is looked up in the element's own
    declarations, then the request's NAMESPACES, then the INSPIRE prefixes; an unprefixed step has no
    namespace (matched by its local name). Anything but plain child steps (axes, predicates, attributes,
    functions) yields an empty tuple."""
    known = {"base": "http://inspire.ec.europa.eu/schemas/base/3.3"} | {t.prefix: t.namespace for t in TYPES}
    out = []
    for step in text.strip().split("/"):
        prefix, colon, local = step.rpartition(":")
        if not re.fullmatch(r"[A-Za-z_][\w.-]*", local, re.ASCII) or (colon and not prefix):
            return ()
        if colon:
            ns = scope.get(prefix) or namespaces.get(prefix) or known.get(prefix)
            if ns is None:
                return ()
            out.append((ns, local))
        else:
            out.append((None, local))
    return tuple(out)


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
        prop = _find(_steps(raw, {k: v for k, v in el.nsmap.items() if k}, namespaces), t)
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
        steps = _steps(m.group(1), {}, namespaces) if m else ()
        prop = next((f for f in source.filterable if steps and _matches(steps, f)), None)
        if prop is None or prop.type == "geometry":
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
    if fetch is not None:  # a source computed in SQL: its key and filter name the query
        qs, sql, stable = None, q.source.key, [str(q.where)]
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
    try:
        with transaction.atomic():
            if timeout_ms:
                with connection.cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            n = fetch(q.where) if qs is None else qs.count()
    except OperationalError:
        return None
    cache.set(key, n, timeout=3600)
    return n


def _plan(req: InspireGetFeature) -> tuple[list[tuple[InspireQuery, list[int]]], int | None, bool]:
    """The primary keys of the page, query by query; numberMatched (None: unknown); whether more follow.
    One query is paged on its own (one key more than asked tells whether a next page exists); several
    are paged over their concatenation, which needs their counts."""
    start, count = req.start, req.count
    if len(req.queries) == 1:
        q = req.queries[0]
        ids = list(q.ids()[start : start + count + 1])
        has_next, ids = len(ids) > count, ids[:count]
        matched = start + len(ids) if not has_next and (ids or start == 0) else _count(q)
        return [(q, ids)], matched, has_next
    plan, offset, remaining, total = [], start, count, 0
    for q in req.queries:
        n = _count(q, timeout_ms=None) or 0
        total += n
        if offset >= n:
            offset -= n
            continue
        if remaining > 0:
            ids = list(q.ids()[offset : offset + remaining])
            plan.append((q, ids))
            remaining -= len(ids)
        offset = 0
    return plan, total, start + count < total


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


def _rows(q: InspireQuery, ids: list[int], ctx: Context) -> Iterator[etree._Element]:
    for i in range(0, len(ids), CHUNK):
        part = ids[i : i + CHUNK]
        fetch = getattr(q.source, "fetch_rows", None)
        if fetch is not None:
            rows = {r.pk: r for r in fetch(part, ctx.srid)}
        else:
            rows = {r.pk: r for r in with_geometries(q.source.queryset().filter(pk__in=part), ctx.srid)}
        for pk in part:
            if pk in rows:
                yield q.source.encode(rows[pk], ctx)


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
