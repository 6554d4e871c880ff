"""Small EGiB GML documents written by the tests themselves (the shared samples are read in place)."""

from __future__ import annotations

from pathlib import Path

NS21 = "ewidencjaGruntowIBudynkow:1.0"


def square(e: float, n: float, size: float = 50.0) -> list[tuple[float, float]]:
    """A square in EPSG:2180 given as (easting, northing) corners."""
    return [(e, n), (e + size, n), (e + size, n + size), (e, n + size), (e, n)]


def pos_list(ring, north_first: bool = True) -> str:
    return " ".join(f"{n:.2f} {e:.2f}" if north_first else f"{e:.2f} {n:.2f}" for e, n in ring)


def parcel(
    lid: str,
    pid: str,
    ring,
    *,
    version: str = "2026-01-01T10:00:00",
    area_ha: str | None = None,
    srs: str = "urn:ogc:def:crs:EPSG::2180",
    end_version: str | None = None,
    end_object: str | None = None,
    north_first: bool = True,
    ns: str = "PL.PZGiK.9999.EGiB",
    uses: str | None = None,
) -> str:
    if area_ha is None:
        from shapely.geometry import Polygon

        area_ha = f"{Polygon(ring).area / 10000:.4f}"
    ends = ""
    if end_version:
        ends += f"<egb:koniecWersjaObiekt>{end_version}</egb:koniecWersjaObiekt>"
    if end_object:
        ends += f"<egb:koniecObiekt>{end_object}</egb:koniecObiekt>"
    uses = (
        uses
        if uses is not None
        else f'<egb:klasouzytek><egb:EGB_Klasouzytek><egb:OFU>B</egb:OFU><egb:powierzchnia uom="ha">{area_ha}</egb:powierzchnia></egb:EGB_Klasouzytek></egb:klasouzytek>'
    )
    gid = f"{ns}_{lid}_{version.replace(':', '-')}"
    return f"""<gml:featureMember><egb:EGB_DzialkaEwidencyjna gml:id="{gid}">
<egb:idIIP><egb:EGB_IdentyfikatorIIP><egb:lokalnyId>{lid}</egb:lokalnyId><egb:przestrzenNazw>{ns}</egb:przestrzenNazw><egb:wersjaId>{version}</egb:wersjaId></egb:EGB_IdentyfikatorIIP></egb:idIIP>
<egb:startObiekt>2020-01-01T00:00:00</egb:startObiekt><egb:startWersjaObiekt>{version}</egb:startWersjaObiekt>{ends}
<egb:idDzialki>{pid}</egb:idDzialki>
<egb:geometria><gml:Polygon gml:id="g-{gid}" srsName="{srs}"><gml:exterior><gml:LinearRing><gml:posList srsDimension="2">{pos_list(ring, north_first)}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></egb:geometria>
<egb:poleEwidencyjne uom="ha">{area_ha}</egb:poleEwidencyjne><egb:dokladnoscReprezentacjiPola>1</egb:dokladnoscReprezentacjiPola>
{uses}<egb:JRG2/><egb:lokalizacjaDzialki/>
</egb:EGB_DzialkaEwidencyjna></gml:featureMember>
"""


def document(*features: str, ns: str = NS21, prolog: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<gml:FeatureCollection gml:id="fc" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:egb="{ns}" xmlns:xlink="http://www.w3.org/1999/xlink">
{"".join(features)}</gml:FeatureCollection>
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def precinct(
    lid: str,
    pid: str,
    ring,
    *,
    version: str = "2026-01-01T10:00:00",
    ns: str = "PL.PZGiK.9999.EGiB",
    name: str = "Testowo",
) -> str:
    gid = f"{ns}_{lid}_{version.replace(':', '-')}"
    return f"""<gml:featureMember><egb:EGB_ObrebEwidencyjny gml:id="{gid}">
<egb:idIIP><egb:EGB_IdentyfikatorIIP><egb:lokalnyId>{lid}</egb:lokalnyId><egb:przestrzenNazw>{ns}</egb:przestrzenNazw><egb:wersjaId>{version}</egb:wersjaId></egb:EGB_IdentyfikatorIIP></egb:idIIP>
<egb:startObiekt>2020-01-01T00:00:00</egb:startObiekt><egb:startWersjaObiekt>{version}</egb:startWersjaObiekt>
<egb:geometria><gml:MultiSurface gml:id="g-{gid}" srsName="urn:ogc:def:crs:EPSG::2180"><gml:surfaceMember><gml:Polygon gml:id="p-{gid}"><gml:exterior><gml:LinearRing><gml:posList>{pos_list(ring)}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></egb:geometria>
<egb:idObrebu>{pid}</egb:idObrebu><egb:nazwaWlasna>{name}</egb:nazwaWlasna><egb:lokalizacjaObrebu/>
</egb:EGB_ObrebEwidencyjny></gml:featureMember>
"""
