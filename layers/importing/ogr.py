"""GeoPackage, Shapefile and GeoJSON through GDAL/OGR (GeoDjango's DataSource), for any registry
layer of the catalogue, with a field mapping {our attribute: source field}.

Defaults: a source field named like our public attribute (ID_DZIALKI, POLE_EWIDENCYJNE, ...) or like
the EGiB element (idDzialki, poleEwidencyjne, ...) is taken without a mapping. Objects without an
IIP identifier get lokalnyId = UUID5(namespace, official id); without wersjaId, a digest of their
content is the version, so an unchanged row is recognised as unchanged on re-import.

The layers `mpzp` and `granice` are no IIP registry objects: their rows are read the same way (field
mapping, CRS, geometry) but carry only plain attributes, loaded by `plain.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _

from .base import ImportFailed, Record
from .gml import BOUNDS_2180, MAX_VERTICES
from .sniff import Sniffed, open_vector

# layer -> (record kind, {our attribute: (record field or attrs key, EGiB alias)})
TARGETS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "dzialki": (
        "parcel",
        {
            "ID_DZIALKI": ("official_id", "idDzialki"),
            "POLE_EWIDENCYJNE": ("area_ha", "poleEwidencyjne"),
            "GRUPA_REJESTROWA": ("group", "grupaRejestrowa"),
            "JRG": ("jrg", "idJednostkiRejestrowej"),
            "KW": ("kw", "numerKW"),
        },
    ),
    "budynki": (
        "building",
        {
            "ID_BUDYNKU": ("official_id", "idBudynku"),
            "FUNKCJA": ("kst", "rodzajWgKST"),
            "KONDYGNACJE": ("above", "liczbaKondygnacjiNadziemnych"),
            "KONDYGNACJE_PODZIEMNE": ("below", "liczbaKondygnacjiPodziemnych"),
            "POWIERZCHNIA_ZABUDOWY": ("area_m2", "powZabudowy"),
        },
    ),
    "obreby": (
        "precinct",
        {"ID_OBREBU": ("official_id", "idObrebu"), "NAZWA_OBREBU": ("name", "nazwaWlasna")},
    ),
    "jednostki_ewidencyjne": (
        "unit",
        {"ID_JEDNOSTKI": ("official_id", "idJednostkiEwid"), "NAZWA": ("name", "nazwaWlasna")},
    ),
    "uzytki": ("landuse", {"ID_UZYTKU": ("official_id", "idUzytku"), "OFU": ("ofu", "OFU")}),
    "kontury_klasyfikacyjne": (
        "soil",
        {"ID_KONTURU": ("official_id", "idKonturu"), "OZU": ("ozu", "OZU"), "OZK": ("ozk", "OZK")},
    ),
    "adresy": (
        "address",
        {
            "ID_ADRESU": ("local_id", "lokalnyId"),
            "MIEJSCOWOSC": ("locality", "nazwaMiejscowosci"),
            "SIMC": ("simc", "idMiejscowosci"),
            "ULICA": ("street", "nazwaUlicy"),
            "ULIC": ("ulic", "idNazwyUlicy"),
            "NUMER": ("number", "numerPorzadkowy"),
            "KOD_POCZTOWY": ("postcode", "kodPocztowy"),
            "TERYT_GMINY": ("teryt_gmina", "kodTERYT"),
        },
    ),
    # not IIP objects (plain.py): one zoning area per row, with its plan; one administrative unit per row
    # (aliases: the field names of the PRG shapefiles, JPT_KOD_JE / JPT_SJR_KO / JPT_NAZWA_)
    "mpzp": (
        "zoning",
        {
            "UCHWALA": ("resolution_no", "numerUchwaly"),
            "PLAN": ("plan_name", "nazwaPlanu"),
            "DATA_UCHWALY": ("resolution_date", "dataUchwaly"),
            "OZNACZENIE": ("label", "oznaczenie"),
            "SYMBOL": ("symbol", "symbolPrzeznaczenia"),
            "PRZEZNACZENIE": ("description", "przeznaczenie"),
            "TERYT_GMINY": ("teryt_gmina", "kodTERYT"),
        },
    ),
    "granice": (
        "admin",
        {
            "TERYT": ("official_id", "JPT_KOD_JE"),
            "POZIOM": ("level", "JPT_SJR_KO"),
            "NAZWA": ("name", "JPT_NAZWA_"),
        },
    ),
}
IIP_FIELDS = {
    "LOKALNY_ID": ("local_id", "lokalnyId"),
    "PRZESTRZEN_NAZW": ("namespace", "przestrzenNazw"),
    "WERSJA_ID": ("version_id", "wersjaId"),
}
INT_ATTRS = {"group", "above", "below"}
# layers without IIP identity: the fields a file must hold (else the file is refused before reading)
PLAIN_REQUIRED = {"mpzp": ("UCHWALA", "OZNACZENIE"), "granice": ("TERYT",)}
PLAIN_KINDS = {"zoning", "admin"}
# what GDAL reports for a GeoPackage layer without a CRS (srs_id 0 and -1 of the GeoPackage standard)
UNDEFINED_SRS = {"Undefined geographic SRS", "Undefined Cartesian SRS"}
# a boundary of a voivodeship from PRG may have far more vertices than any parcel
EPSG_CODE = re.compile(r"^(?:EPSG:)?\d{4,6}$", re.IGNORECASE)
MAX_VERTICES_OF = {"admin": 5_000_000}


@lru_cache(maxsize=16)
def _transformer(wkt: str):
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_wkt(wkt), 2180, always_xy=True)


class OgrReader:
    def __init__(self, path: Path, *, sniffed: Sniffed, options: dict):
        from django.contrib.gis.gdal import GDALException

        self.path = path
        self.options = options
        self.notes: list[str] = []
        layer_name = options.get("layer")
        if layer_name not in TARGETS:
            raise ImportFailed(
                _("Choose the layer the file holds (one of: %(names)s).") % {"names": ", ".join(TARGETS)}
            )
        self.kind, self.fields = TARGETS[layer_name]
        self.plain = layer_name in PLAIN_REQUIRED
        iip_fields = {} if self.plain else IIP_FIELDS
        self.namespace = options.get("namespace") or getattr(
            settings, "GISPORTAL_DEFAULT_NAMESPACE", "PL.PZGiK.1418.EGiB"
        )
        mapping = options.get("mapping") or {}
        unknown = [k for k in mapping if k.upper() not in self.fields and k.upper() not in iip_fields]
        if unknown:
            raise ImportFailed(
                _("Unknown target attribute(s) in the mapping: %(a)s") % {"a": ", ".join(unknown)[:200]}
            )
        self.mapping = {k.upper(): v for k, v in mapping.items()}
        encoding = options.get("encoding")
        if encoding:
            try:
                "".encode(encoding)
            except LookupError:
                raise ImportFailed(_("Unknown character encoding %(e)s.") % {"e": encoding[:30]}) from None
        if sniffed.fmt == "shp":
            if (
                path.suffix.lower() == ".shp"
                and not path.with_suffix(".prj").exists()
                and not path.with_suffix(".PRJ").exists()
                and not options.get("srs")
            ):
                raise ImportFailed(
                    _(
                        "The Shapefile has no .prj file; give its coordinate reference system (e.g. EPSG:2180)."
                    )
                )
            from django.contrib.gis.gdal.libgdal import lgdal

            # with an encoding given we decode ourselves; without, GDAL recodes from the .cpg (the option is
            # process-wide: reset it, or one import with --encoding would disable the .cpg for the next ones)
            lgdal.CPLSetConfigOption(b"SHAPE_ENCODING", b"" if encoding else None)
        self.ds = open_vector(sniffed, encoding=encoding or "utf-8")
        src = options.get("source_layer")
        try:
            self.layer = self.ds[src] if src else self.ds[0]
        except (IndexError, KeyError, GDALException):
            raise ImportFailed(_("The file has no layer %(l)s.") % {"l": str(src)[:60]}) from None
        srs_opt = options.get("srs")
        if srs_opt:
            from pyproj import CRS

            # an EPSG code only: a PROJ string or WKT could name grid files or URLs
            if not EPSG_CODE.fullmatch(srs_opt):
                raise ImportFailed(
                    _("Give the coordinate reference system as an EPSG code (e.g. EPSG:2180).")
                ) from None
            try:
                self.crs_wkt = CRS.from_epsg(int(srs_opt.rsplit(":", 1)[-1])).to_wkt()
            except Exception:
                raise ImportFailed(_("Unknown CRS %(c)s.") % {"c": srs_opt[:40]}) from None
            self.crs_text = srs_opt
        elif self.layer.srs is not None and self.layer.srs.name not in UNDEFINED_SRS:
            self.crs_wkt = self.layer.srs.wkt
            self.crs_text = self.layer.srs.name
        else:
            raise ImportFailed(
                _("The file declares no coordinate reference system; give it (e.g. EPSG:2180).")
            )
        names = {n.upper(): n for n in self.layer.fields}
        self.source: dict[str, str] = {}
        for target, (_attr, alias) in {**self.fields, **iip_fields}.items():
            src_name = self.mapping.get(target)
            if src_name is not None:
                if src_name.upper() not in names:
                    raise ImportFailed(
                        _("The file has no field %(f)s (mapped to %(t)s).")
                        % {"f": src_name[:60], "t": target}
                    )
                self.source[target] = names[src_name.upper()]
            elif target in names:
                self.source[target] = names[target]
            elif alias.upper() in names:
                self.source[target] = names[alias.upper()]
            elif target[:10] in names:  # dBase field names are cut to 10 characters
                self.source[target] = names[target[:10]]
        if self.plain:
            for target in PLAIN_REQUIRED[layer_name]:
                if target not in self.source:
                    raise ImportFailed(
                        _("No field holds %(t)s; map it to a field of the file (%(t)s=FIELD).")
                        % {"t": target}
                    )
            return
        id_target = next(t for t, (a, _x) in self.fields.items() if a in ("official_id", "local_id"))
        if id_target not in self.source and "LOKALNY_ID" not in self.source:
            raise ImportFailed(
                _("No field holds the identifier (%(t)s); map it to a field of the file (%(t)s=FIELD).")
                % {"t": id_target}
            )

    def __iter__(self):
        transformer = _transformer(self.crs_wkt)
        for i, feat in enumerate(self.layer):
            if self.plain:
                yield self._plain_record(feat, i + 1, transformer)
                continue
            rec = Record(kind=self.kind, local_id="", namespace=self.namespace, line=i + 1)
            attrs: dict = {}
            for target, src in self.source.items():
                value = feat.get(src)
                if isinstance(value, str):
                    value = value.strip()
                attr = (self.fields.get(target) or IIP_FIELDS[target])[0]
                if attr in ("official_id", "local_id", "namespace", "version_id"):
                    setattr(rec, attr, "" if value is None else str(value))
                elif attr == "kw":
                    attrs["kw"] = [v for v in str(value or "").replace(";", ",").split(",") if v.strip()]
                elif attr in INT_ATTRS:
                    try:
                        attrs[attr] = None if value in (None, "") else int(value)
                    except (TypeError, ValueError):
                        attrs[attr] = None
                else:
                    attrs[attr] = "" if value is None else str(value)
            rec.attrs = attrs
            if self.kind == "parcel":
                attrs.setdefault("land_uses", [])
                attrs.setdefault("kw", [])
                attrs["accuracy"] = 1
            if self.kind == "building":
                attrs.setdefault("kw", [])
            rec.geom = self._geometry(feat, i + 1, transformer)
            if self.kind == "address" and not rec.official_id:
                rec.official_id = rec.local_id
            if not rec.local_id:
                if not rec.official_id:
                    rec.problems.append({"code": "id_missing", "message": _("The object has no identifier.")})
                    rec.local_id = f"row-{i + 1}"
                else:
                    rec.local_id = str(
                        uuid.uuid5(uuid.NAMESPACE_URL, f"{rec.namespace}:{self.kind}:{rec.official_id}")
                    )
            if self.kind == "address" and not rec.official_id:
                rec.official_id = rec.local_id
            if not rec.version_id:
                digest = hashlib.sha256(json.dumps(attrs, sort_keys=True, default=str).encode())
                if rec.geom is not None:
                    digest.update(rec.geom.wkb)
                rec.version_id = "sha-" + digest.hexdigest()[:20]
            yield rec

    def _plain_record(self, feat, row: int, transformer) -> Record:
        """A row of a layer without IIP identity: its attributes as text, the names of those that came as
        numbers in `attrs["_numeric"]` (a TERYT code in a numeric field has lost its leading zero)."""
        rec = Record(kind=self.kind, local_id="", namespace="", line=row)
        numeric = []
        for target, src in self.source.items():
            value = feat.get(src)
            attr = self.fields[target][0]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and not isinstance(value, bool):
                numeric.append(attr)
            text = "" if value is None else str(value).strip()
            if attr == "official_id":
                rec.official_id = text
            else:
                rec.attrs[attr] = text
        if numeric:
            rec.attrs["_numeric"] = numeric
        rec.geom = self._geometry(feat, row, transformer)
        return rec

    def _geometry(self, feat, row: int, transformer):
        from django.contrib.gis.gdal import GDALException

        try:
            geom = feat.geom
        except GDALException:  # a feature without geometry (GeoJSON "geometry": null): the validator says so
            return None
        if geom is None:
            return None
        limit = MAX_VERTICES_OF.get(self.kind, MAX_VERTICES)
        if geom.point_count > limit:
            raise ImportFailed(
                _("A geometry has more than %(n)s vertices (feature %(i)s).") % {"n": limit, "i": row}
            )
        g = shapely.force_2d(shapely.from_wkb(bytes(geom.wkb)))
        return self._to_storage(g, transformer, row)

    def _to_storage(self, g, transformer, row: int):
        def fix(coords):
            arr = np.asarray(coords, dtype=float)
            if not np.isfinite(arr).all():
                raise ImportFailed(_("NaN or infinite coordinates in feature %(i)s.") % {"i": row})
            x, y = transformer.transform(arr[:, 0], arr[:, 1])
            out = np.round(np.column_stack([x, y]), 3)
            if (
                not np.isfinite(out).all()
                or out[:, 0].min() < BOUNDS_2180[0]
                or out[:, 1].min() < BOUNDS_2180[1]
                or out[:, 0].max() > BOUNDS_2180[2]
                or out[:, 1].max() > BOUNDS_2180[3]
            ):
                raise ImportFailed(
                    _("Coordinates outside Poland in feature %(i)s (wrong CRS?).") % {"i": row}
                )
            return out

        return shapely.transform(g, fix)
