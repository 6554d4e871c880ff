"""The surveyor's materials package: the files of the work area, built into a temporary folder and sealed
by the county as an ASiC-E container (ETSI EN 319 162-1).

The area is the case's location (the work area, EPSG:2180) buffered by settings.GISPORTAL_SURVEY_BUFFER_M.
What goes in:
- egib.gml: the registry (with personal data: art. 12 Pgik) limited to the objects intersecting the area,
  by layers.exporting.egib.export_egib(area=...); the read is logged in RestrictedAccessLog first;
- warstwy.gpkg: the public catalogue layers clipped to the area by ogr2ogr (GDAL) reading the database;
  the SQL is built from the catalogue's table and column names only, the area goes in as a WKT argument
  (-clipsrc); no user text reaches the command;
- mapa.pdf: the area on a map sheet laid out by services.documents.mapextract (the same renderer, grid,
  scale bar and north arrow as the cadastral extract; the sheet chosen for the area's box);
- dzialki.csv and punkty.csv: the parcels (id, registered area in m², precinct, land uses) and their
  boundary vertices (EPSG:2180, X = northing, Y = easting, deduplicated at 1 cm), UTF-8 with BOM, `;`.

Only the materials the surveyor chose in the notification (`materials`: egib, warstwy, mapa, punkty; all
of them for notifications filed before the choice existed) go in, and what the fee was computed for;
dzialki.csv, the list of the area's parcels, always (parcel identifiers are free, art. 40a ust. 2 Pgik).
A part that cannot be made (no ogr2ogr, an area too large for one A3 sheet at 1:5000) is left out and
said in `contents["notes"]`; the container is then still complete and sealed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import inspect
import io
import logging
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import quoteattr

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

MIMETYPE = "application/vnd.etsi.asic-e+zip"
ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"
MANIFEST = "META-INF/ASiCManifest.xml"
SIGNATURE = "META-INF/signature.p7s"
MEDIA_TYPES = {
    "egib.gml": "application/gml+xml",
    "warstwy.gpkg": "application/geopackage+sqlite3",
    "mapa.pdf": "application/pdf",
    "dzialki.csv": "text/csv",
    "punkty.csv": "text/csv",
}
LEGAL_BASIS = "art. 12 ust. 1 Pgik: materiały zasobu dla wykonawcy prac geodezyjnych"
OGR_TIMEOUT_S = 300
STORAGE_SRID = 2180

Progress = Callable[[int], None]
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the area
def work_area(location: GEOSGeometry) -> GEOSGeometry:
    """The case's work area buffered by GISPORTAL_SURVEY_BUFFER_M, in EPSG:2180."""
    geom = location.clone()
    if geom.srid and geom.srid != STORAGE_SRID:
        geom.transform(STORAGE_SRID)
    area = geom.buffer(float(getattr(settings, "GISPORTAL_SURVEY_BUFFER_M", 50)))
    area.srid = STORAGE_SRID
    return area


def parcel_rows(area: GEOSGeometry) -> list[tuple[int, str, Decimal, str, str]]:
    """(pk, ID_DZIALKI, area_ha, precinct number, precinct name) of the current parcels intersecting the area."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT p.id, p.parcel_id, p.area_ha, o.number, o.name
            FROM layers_parcel p JOIN layers_precinct o ON o.id = p.precinct_id
            WHERE p.end_object IS NULL AND ST_Intersects(p.geom, ST_GeomFromEWKB(%s))
            ORDER BY p.parcel_id
            """,
            [bytes(area.ewkb)],
        )
        return cur.fetchall()


# ---------------------------------------------------------------- CSV files (Excel in Poland)
def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _pl_number(value: Decimal | float, places: int) -> str:
    return f"{value:.{places}f}".replace(".", ",")


def parcels_csv(parcels: list[tuple[int, str, Decimal, str, str]]) -> bytes:
    from layers.models import ParcelLandUse

    uses: dict[int, list[str]] = {}
    for parcel_pk, ofu, ozu, ozk, area_ha in (
        ParcelLandUse.objects.filter(parcel_id__in=[p[0] for p in parcels])
        .order_by("parcel_id", "ofu", "ozu", "ozk")
        .values_list("parcel_id", "ofu", "ozu", "ozk", "area_ha")
    ):
        label = "".join(x for x in (ofu, ozu, ozk) if x) if not ozu else f"{ofu}/{ozu}{ozk}"
        uses.setdefault(parcel_pk, []).append(f"{label} {_pl_number(area_ha, 4)} ha")
    rows: list[list[object]] = [
        ["id_dzialki", "pole_ewidencyjne_m2", "numer_obrebu", "nazwa_obrebu", "uzytki"],
    ]
    for pk, parcel_id, area_ha, precinct_no, precinct_name in parcels:
        rows.append(
            [
                parcel_id,
                _pl_number(Decimal(area_ha) * 10000, 0),
                precinct_no,
                precinct_name,
                ", ".join(uses.get(pk, ())),
            ]
        )
    return _csv(rows)


def points_csv(parcels: list[tuple[int, str, Decimal, str, str]]) -> tuple[bytes, int]:
    """The parcels' boundary vertices, once each (rounded to 1 cm), numbered, with the parcels they bound."""
    if not parcels:
        return _csv([["nr", "X", "Y", "dzialki"]]), 0
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT round(ST_Y(d.geom)::numeric, 2) AS x, round(ST_X(d.geom)::numeric, 2) AS y,
                   string_agg(DISTINCT p.parcel_id, ',' ORDER BY p.parcel_id)
            FROM layers_parcel p, LATERAL ST_DumpPoints(p.geom) d
            WHERE p.id = ANY(%s)
            GROUP BY 1, 2
            ORDER BY 1 DESC, 2
            """,
            [[p[0] for p in parcels]],
        )
        points = cur.fetchall()
    rows: list[list[object]] = [["nr", "X", "Y", "dzialki"]]
    for i, (x, y, ids) in enumerate(points, 1):
        rows.append([i, _pl_number(x, 2), _pl_number(y, 2), ids])
    return _csv(rows), len(points)


# ---------------------------------------------------------------- egib.gml
def export_supports_area() -> bool:
    from layers.exporting.egib import export_egib

    return "area" in inspect.signature(export_egib).parameters


def egib_gml(path: Path, area: GEOSGeometry, *, user, case_sign: str) -> dict[str, int] | None:
    """The registry of the area with personal data; the read is logged (DOMAIN.md §11) before anything is
    read. None when the export cannot be limited to an area (never the whole registry instead)."""
    from layers.exporting.egib import export_egib
    from layers.selectors import access_log_append

    if not export_supports_area():
        return None
    with transaction.atomic():
        access_log_append(
            user,
            legal_basis=LEGAL_BASIS,
            object_kind="egib_export",
            object_ids=[f"{case_sign}/egib.gml"],
            case_sign=case_sign,
        )
    return export_egib(path, area=area, srid=STORAGE_SRID, only_current=True, personal_data=True)


# ---------------------------------------------------------------- warstwy.gpkg
def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME")}
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[name] = str(s[key])
    env["PGDATABASE"] = str(s["NAME"])
    env["PG_LIST_ALL_TABLES"] = "NO"
    env["CPL_DEBUG"] = "OFF"
    return env


def layer_sql(layer, bbox: tuple[float, float, float, float]) -> str:
    """The layer's current rows with its public attributes, in the area's box: identifiers from the
    catalogue (quoted there), the box as four numbers; the exact clip is ogr2ogr's -clipsrc."""
    from layers.catalogue import layer_sql_source

    src = layer_sql_source(layer, layer.public_attributes)
    columns = ", ".join(f'{expr} AS "{attr.name}"' for attr, expr in src.columns)
    box = "ST_MakeEnvelope({:.3f}, {:.3f}, {:.3f}, {:.3f}, {})".format(*bbox, STORAGE_SRID)
    where = src.where(f"{src.geometry} && {box}")
    return f"SELECT {columns}, {src.geometry} AS geom FROM {src.from_clause} WHERE {where}"  # noqa: S608 (catalogue names)


def public_layers() -> list:
    from layers.catalogue import all_layers

    return [
        layer
        for layer in all_layers()
        if layer.required_capability == "view_public_layers" and layer.is_dataset
    ]


def layers_gpkg(path: Path, area: GEOSGeometry) -> tuple[dict[str, int] | None, str]:
    """(features per layer, "") or (None, why not)."""
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        return None, _("ogr2ogr (GDAL) is not installed on the server: the layers file was left out.")
    env = _pg_env()
    bbox = area.extent
    counts: dict[str, int] = {}
    for layer in public_layers():
        cmd = [
            ogr2ogr,
            "-f",
            "GPKG",
            *(["-update", "-append"] if path.exists() else []),
            str(path),
            "PG:",
            "-sql",
            layer_sql(layer, bbox),
            "-nln",
            layer.name,
            "-a_srs",
            f"EPSG:{STORAGE_SRID}",
            "-clipsrc",
            area.wkt,
            "-skipfailures",
        ]
        if layer.geometry_type == "MultiPolygon":
            cmd += ["-nlt", "MULTIPOLYGON"]
        try:
            done = subprocess.run(  # noqa: S603 (a fixed program, arguments from the catalogue and the area)
                cmd, env=env, capture_output=True, timeout=OGR_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return None, _("The layers file took too long to prepare and was left out.")
        if done.returncode != 0:
            log.error("ogr2ogr failed for %s: %s", layer.name, done.stderr[-500:])
            return None, _("The layers file could not be prepared and was left out.")
        counts[layer.name] = _gpkg_count(path, layer.name)
    return counts, ""


def _gpkg_count(path: Path, table: str) -> int:
    import sqlite3

    from layers.catalogue import quote

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return int(db.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0])  # noqa: S608
    except sqlite3.Error:
        return 0


# ---------------------------------------------------------------- mapa.pdf
def map_pdf(area: GEOSGeometry, *, title, work_area_geom: GEOSGeometry) -> tuple[bytes | None, str, int]:
    """(PDF, "", scale) of the work area on one sheet, or (None, why not, 0)."""
    from services.documents import mapextract

    wa = work_area_geom.clone()
    wa.transform(mapextract.SRID)
    box = area.clone()
    box.transform(mapextract.SRID)
    extent = box.extent
    chosen = mapextract.choose_sheet(extent)
    if chosen is None:
        return None, _("The work area is larger than an A3 sheet at 1:5000: the map was left out."), 0
    sheet, scale = chosen
    from shapely import wkb

    shape = wkb.loads(bytes(wa.wkb))
    parts = list(getattr(shape, "geoms", [shape]))
    polygons = tuple(
        tuple(tuple((float(x), float(y)) for x, y in ring.coords) for ring in (p.exterior, *p.interiors))
        for p in parts
        if p.geom_type == "Polygon"
    )
    centre = max(parts, key=lambda p: p.area).representative_point()
    placed = mapextract.PlacedParcel(title.case_sign, "", polygons, (centre.x, centre.y))
    layout = mapextract.Layout((placed,), scale, sheet, mapextract._window(extent, sheet, scale))
    import weasyprint
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("pl"):
        context = mapextract._context(layout, title, "pl")
        context["legend"][0] = (context["legend"][0][0], "", _("Work area"))
        html = render_to_string("surveys/map.html", context)
    doc = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    return doc.write_pdf(pdf_tags=True), "", scale


# ---------------------------------------------------------------- the container
def manifest_xml(files: dict[str, Path]) -> bytes:
    refs = []
    for name, path in files.items():
        digest = base64.b64encode(_sha256_file(path).digest()).decode("ascii")
        refs.append(
            f"<DataObjectReference URI={quoteattr(name)} MimeType={quoteattr(MEDIA_TYPES.get(name, 'application/octet-stream'))}>"
            f'<ds:DigestMethod Algorithm="{SHA256_URI}"/><ds:DigestValue>{digest}</ds:DigestValue>'
            "</DataObjectReference>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ASiCManifest xmlns="{ASIC_NS}" xmlns:ds="{DS_NS}">'
        f'<SigReference URI="{SIGNATURE}" MimeType="application/pkcs7-signature"/>'
        + "".join(refs)
        + "</ASiCManifest>"
    ).encode("utf-8")


def seal_detached(body: bytes, office) -> bytes:
    """A detached CMS (CAdES-BES shape, SHA-256) over `body` with the office's seal."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    from services.offices.seals import seal_for

    s = seal_for(office)
    key = serialization.load_pem_private_key(s.key_pem, password=None)
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(body)
        .add_signer(s.certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


def _sha256_file(path: Path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h


def asic_write(out: Path, files: dict[str, Path], office) -> None:
    """mimetype first (stored), the data files, the manifest and the county's seal over it."""
    manifest = manifest_xml(files)
    signature = seal_detached(manifest, office)
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE.encode("ascii"), compress_type=zipfile.ZIP_STORED)
        for name, path in files.items():
            compress = zipfile.ZIP_STORED if name.endswith((".pdf", ".gpkg")) else zipfile.ZIP_DEFLATED
            z.write(path, name, compress_type=compress)
        z.writestr(MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(SIGNATURE, signature, compress_type=zipfile.ZIP_STORED)


# ---------------------------------------------------------------- everything
ALL_MATERIALS = ("egib", "warstwy", "mapa", "punkty")


def materials_of(case) -> tuple[str, ...]:
    """The materials the notification asked for (all of them when its form version had no choice)."""
    data = (case.submission.data or {}) if case.submission_id else {}
    chosen = data.get("materials")
    if not isinstance(chosen, list) or not chosen:
        return ALL_MATERIALS
    return tuple(m for m in ALL_MATERIALS if m in chosen)


def build(folder: Path, *, case, surveyor, title, progress: Progress) -> tuple[Path, dict]:
    """The package's files in `folder`, sealed into `folder/<kerg>.asice`; (path, contents)."""
    area = work_area(case.location)
    chosen = materials_of(case)
    contents: dict = {
        "materials": list(chosen),
        "buffer_m": float(getattr(settings, "GISPORTAL_SURVEY_BUFFER_M", 50)),
        "area_m2": round(area.area, 1),
        "files": {},
        "notes": [],
        "built_at": timezone.now().isoformat(),
    }
    files: dict[str, Path] = {}
    parcels = parcel_rows(area)
    contents["parcels"] = len(parcels)
    progress(10)

    if "egib" in chosen:
        gml = folder / "egib.gml"
        counts = egib_gml(gml, area, user=surveyor, case_sign=case.sign)
        if counts is None:
            contents["notes"].append(
                _("The registry extract (egib.gml) cannot be limited to the area yet: left out.")
            )
        else:
            files["egib.gml"] = gml
            contents["files"]["egib.gml"] = {k: v for k, v in counts.items() if v}
    progress(40)

    if "warstwy" in chosen:
        gpkg = folder / "warstwy.gpkg"
        layer_counts, why = layers_gpkg(gpkg, area)
        if layer_counts is None:
            contents["notes"].append(why)
        else:
            files["warstwy.gpkg"] = gpkg
            contents["files"]["warstwy.gpkg"] = layer_counts
    progress(60)

    if "mapa" in chosen:
        pdf, why, scale = map_pdf(area, title=title, work_area_geom=case.location)
        if pdf is None:
            contents["notes"].append(why)
        else:
            (folder / "mapa.pdf").write_bytes(pdf)
            files["mapa.pdf"] = folder / "mapa.pdf"
            contents["files"]["mapa.pdf"] = {"scale": scale}
    progress(80)

    (folder / "dzialki.csv").write_bytes(parcels_csv(parcels))
    files["dzialki.csv"] = folder / "dzialki.csv"
    contents["files"]["dzialki.csv"] = {"parcels": len(parcels)}
    if "punkty" in chosen:
        data, n_points = points_csv(parcels)
        (folder / "punkty.csv").write_bytes(data)
        files["punkty.csv"] = folder / "punkty.csv"
        contents["files"]["punkty.csv"] = {"points": n_points}
    progress(90)

    out = folder / (case.sign.replace("/", "_") + ".asice")
    asic_write(out, files, case.office)
    for name, path in files.items():
        contents["files"][name]["size"] = path.stat().st_size
    return out, contents
