"""Streaming WFS response writers: GML 3.2 (WFS 2.0), GML 3.1.1 (WFS 1.1) and GeoJSON.

The collection header is written first (its counts are known before the rows are read), then one
feature at a time: memory holds one chunk of rows, never the document. Geometry and attributes
arrive as text from PostGIS (query.GeometryText, query.PropertiesText), escaped there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from ..common.gml import GISPORTAL_NS, GML, GML311
from ..features.featuretypes import PREFIX
from ..features.query import Page

WFS20 = "http://www.opengis.net/wfs/2.0"
WFS11 = "http://www.opengis.net/wfs"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
GML32_MIME = "application/gml+xml; version=3.2"
GML311_MIME = "text/xml; subtype=gml/3.1.1"
GEOJSON_MIME = "application/json"
BATCH = 200  # features per yielded chunk


def xml_escape(value: str, quote: bool = False) -> str:
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if quote and '"' in value:
        value = value.replace('"', "&quot;")
    return value


def text_value(value) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class Writer:
    """One output format: `document(pages, ...)` yields the response body in chunks of bytes."""

    mime = ""

    def __init__(self, version: str, describe_url: str):
        self.version = version
        self.describe_url = describe_url

    def document(
        self,
        pages: list[Page],
        *,
        matched: int | None,
        returned: int,
        timestamp: str,
        next_url: str | None = None,
        previous_url: str | None = None,
    ) -> Iterator[bytes]:
        yield self.header(
            matched=matched,
            returned=returned,
            timestamp=timestamp,
            next_url=next_url,
            previous_url=previous_url,
        ).encode()
        buf: list[str] = []
        first = True
        for page in pages:
            for row in page.rows:
                buf.append(self.feature(page, row, first=first))
                first = False
                if len(buf) >= BATCH:
                    yield "".join(buf).encode()
                    buf.clear()
        buf.append(self.footer())
        yield "".join(buf).encode()

    def header(self, **kw) -> str:
        raise NotImplementedError

    def feature(self, page: Page, row: tuple, *, first: bool) -> str:
        raise NotImplementedError

    def footer(self) -> str:
        raise NotImplementedError


class GMLWriter(Writer):
    mime = GML32_MIME

    def __init__(self, version: str, describe_url: str):
        super().__init__(version, describe_url)
        self.v2 = version.startswith("2")
        self.mime = GML32_MIME if self.v2 else GML311_MIME

    def namespaces(self) -> str:
        wfs, gml = (WFS20, GML) if self.v2 else (WFS11, GML311)
        return f'xmlns:wfs="{wfs}" xmlns:gml="{gml}" xmlns:{PREFIX}="{GISPORTAL_NS}" xmlns:xsi="{XSI}"'

    def schema_location(self) -> str:
        if self.v2:
            return (
                f"{WFS20} http://schemas.opengis.net/wfs/2.0/wfs.xsd {GML} http://schemas.opengis.net/gml/3.2.1/gml.xsd "
                f"{GISPORTAL_NS} {xml_escape(self.describe_url, True)}"
            )
        return f"{WFS11} http://schemas.opengis.net/wfs/1.1.0/wfs.xsd {GISPORTAL_NS} {xml_escape(self.describe_url, True)}"

    def header(self, *, matched, returned, timestamp, next_url=None, previous_url=None) -> str:
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<wfs:FeatureCollection {self.namespaces()} timeStamp="{timestamp}" '
        if self.v2:
            head += (
                f'numberMatched="{"unknown" if matched is None else matched}" numberReturned="{returned}" '
            )
            if next_url:
                head += f'next="{xml_escape(next_url, True)}" '
            if previous_url:
                head += f'previous="{xml_escape(previous_url, True)}" '
        else:
            head += f'numberOfFeatures="{returned}" '
        return head + f'xsi:schemaLocation="{self.schema_location()}">\n'

    def feature_element(self, page: Page, row: tuple, extra_ns: str = "") -> str:
        ft = page.query.ftype
        tag = f"{PREFIX}:{ft.name}"
        geom = (
            f"<{PREFIX}:geometry>{row[2]}</{PREFIX}:geometry>" if page.query.with_geometry and row[2] else ""
        )
        return f'<{tag}{extra_ns} gml:id="{ft.name}.{row[0]}">{row[1]}{geom}</{tag}>'

    def feature(self, page: Page, row: tuple, *, first: bool) -> str:
        member = "wfs:member" if self.v2 else "gml:featureMember"
        return f"<{member}>{self.feature_element(page, row)}</{member}>\n"

    def footer(self) -> str:
        return "</wfs:FeatureCollection>\n"

    def standalone(self, page: Page, row: tuple) -> bytes:
        """A single feature as the whole document (GetFeatureById)."""
        ns = f' {self.namespaces()} xsi:schemaLocation="{GISPORTAL_NS} {xml_escape(self.describe_url, True)}"'
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{self.feature_element(page, row, ns)}\n'.encode()


class GeoJSONWriter(Writer):
    mime = GEOJSON_MIME

    def __init__(self, version: str, describe_url: str, crs_name: str):
        super().__init__(version, describe_url)
        self.crs_name = crs_name

    def header(self, *, matched, returned, timestamp, next_url=None, previous_url=None) -> str:
        links = []
        if next_url:
            links.append({"href": next_url, "rel": "next", "type": GEOJSON_MIME})
        if previous_url:
            links.append({"href": previous_url, "rel": "previous", "type": GEOJSON_MIME})
        head = {
            "type": "FeatureCollection",
            "timeStamp": timestamp,
            "numberMatched": matched,
            "numberReturned": returned,
            "crs": {"type": "name", "properties": {"name": self.crs_name}},
            "links": links,
        }
        return json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'

    def feature_object(self, page: Page, row: tuple) -> str:
        geom = row[2] if page.query.with_geometry and row[2] else "null"
        return f'{{"type": "Feature", "id": "{page.query.ftype.name}.{row[0]}", "geometry": {geom}, "properties": {row[1]}}}'

    def feature(self, page: Page, row: tuple, *, first: bool) -> str:
        return ("" if first else ",\n") + self.feature_object(page, row)

    def footer(self) -> str:
        return "\n]}\n"

    def standalone(self, page: Page, row: tuple) -> bytes:
        return self.feature_object(page, row).encode()


def values_document(
    values: Iterable[str], *, matched: int | None, returned: int, timestamp: str, v2: bool
) -> bytes:
    """GetPropertyValue: a wfs:ValueCollection of already-encoded member contents."""
    members = "".join(f"<wfs:member>{v}</wfs:member>\n" for v in values)
    ns = f'xmlns:wfs="{WFS20}" xmlns:gml="{GML}" xmlns:{PREFIX}="{GISPORTAL_NS}"'
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<wfs:ValueCollection {ns} timeStamp="{timestamp}" '
        f'numberMatched="{"unknown" if matched is None else matched}" numberReturned="{returned}">\n'
    )
    return (head + members + "</wfs:ValueCollection>\n").encode()
