"""Geometries of an EGiB file are built per batch (gml.GeometryReader.build): the batch path must give
exactly what the one-by-one path gives, for every shape, CRS and axis order, and fall back to it (with
its precise errors) whenever a batch holds something unusual."""

from __future__ import annotations

import pytest
import shapely
from django.utils import translation
from lxml import etree

from layers.importing.base import ImportFailed, Record
from layers.importing.gml import GML, GeometryReader, Pending

N, E = 637_930.0, 471_220.0  # a point in Piaseczno, EPSG:2180 (northing, easting as the urn form writes it)


def ring(
    x0: float, y0: float, size: float, *, north_first: bool = True, dim: int = 2, closed: bool = True
) -> str:
    pts = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)] + (
        [(x0, y0)] if closed else []
    )
    out = []
    for x, y in pts:
        pair = [y, x] if north_first else [x, y]
        out.append(" ".join(f"{v:.2f}" for v in pair + ([101.5] if dim == 3 else [])))
    return " ".join(out)


def polygon(x0, y0, size, *, hole=False, dim=2, srs="urn:ogc:def:crs:EPSG::2180", north_first=True) -> str:
    dim_attr = f' srsDimension="{dim}"'
    inner = (
        (
            f"<gml:interior><gml:LinearRing><gml:posList{dim_attr}>"
            f"{ring(x0 + 2, y0 + 2, size / 4, north_first=north_first, dim=dim)}</gml:posList></gml:LinearRing></gml:interior>"
        )
        if hole
        else ""
    )
    return (
        f'<gml:Polygon srsName="{srs}"><gml:exterior><gml:LinearRing><gml:posList{dim_attr}>'
        f"{ring(x0, y0, size, north_first=north_first, dim=dim)}</gml:posList></gml:LinearRing></gml:exterior>{inner}</gml:Polygon>"
    )


def holder(inner: str):
    return etree.fromstring(f'<h xmlns:gml="{GML}">{inner}</h>')


SHAPES = {
    "polygon": polygon(E, N, 20),
    "polygon with a hole": polygon(E + 100, N, 30, hole=True),
    "3D posList": polygon(E + 200, N, 10, dim=3),
    "multisurface": (
        f'<gml:MultiSurface srsName="urn:ogc:def:crs:EPSG::2180"><gml:surfaceMember>{polygon(E + 300, N, 10)}'
        f"</gml:surfaceMember><gml:surfaceMember>{polygon(E + 330, N, 10, hole=True)}</gml:surfaceMember></gml:MultiSurface>"
    ),
    "point": f'<gml:Point srsName="urn:ogc:def:crs:EPSG::2180"><gml:pos>{N + 5} {E + 5}</gml:pos></gml:Point>',
    "pos rings": (
        '<gml:Polygon srsName="urn:ogc:def:crs:EPSG::2180"><gml:exterior><gml:LinearRing>'
        + "".join(
            f"<gml:pos>{N + dy} {E + dx}</gml:pos>" for dx, dy in ((0, 0), (9, 0), (9, 9), (0, 9), (0, 0))
        )
        + "</gml:LinearRing></gml:exterior></gml:Polygon>"
    ),
    "unclosed ring": polygon(E + 400, N, 10).replace(
        ring(E + 400, N, 10), ring(E + 400, N, 10, closed=False)
    ),
}


def one_by_one(inner: str):
    return GeometryReader().read(holder(inner))


def batched(inners: list[str], reader: GeometryReader | None = None) -> list[Record]:
    reader = reader or GeometryReader()
    recs = [
        Record(kind="parcel", local_id=str(i), namespace="ns", geom=reader.read_later(holder(x)))
        for i, x in enumerate(inners)
    ]
    reader.build(recs)
    return recs


def test_every_shape_of_a_mixed_batch_equals_the_one_by_one_reading():
    recs = batched(list(SHAPES.values()) * 3)
    for rec, (name, inner) in zip(recs, list(SHAPES.items()) * 3, strict=True):
        expected = one_by_one(inner)
        assert rec.geom.geom_type == expected.geom_type, name
        assert shapely.equals_exact(rec.geom, expected, tolerance=0), name
        assert rec.wkb == shapely.to_wkb(expected, hex=True), name
        assert rec.valid is True, name


def test_batches_transform_from_pl2000_and_keep_millimetres():
    srs = "urn:ogc:def:crs:EPSG::2178"  # PL-2000 zone 7: northing first, transformed to EPSG:2180
    inners = [polygon(7_500_000 + 100 * i, 5_775_000, 25, srs=srs) for i in range(5)]
    for rec, inner in zip(batched(inners), inners, strict=True):
        assert not isinstance(rec.geom, Pending)
        assert shapely.equals_exact(rec.geom, one_by_one(inner), tolerance=0)


def test_easting_first_srs_form_is_not_swapped():
    srs = "EPSG:2180"  # the short form: easting first
    inner = polygon(E, N, 20, srs=srs, north_first=False)
    (rec,) = batched([inner])
    assert rec.geom.bounds[0] == pytest.approx(E)
    assert shapely.equals_exact(rec.geom, one_by_one(inner), tolerance=0)


def test_invalid_geometry_is_marked_invalid_for_the_validator():
    bow_tie = polygon(E, N, 20).replace(
        ring(E, N, 20), f"{N} {E} {N + 20} {E + 20} {N} {E + 20} {N + 20} {E} {N} {E}"
    )
    recs = batched([polygon(E + 50, N, 20), bow_tie])
    assert [r.valid for r in recs] == [True, False]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("471220.00 637930.00 abc 637950.00", "Non-numeric coordinates at line 2"),
        ("nan nan 1 2 3 4 5 6", "NaN or infinite coordinates at line 2"),
        ("1 2 3 4 5 6 7 8", "outside Poland at line 2"),
        ("471220.00 637930.00 471230.00", "wrong length at line 2"),
    ],
)
def test_a_bad_geometry_in_a_batch_gives_the_precise_error_of_its_line(bad, message):
    good = polygon(E, N, 20)
    broken = good.replace(ring(E, N, 20), bad)
    with translation.override("en"), pytest.raises(ImportFailed, match=message):
        batched([good, good, "\n" + broken, good])
