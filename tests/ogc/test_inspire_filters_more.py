"""FES 2.0 FILTER and SORTBY on the INSPIRE types computed from the registry rather than read from one model:
cp:CadastralBoundary (lines PostGIS derives from the parcels, ogc/inspire/cp.py `BoundarySource`), the
ad:* address components (ogc/inspire/ad.py) and SORTBY across the two sources of cp:CadastralZoning and
ad:AdminUnitName (ogc/wfs/inspire.py `_plan`): each filter against the registry (ids and counts), refusals
with their locator, paging of a sorted sequence (page 1 + page 2 = the sorted whole).

The boundaries a filter is checked against are the unfiltered data set's, read once (by primary key, the
path the data suite of test_inspire_ets_data_cp.py checks against the parcels), filtered here with GEOS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import pytest
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.db.models import Q
from django.utils.translation import override
from lxml import etree

from layers.models import AddressPoint, CadastralUnit, Parcel, Precinct

from .test_inspire_download_service import validating  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
NS = {
    "wfs": "http://www.opengis.net/wfs/2.0",
    "gml": "http://www.opengis.net/gml/3.2",
    "cp": "http://inspire.ec.europa.eu/schemas/cp/4.0",
    "ad": "http://inspire.ec.europa.eu/schemas/ad/4.0",
    "gn": "http://inspire.ec.europa.eu/schemas/gn/4.0",
    "xlink": "http://www.w3.org/1999/xlink",
}
FES_NS = (
    'xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" '
    'xmlns:cp="http://inspire.ec.europa.eu/schemas/cp/4.0" '
    'xmlns:base="http://inspire.ec.europa.eu/schemas/base/3.3" '
    'xmlns:ad="http://inspire.ec.europa.eu/schemas/ad/4.0" '
    'xmlns:gn="http://inspire.ec.europa.eu/schemas/gn/4.0"'
)
BOUNDARY = "cp:CadastralBoundary"
SPELLING = "gn:GeographicalName/gn:spelling/gn:SpellingOfName/gn:text"


def get(client, **params):
    r = client.get("/ows?" + urlencode(params))
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body


def gf(client, typename: str, **params):
    r, body = get(client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES=typename, **params)
    assert r.status_code == 200, body[:800]
    return etree.fromstring(body)


def refused(client, typename: str, **params) -> tuple[str, str | None, str]:
    with override("en"):
        r, body = get(
            client, SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature", TYPENAMES=typename, **params
        )
    assert r.status_code == 400, body[:800]
    el = next(etree.fromstring(body).iter("{*}Exception"))
    return el.get("exceptionCode"), el.get("locator")


def fes(body: str) -> str:
    return f"<fes:Filter {FES_NS}>{body}</fes:Filter>"


def cmp(op: str, path: str, value: str) -> str:
    return (
        f"<fes:{op}><fes:ValueReference>{path}</fes:ValueReference>"
        f"<fes:Literal>{value}</fes:Literal></fes:{op}>"
    )


def eq(path: str, value: str) -> str:
    return cmp("PropertyIsEqualTo", path, value)


def envelope(op: str, box: tuple[float, float, float, float], path: str = "cp:geometry") -> str:
    """A spatial operator on a gml:Envelope given as (xmin, ymin, xmax, ymax) in EPSG:2180 (x = easting),
    written north first as the URN CRS wants."""
    x0, y0, x1, y1 = box
    return (
        f"<fes:{op}><fes:ValueReference>{path}</fes:ValueReference>"
        '<gml:Envelope srsName="urn:ogc:def:crs:EPSG::2180">'
        f"<gml:lowerCorner>{y0} {x0}</gml:lowerCorner><gml:upperCorner>{y1} {x1}</gml:upperCorner>"
        f"</gml:Envelope></fes:{op}>"
    )


def fids(doc) -> list[str]:
    return [m[0].get(f"{{{NS['gml']}}}id") for m in doc.iterfind("wfs:member", NS)]


def matched(doc) -> int:
    return int(doc.get("numberMatched"))


@pytest.fixture(scope="module")
def boundaries(demo_data, django_db_blocker):
    """Every boundary of the data set (EPSG:2180), by primary key."""
    from ogc.inspire.cp import CADASTRAL_BOUNDARY

    source = CADASTRAL_BOUNDARY.sources[0]
    with django_db_blocker.unblock():
        pks = source.fetch_ids(Q())
        return {r.pk: r for r in source.fetch_rows(pks, 2180)}


def ids_of(rows) -> set[str]:
    return {f"CadastralBoundary.{r.pk}" for r in rows}


def _parcel_near_middle():
    """A current parcel in the middle of the data set (with neighbours on all sides)."""
    current = Parcel.objects.current()
    box = Polygon.from_bbox(current.aggregate(e=Extent("geom"))["e"])
    box.srid = 2180
    return (
        current.filter(geom__intersects=box.centroid).first() or current.order_by("pk")[current.count() // 2]
    )


def _vertex(geom) -> tuple[float, float]:
    poly = geom[0] if geom.geom_type == "MultiPolygon" else geom
    return poly.exterior_ring.coords[0]


# ---- cp:CadastralBoundary --------------------------------------------------------------------------------
def test_boundary_bbox_selects_lines_not_parcels(client, boundaries):
    p = _parcel_near_middle()
    # a small box around a vertex of the parcel's outline: the lines through it, not the parcels around
    x, y = _vertex(p.geom)
    box = (x - 0.5, y - 0.5, x + 0.5, y + 0.5)
    area = Polygon.from_bbox(box)
    area.srid = 2180
    expected = ids_of(r for r in boundaries.values() if r.geom.intersects(area))
    doc = gf(client, BOUNDARY, FILTER=fes(envelope("BBOX", box)), COUNT="1000")
    assert set(fids(doc)) == expected and expected
    assert matched(doc) == len(expected)
    # a box inside the parcel, away from its outline: the parcel matches, no boundary does
    inner = p.geom.point_on_surface
    d = min(1.0, p.geom.boundary.distance(inner) / 3)
    assert d > 0
    inside = (inner.x - d, inner.y - d, inner.x + d, inner.y + d)
    assert f"CadastralParcel.{p.pk}" in fids(
        gf(client, "cp:CadastralParcel", FILTER=fes(envelope("BBOX", inside)))
    )
    assert fids(gf(client, BOUNDARY, FILTER=fes(envelope("BBOX", inside)))) == []
    # Within: the lines lying wholly inside a larger box (the parcel's own at least)
    x0, y0, x1, y1 = p.geom.extent
    big = (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    area = Polygon.from_bbox(big)
    area.srid = 2180
    expected = ids_of(r for r in boundaries.values() if r.geom.within(area))
    doc = gf(client, BOUNDARY, FILTER=fes(envelope("Within", big)), COUNT="1000")
    assert set(fids(doc)) == expected and expected
    # Not Intersects inside And with a BBOX: the box's lines that do not reach the small box
    both = fes(f"<fes:And>{envelope('BBOX', big)}<fes:Not>{envelope('Intersects', box)}</fes:Not></fes:And>")
    small = Polygon.from_bbox(box)
    small.srid = 2180
    expected = ids_of(
        r for r in boundaries.values() if r.geom.intersects(area) and not r.geom.intersects(small)
    )
    assert set(fids(gf(client, BOUNDARY, FILTER=both, COUNT="1000"))) == expected


def test_boundary_filtered_result_is_schema_valid(client, boundaries, validating):  # noqa: F811
    p = _parcel_near_middle()
    doc = gf(client, BOUNDARY, FILTER=fes(eq("cp:parcel", f"CadastralParcel.{p.pk}")))
    assert fids(doc)
    validating(doc)


def test_boundary_parcel_by_gml_id_and_href(client, boundaries):
    p = _parcel_near_middle()
    expected = ids_of(r for r in boundaries.values() if p.pk in (r.parcel_a, r.parcel_b))
    assert len(expected) >= 2  # the parcel's lines with its neighbours
    doc = gf(client, BOUNDARY, FILTER=fes(eq("cp:parcel", f"CadastralParcel.{p.pk}")))
    assert set(fids(doc)) == expected
    # every feature returned refers to the parcel, by the href a client reads in cp:parcel
    hrefs = [
        [e.get(f"{{{NS['xlink']}}}href") for e in f.iterfind("cp:parcel", NS)]
        for f in doc.iterfind("wfs:member/cp:CadastralBoundary", NS)
    ]
    assert all(any(h.endswith(f"ID=CadastralParcel.{p.pk}") for h in hs) for hs in hrefs)
    # the href as written is a literal too
    href = next(h for h in hrefs[0] if h.endswith(f"CadastralParcel.{p.pk}"))
    assert set(fids(gf(client, BOUNDARY, FILTER=fes(eq("cp:parcel", escape(href)))))) == expected
    # an Or of two parcels, and NotEqualTo inside a BBOX
    q = Parcel.objects.current().exclude(pk=p.pk).filter(geom__touches=p.geom).first()
    either = fes(
        f"<fes:Or>{eq('cp:parcel', f'CadastralParcel.{p.pk}')}{eq('cp:parcel', f'CadastralParcel.{q.pk}')}</fes:Or>"
    )
    expected_both = ids_of(r for r in boundaries.values() if {p.pk, q.pk} & {r.parcel_a, r.parcel_b})
    assert set(fids(gf(client, BOUNDARY, FILTER=either, COUNT="1000"))) == expected_both
    x0, y0, x1, y1 = p.geom.extent
    around = (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    box = Polygon.from_bbox(around)
    box.srid = 2180
    other = fes(
        f"<fes:And>{envelope('BBOX', around)}"
        f"{cmp('PropertyIsNotEqualTo', 'cp:parcel', f'CadastralParcel.{p.pk}')}</fes:And>"
    )
    expected = ids_of(
        r for r in boundaries.values() if r.geom.intersects(box) and p.pk not in (r.parcel_a, r.parcel_b)
    )
    assert set(fids(gf(client, BOUNDARY, FILTER=other, COUNT="1000"))) == expected and expected
    # a parcel that does not exist: nothing
    assert fids(gf(client, BOUNDARY, FILTER=fes(eq("cp:parcel", "CadastralParcel.99999999")))) == []


def test_boundary_dates_and_resource_ids(client, boundaries):
    """The lines' dates are the later of their parcels' (the demo parcels share one date: one parcel is
    made younger here, inside the test's transaction)."""
    p = _parcel_near_middle()
    younger = p.start_object + timedelta(days=100)
    newer = p.start_version + timedelta(days=100)
    Parcel.objects.filter(pk=p.pk).update(start_object=younger, start_version=newer)
    mine = ids_of(r for r in boundaries.values() if p.pk in (r.parcel_a, r.parcel_b))
    for path, value in (("cp:validFrom", younger), ("cp:beginLifespanVersion", newer)):
        moment = (value - timedelta(seconds=1)).isoformat()
        doc = gf(client, BOUNDARY, FILTER=fes(cmp("PropertyIsGreaterThan", path, moment)), COUNT="1000")
        assert set(fids(doc)) == mine, path
        # the value compared is the one written
        written = doc.xpath(f"//cp:CadastralBoundary/{path}/text()", namespaces=NS)
        assert set(written) == {value.strftime("%Y-%m-%dT%H:%M:%SZ")}, path
    moment = (younger - timedelta(seconds=1)).isoformat()
    # the older lines in a box around the parcel: all but the parcel's own
    x0, y0, x1, y1 = p.geom.extent
    around = (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    box = Polygon.from_bbox(around)
    box.srid = 2180
    older = fes(
        f"<fes:And>{envelope('BBOX', around)}"
        f"{cmp('PropertyIsLessThanOrEqualTo', 'cp:validFrom', moment)}</fes:And>"
    )
    expected = ids_of(r for r in boundaries.values() if r.geom.intersects(box)) - mine
    assert set(fids(gf(client, BOUNDARY, FILTER=older, COUNT="1000"))) == expected and expected
    # During (strictly inside the period)
    during = (
        "<fes:During><fes:ValueReference>cp:beginLifespanVersion</fes:ValueReference>"
        '<gml:TimePeriod gml:id="t1">'
        f"<gml:beginPosition>{(newer - timedelta(seconds=1)).isoformat()}</gml:beginPosition>"
        f"<gml:endPosition>{(newer + timedelta(seconds=1)).isoformat()}</gml:endPosition>"
        "</gml:TimePeriod></fes:During>"
    )
    assert set(fids(gf(client, BOUNDARY, FILTER=fes(during), COUNT="1000"))) == mine
    # fes:ResourceId, alone and in an Or with cp:parcel
    a, b = sorted(boundaries)[:2]
    rid = f'<fes:ResourceId rid="CadastralBoundary.{a}"/><fes:ResourceId rid="CadastralBoundary.{b}"/>'
    assert sorted(fids(gf(client, BOUNDARY, FILTER=fes(rid)))) == sorted(
        [f"CadastralBoundary.{a}", f"CadastralBoundary.{b}"]
    )
    assert fids(gf(client, BOUNDARY, FILTER=fes('<fes:ResourceId rid="CadastralParcel.1"/>'))) == []


def test_boundary_sortby_and_paging(client, boundaries):
    p = _parcel_near_middle()
    x0, y0, x1, y1 = p.geom.extent
    around = (x0 - 60, y0 - 60, x1 + 60, y1 + 60)
    box = Polygon.from_bbox(around)
    box.srid = 2180
    near = [r for r in boundaries.values() if r.geom.intersects(box)]
    # ascending: missing values last (PostgreSQL's order, as for the other types), then the key
    expected = [
        f"CadastralBoundary.{r.pk}"
        for r in sorted(near, key=lambda r: (r.start_version is None, r.start_version or 0, r.pk))
    ]
    filt = fes(envelope("BBOX", around))
    doc = gf(client, BOUNDARY, FILTER=filt, SORTBY="cp:beginLifespanVersion", COUNT="1000")
    assert fids(doc) == expected
    whole = fids(gf(client, BOUNDARY, FILTER=filt, SORTBY="cp:validFrom DESC", COUNT="1000"))
    n = len(whole) // 2
    page1 = gf(client, BOUNDARY, FILTER=filt, SORTBY="cp:validFrom DESC", COUNT=str(n))
    page2 = gf(client, BOUNDARY, FILTER=filt, SORTBY="cp:validFrom DESC", COUNT=str(n), STARTINDEX=str(n))
    assert fids(page1) + fids(page2) == whole[: 2 * n] and n > 1
    assert refused(client, BOUNDARY, SORTBY="cp:parcel") == ("InvalidParameterValue", "sortBy")
    assert refused(client, BOUNDARY, SORTBY="cp:geometry") == ("InvalidParameterValue", "sortBy")


def test_boundary_refusals(client, demo_data):
    # a property the boundary has not, or does not offer (its localId is derived in Python)
    for path in ("cp:label", "cp:inspireId/base:Identifier/base:localId", "cp:nothing"):
        assert refused(client, BOUNDARY, FILTER=fes(eq(path, "1"))) == ("InvalidParameterValue", "FILTER")
    # bad literals
    assert refused(client, BOUNDARY, FILTER=fes(eq("cp:parcel", "abc"))) == (
        "InvalidParameterValue",
        "FILTER",
    )
    assert refused(client, BOUNDARY, FILTER=fes(eq("cp:parcel", "CadastralZoning.unit.1")))[1] == "FILTER"
    code, _loc = refused(client, BOUNDARY, FILTER=fes(eq("cp:beginLifespanVersion", "yesterday")))
    assert code == "InvalidParameterValue"
    # cp:parcel is compared by equality only
    like = (
        '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
        "<fes:ValueReference>cp:parcel</fes:ValueReference><fes:Literal>Cadastral*</fes:Literal></fes:PropertyIsLike>"
    )
    assert refused(client, BOUNDARY, FILTER=fes(like)) == ("InvalidParameterValue", "FILTER")
    less = fes(cmp("PropertyIsLessThan", "cp:parcel", "CadastralParcel.5"))
    assert refused(client, BOUNDARY, FILTER=less) == ("InvalidParameterValue", "FILTER")


def test_parcel_literal_message():
    from ogc.common.exceptions import OGCException
    from ogc.inspire.cp import parcel_pk

    assert parcel_pk("CadastralParcel.12") == 12
    assert parcel_pk("https://x.example/ows?SERVICE=WFS&id=CadastralParcel.7") == 7
    for bad in (
        "abc",
        "CadastralParcel.x",
        "Building.1",
        "https://x.example/ows?ID=",
        "CadastralParcel." + "9" * 19,
    ):
        with override("en"), pytest.raises(OGCException) as e:
            parcel_pk(bad)
        assert "does not name a parcel" in e.value.message and e.value.locator == "FILTER", bad


# ---- ad:* components -------------------------------------------------------------------------------------
def _units():
    from ogc.inspire.ad import admin_units, country

    return list(admin_units()), country().get()


def test_admin_unit_name_filters(client, demo_data):
    units, land = _units()
    gmina = next(u for u in units if u.level == "gmina")
    doc = gf(client, "ad:AdminUnitName", FILTER=fes(eq(f"ad:name/{SPELLING}", gmina.name)))
    assert set(fids(doc)) == {f"AdminUnitName.{u.pk}" for u in units if u.name == gmina.name}
    assert fids(gf(client, "ad:AdminUnitName", FILTER=fes(eq(f"ad:name/{SPELLING}", "Polska")))) == [
        f"AdminUnitName.country.{land.pk}"
    ]
    for code, level in (("2ndOrder", "voivodeship"), ("3rdOrder", "county"), ("4thOrder", "gmina")):
        hits = gf(client, "ad:AdminUnitName", FILTER=fes(eq("ad:level", code)), RESULTTYPE="hits")
        assert matched(hits) == sum(1 for u in units if u.level == level) >= 1, code
    assert fids(gf(client, "ad:AdminUnitName", FILTER=fes(eq("ad:level", "1stOrder")))) == [
        f"AdminUnitName.country.{land.pk}"
    ]
    doc = gf(client, "ad:AdminUnitName", FILTER=fes(eq("ad:alternativeIdentifier", gmina.teryt)))
    assert fids(doc) == [f"AdminUnitName.{gmina.pk}"]
    assert doc.xpath("//ad:AdminUnitName/ad:alternativeIdentifier/text()", namespaces=NS) == [gmina.teryt]


def test_admin_unit_name_sortby_across_country_and_units(client, demo_data):
    """ad:level sorts the country (1stOrder, its own source) first and the gminas last; DESC the reverse;
    pages of the sorted sequence join up."""
    units, land = _units()
    rank = {"voivodeship": 2, "county": 3, "gmina": 4}
    ordered = [f"AdminUnitName.country.{land.pk}"] + [
        f"AdminUnitName.{u.pk}" for u in sorted(units, key=lambda u: (rank[u.level], u.pk))
    ]
    doc = gf(client, "ad:AdminUnitName", SORTBY="ad:level", COUNT="1000")
    assert fids(doc) == ordered and matched(doc) == len(ordered)
    desc = [f"AdminUnitName.{u.pk}" for u in sorted(units, key=lambda u: (-rank[u.level], u.pk))]
    assert fids(gf(client, "ad:AdminUnitName", SORTBY="ad:level DESC", COUNT="1000")) == desc + ordered[:1]
    page1 = gf(client, "ad:AdminUnitName", SORTBY="ad:level DESC", COUNT="2")
    page2 = gf(client, "ad:AdminUnitName", SORTBY="ad:level DESC", COUNT="2", STARTINDEX="2")
    assert fids(page1) + fids(page2) == (desc + ordered[:1])[:4]
    assert page1.get("next") and "STARTINDEX=2" in page1.get("next")


def test_area_street_postal_filters_and_sortby(client, demo_data):
    from ogc.inspire.ad import areas, postal_descriptors, streets

    area = areas().order_by("pk").first()
    doc = gf(client, "ad:AddressAreaName", FILTER=fes(eq(f"ad:name/{SPELLING}", area.locality)), COUNT="1000")
    assert set(fids(doc)) == {f"AddressAreaName.{a.pk}" for a in areas() if a.locality == area.locality}
    assert doc.xpath(f"//ad:AddressAreaName/ad:name/{SPELLING}/text()", namespaces=NS)[0] == area.locality
    street = streets().order_by("pk").first()
    path = f"ad:name/ad:ThoroughfareNameValue/ad:name/{SPELLING}"
    doc = gf(client, "ad:ThoroughfareName", FILTER=fes(eq(path, street.street)), COUNT="1000")
    assert set(fids(doc)) == {f"ThoroughfareName.{s.pk}" for s in streets() if s.street == street.street}
    like = (
        '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
        f"<fes:ValueReference>{path}</fes:ValueReference><fes:Literal>{street.street[:3]}*</fes:Literal>"
        "</fes:PropertyIsLike>"
    )
    expected = {f"ThoroughfareName.{s.pk}" for s in streets() if s.street.startswith(street.street[:3])}
    assert set(fids(gf(client, "ad:ThoroughfareName", FILTER=fes(like), COUNT="1000"))) == expected
    codes = sorted({p.postcode for p in postal_descriptors()})
    assert len(codes) >= 2
    doc = gf(client, "ad:PostalDescriptor", FILTER=fes(eq("ad:postCode", codes[0])))
    assert doc.xpath("//ad:PostalDescriptor/ad:postCode/text()", namespaces=NS) == [codes[0]]
    # SORTBY postCode DESC (digits and hyphens: the same order in any collation)
    doc = gf(client, "ad:PostalDescriptor", SORTBY="ad:postCode DESC", COUNT="1000")
    assert doc.xpath("//ad:PostalDescriptor/ad:postCode/text()", namespaces=NS) == codes[::-1]
    # the earliest address point's version date
    first = min(a.start_version for a in AddressPoint.objects.current() if a.start_version is not None)
    after = fes(cmp("PropertyIsGreaterThan", "ad:beginLifespanVersion", first.isoformat()))
    hits = gf(client, "ad:PostalDescriptor", FILTER=after, RESULTTYPE="hits")
    expected = sum(1 for p in postal_descriptors() if p.first_version and p.first_version > first)
    assert matched(hits) == expected


def test_component_refusals(client, demo_data):
    # a path of another component, of the address, a localId (derived in Python), a geometry path
    for typename, path in (
        ("ad:ThoroughfareName", "ad:postCode"),
        ("ad:PostalDescriptor", f"ad:name/{SPELLING}"),
        ("ad:AdminUnitName", "ad:inspireId/base:Identifier/base:localId"),
        ("ad:AddressAreaName", "ad:position/ad:GeographicPosition/ad:geometry"),
    ):
        assert refused(client, typename, FILTER=fes(eq(path, "1"))) == ("InvalidParameterValue", "FILTER"), (
            path
        )
    assert refused(client, "ad:ThoroughfareName", SORTBY="ad:name") == ("InvalidParameterValue", "sortBy")
    bad = fes(eq("ad:validFrom", "not-a-date"))
    assert refused(client, "ad:AddressAreaName", FILTER=bad)[0] == "InvalidParameterValue"


# ---- SORTBY across cp:CadastralZoning's units and precincts ---------------------------------------------
def _db_sorted(values: list[str], descending: bool = False) -> list[str]:
    """Values in the database's collation order (the order SORTBY promises)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT x FROM unnest(%s::text[]) AS x ORDER BY x {'DESC' if descending else 'ASC'}",  # noqa: S608
            [values],
        )
        return [r[0] for r in cur.fetchall()]


def test_zoning_sortby_is_one_order_across_units_and_precincts(client, demo_data):
    units, precincts = list(CadastralUnit.objects.current()), list(Precinct.objects.current())
    assert units and precincts
    labels = [u.unit_id for u in units] + [p.number for p in precincts]
    doc = gf(client, "cp:CadastralZoning", SORTBY="cp:label", COUNT="1000")
    written = doc.xpath("//cp:CadastralZoning/cp:label/text()", namespaces=NS)
    assert written == _db_sorted(labels) and matched(doc) == len(labels)
    # the units' labels (TERYT ids, longer than a precinct number) are not simply served first
    desc = gf(client, "cp:CadastralZoning", SORTBY="cp:label DESC", COUNT="1000")
    assert desc.xpath("//cp:CadastralZoning/cp:label/text()", namespaces=NS) == _db_sorted(labels, True)
    # by the version date: ties broken by source (units first) then primary key
    rows = [(u.start_version, 0, u.pk, f"CadastralZoning.unit.{u.pk}") for u in units] + [
        (p.start_version, 1, p.pk, f"CadastralZoning.precinct.{p.pk}") for p in precincts
    ]
    rows.sort(key=lambda r: (r[0] is None, r[0] or 0, r[1], r[2]))
    whole = [r[3] for r in rows]
    assert fids(gf(client, "cp:CadastralZoning", SORTBY="cp:beginLifespanVersion", COUNT="1000")) == whole
    # paging: page 1 + page 2 = the sorted whole's start, across the sources' border
    n = 3
    page1 = gf(client, "cp:CadastralZoning", SORTBY="cp:beginLifespanVersion", COUNT=str(n))
    page2 = gf(
        client, "cp:CadastralZoning", SORTBY="cp:beginLifespanVersion", COUNT=str(n), STARTINDEX=str(n)
    )
    assert fids(page1) + fids(page2) == whole[: 2 * n]
    last = gf(
        client,
        "cp:CadastralZoning",
        SORTBY="cp:beginLifespanVersion",
        COUNT="5",
        STARTINDEX=str(len(whole) - 2),
    )
    assert fids(last) == whole[-2:] and not last.get("next")
    # with a filter reaching both sources
    pr = precincts[0]
    like = (
        '<fes:PropertyIsLike wildCard="*" singleChar="?" escapeChar="\\">'
        f"<fes:ValueReference>cp:nationalCadastalZoningReference</fes:ValueReference>"
        f"<fes:Literal>{pr.unit.unit_id}*</fes:Literal>"
        "</fes:PropertyIsLike>"
    )
    doc = gf(client, "cp:CadastralZoning", FILTER=fes(like), SORTBY="cp:label DESC", COUNT="1000")
    written = doc.xpath("//cp:CadastralZoning/cp:label/text()", namespaces=NS)
    assert written == _db_sorted(written, True) and len(written) >= 2


def test_boundary_filters_narrow_the_parcels_cut_first():
    """What a filter implies of the parcels narrows those whose outlines are cut (by their index), before
    the lines are filtered exactly; a filter implying nothing cuts every current parcel (SQL only, no rows)."""
    from django.contrib.gis.geos import Point

    from ogc.inspire.cp import boundary_sql

    box = Polygon.from_bbox((0, 0, 10, 10))
    box.srid = 2180
    date = Q(boundary_begin__gt=datetime(2020, 1, 1, tzinfo=UTC))

    def cut(where: Q) -> str:
        sql, _params = boundary_sql(where, "r.boundary_pk")
        return sql.split("WHERE p.end_object IS NULL AND ", 1)[1].split("\n", 1)[0]

    assert "ST_Intersects(p.geom" in cut(Q(geom__intersects=box) & date)
    assert "ST_DWithin(p.geom" in cut(Q(geom__dwithin=(Point(5, 5, srid=2180), 3.0)))
    assert "x.id = ANY" in cut(Q(boundary_parcel="CadastralParcel.5"))
    assert "p.id = ANY" in cut(Q(pk__in=[10000000001]))
    assert cut(Q(geom__intersects=box) | Q(pk=10000000001)).count("ANY") == 1  # both terms narrow
    for everything in (date, Q(geom__intersects=box) | date, ~Q(geom__intersects=box), Q(geom__disjoint=box)):
        assert cut(everything).startswith("true)"), everything
