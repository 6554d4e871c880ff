"""Our pygeoapi feature provider: the feature query engine (ogc/features/query.py) and the filter
compiler (ogc/filters/compile.py) behind pygeoapi's provider interface, with the axis rules of OGC.md §2.

The bbox comes as the filter bbox.py made of it, and the geometry literals of a filter as filters.py
transformed them: both in EPSG:2180 with x = easting. The output CRS URI decides the output axis
order (`crs` parameter; CRS84 by default).
"""

from __future__ import annotations

from datetime import datetime

import orjson
from django.db.models import Q
from pygeoapi.provider.base import BaseProvider, ProviderInvalidQueryError, ProviderItemNotFoundError
from pygeofilter import ast

from layers import catalogue

from ..common.crs import CrsRef, InvalidCRS, Protocol, parse_crs
from ..common.exceptions import OGCException
from ..features import query as wq
from ..features.featuretypes import GEOMETRY, FeatureType
from ..filters.compile import cast_literal, to_q
from .bbox import BBoxError, BBoxFilter, box_filter
from .config import STORAGE_CRS
from .schema import attribute_schemas

MAX_FILTER_DEPTH = 30
MAX_FILTER_NODES = 5_000


def _check_filter(node, depth: int = 0, counter: list | None = None) -> None:
    """Depth and size caps of a CQL2 filter (OGC.md §6: 1,600 nested levels, 10^5 OR terms)."""
    counter = counter if counter is not None else [0]
    counter[0] += 1
    if depth > MAX_FILTER_DEPTH or counter[0] > MAX_FILTER_NODES:
        raise ProviderInvalidQueryError(user_msg="The filter is nested too deeply or is too large.")
    for child in getattr(node, "get_sub_nodes", lambda: [])() or []:
        if isinstance(child, ast.Node):
            _check_filter(child, depth + 1, counter)


class GisportalProvider(BaseProvider):
    def __init__(self, provider_def):
        super().__init__(provider_def)
        self.layer = catalogue.get_layer(provider_def["data"])
        self.ftype = FeatureType(self.layer)
        self.id_field = self.layer.id_attribute
        self._fields = self.get_fields()  # pygeoapi checks `properties` and `sortby` against these

    def get_fields(self) -> dict:
        return attribute_schemas(self.layer)

    # ---- pieces of a query
    def _crs(self, crs_transform_spec) -> CrsRef:
        # pygeoapi gives no spec when the asked CRS is the storage CRS (none asked: CRS84 is the target)
        uri = crs_transform_spec.target_crs_uri if crs_transform_spec is not None else STORAGE_CRS
        try:
            return parse_crs(uri, Protocol.OGCAPI)
        except InvalidCRS as e:
            raise ProviderInvalidQueryError(user_msg=str(e.message)) from None

    def _where(self, bbox, datetime_, properties, filterq) -> Q:
        where = Q()
        if bbox:
            where &= self._bbox(bbox)
        if datetime_:
            attr = self.ftype.temporal_attribute
            # checked either way; a collection without time is not narrowed by it (its OpenAPI says so)
            time = self._time(attr.source if attr else "", datetime_)
            if attr is not None:
                where &= time
        for name, value in properties or []:
            attr = self.ftype.attribute(name)
            if attr is None:
                raise ProviderInvalidQueryError(user_msg=f"Unknown property {name[:40]}.")
            try:
                where &= Q(**{attr.source: cast_literal(value, attr.type)})
            except ValueError:
                raise ProviderInvalidQueryError(
                    user_msg=f"{str(value)[:40]} is not a valid value of {name}."
                ) from None
        if filterq is not None:
            _check_filter(filterq)
            try:
                where &= to_q(filterq, self.layer)
            except OGCException as e:
                raise ProviderInvalidQueryError(user_msg=e.message) from None
        return where

    @staticmethod
    def _bbox(bbox) -> Q:
        """pygeoapi hands over what bbox.for_pygeoapi made; a plain list is a storage-CRS box."""
        try:
            spatial = (
                bbox
                if isinstance(bbox, BBoxFilter)
                else box_filter(bbox, parse_crs(STORAGE_CRS, Protocol.OGCAPI))
            )
        except BBoxError as e:
            raise ProviderInvalidQueryError(user_msg=str(e)) from None
        if spatial.geometry is None:
            return Q(pk__isnull=True)  # the box lies where no feature can be
        return Q(geom__intersects=spatial.geometry)

    @staticmethod
    def _time(source: str, value: str) -> Q:
        def parse(s: str):
            s = s.strip()
            if s in ("", ".."):
                return None
            try:
                return datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                raise ProviderInvalidQueryError(
                    user_msg="datetime must be RFC 3339 (an instant or an interval)."
                ) from None

        if "/" in value:
            start, end = (parse(p) for p in value.split("/", 1))
            if start and end and start > end:
                raise ProviderInvalidQueryError(user_msg="The datetime interval ends before it begins.")
            q = Q()
            if start:
                q &= Q(**{f"{source}__gte": start})
            if end:
                q &= Q(**{f"{source}__lte": end})
            return q
        return Q(**{source: parse(value)})

    def _query(self, where: Q, select_properties=None, sortby=None, skip_geometry=False) -> wq.Query:
        props = None
        if select_properties:
            props = tuple(a.name for a in self.layer.public_attributes if a.name in select_properties)
            props = tuple(dict.fromkeys((self.layer.id_attribute, *props)))
        if not skip_geometry and props is not None:
            props = (*props, GEOMETRY)
        if skip_geometry and props is None:
            props = self.layer.attribute_names
        sort = tuple((s["property"], s.get("order") == "-") for s in (sortby or []))
        return wq.Query(self.ftype, where, props, sort)

    def _features(self, page: wq.Page) -> list[dict]:
        """pygeoapi wants dicts: the GeoJSON text PostGIS wrote is parsed here (orjson: this parse
        was a third of an items request with the standard library)."""
        out = []
        for row in page.rows:
            props = orjson.loads(row[1])
            geom = orjson.loads(row[2]) if page.query.with_geometry and row[2] else None
            out.append(
                {
                    "type": "Feature",
                    "id": str(props.get(self.layer.id_attribute, row[0])),
                    "geometry": geom,
                    "properties": props,
                }
            )
        return out

    # ---- the provider interface
    def query(
        self,
        offset=0,
        limit=10,
        resulttype="results",
        bbox=None,
        datetime_=None,
        properties=None,
        sortby=None,
        select_properties=None,
        skip_geometry=False,
        q=None,
        filterq=None,
        crs_transform_spec=None,
        **kwargs,
    ):
        crs = self._crs(crs_transform_spec)
        query = self._query(
            self._where(bbox, datetime_, properties, filterq), select_properties, sortby, skip_geometry
        )
        if resulttype == "hits":
            return {
                "type": "FeatureCollection",
                "features": [],
                "numberMatched": wq.count(query, timeout_ms=None) or 0,
                "numberReturned": 0,
            }
        page = wq.fetch(query, int(offset), int(limit), fmt="geojson", crs=crs)
        features = self._features(page)
        result = {"type": "FeatureCollection", "features": features, "numberReturned": len(features)}
        matched = wq.number_matched(query, int(offset), page)
        if matched is not None:
            result["numberMatched"] = matched
        return result

    def get(self, identifier, crs_transform_spec=None, **kwargs):
        crs = self._crs(crs_transform_spec)
        source = self.ftype.attribute(self.layer.id_attribute).source
        if self.ftype.attribute(self.layer.id_attribute).type == "integer":
            if not str(identifier).isdigit() or len(str(identifier)) > 18:
                raise ProviderItemNotFoundError(user_msg="No such item.")
        elif len(str(identifier)) > 60:
            raise ProviderItemNotFoundError(user_msg="No such item.")
        page = wq.fetch(wq.Query(self.ftype, Q(**{source: identifier})), 0, 1, fmt="geojson", crs=crs)
        features = self._features(page)
        if not features:
            raise ProviderItemNotFoundError(user_msg="No such item.")
        return features[0]
