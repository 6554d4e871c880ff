"""Streaming reader of EGiB GML exports, 2021 schema (`ewidencjaGruntowIBudynkow:1.0`) and 2015
schema (`urn:gugik:specyfikacje:gmlas:ewidencjaGruntowBudynkow:1.0`).

Why not GDAL's GMLAS or GML driver: GMLAS needs the application schema at hand (exports point to
`EGIB.XSD` by a relative name, and the 2015 schema is not available offline) and materialises the
document to resolve xlinks; the GML driver flattens the nested land-use classes and drops the
xlinks. Instead the document is streamed with lxml (no DTD, no entities, no network), one feature
at a time, and its geometries are read by `gml.GeometryReader` (OGR for the non-trivial GML).
Memory stays flat: each feature is dropped once read; xlinks are resolved later in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from lxml import etree

from .base import ImportFailed, Record
from .gml import GML, GeometryReader, first_child

NS_2021 = "ewidencjaGruntowIBudynkow:1.0"
NS_2015 = "urn:gugik:specyfikacje:gmlas:ewidencjaGruntowBudynkow:1.0"
NS_BT_2015 = "urn:gugik:specyfikacje:gmlas:modelPodstawowy:1.0"
EGIB_NAMESPACES = (NS_2021, NS_2015)
WARSAW = ZoneInfo("Europe/Warsaw")
BATCH = 256  # records whose geometries are built together

FEATURE_KINDS = {
    "EGB_JednostkaEwidencyjna": "unit",
    "EGB_ObrebEwidencyjny": "precinct",
    "EGB_JednostkaRejestrowaGruntow": "jrg",
    "EGB_DzialkaEwidencyjna": "parcel",
    "EGB_Budynek": "building",
    "EGB_KonturUzytkuGruntowego": "landuse",
    "EGB_KonturKlasyfikacyjny": "soil",
    "EGB_AdresNieruchomosci": "address",
    "EGB_OsobaFizyczna": "subject",
    "EGB_Instytucja": "subject",
    "EGB_Malzenstwo": "subject",
    "EGB_PodmiotGrupowy": "subject",
    "EGB_WspolnotaGruntowa": "subject",
    "EGB_UdzialWeWlasnosci": "share",
    "EGB_UdzialWeWladaniu": "share",
}
SUBJECT_KIND = {
    "EGB_OsobaFizyczna": "person",
    "EGB_Instytucja": "institution",
    "EGB_Malzenstwo": "marriage",
    "EGB_PodmiotGrupowy": "group",
    "EGB_WspolnotaGruntowa": "community",
}
_HREF_URN = re.compile(r"^urn:pzgik:id:([^:]+):([^:]+)(?::.*)?$")
_HREF_NS = re.compile(r"[^_#\s]+")
_HREF_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}T[\d-]+")


@lru_cache(maxsize=65536)  # many objects point to the same precinct or registration unit
def parse_href(href: str | None) -> tuple[str, str] | None:
    """(namespace, lokalnyId) of an xlink: `urn:pzgik:id:NS:ID[:version]` or a gml:id `NS_ID_version`."""
    href = (href or "").strip()
    if not href:
        return None
    if href.startswith("urn:"):
        m = _HREF_URN.match(href)
        return (m.group(1), m.group(2)) if m else None
    # `[#]NS_ID[_version]`: NS without `_`, `#` or spaces; the version the last `_` part, when it is a date-time
    namespace, sep, local_id = href.removeprefix("#").partition("_")
    if not sep or not local_id or "\n" in local_id or not _HREF_NS.fullmatch(namespace):
        return None
    head, sep, last = local_id.rpartition("_")
    if sep and head and _HREF_VERSION.fullmatch(last):
        local_id = head
    return namespace, local_id


@lru_cache(maxsize=8192)  # exports repeat the same few dates thousands of times
def parse_time(value: str | None) -> datetime | None:
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=WARSAW)


_LOCAL: dict = {}
_SPLIT: dict = {}  # tag -> (namespace, local name)


def _split(tag: str) -> tuple[str, str]:
    found = _SPLIT.get(tag)
    if found is None:
        qn = etree.QName(tag)
        found = _SPLIT[tag] = (qn.namespace or "", qn.localname)
    return found


def _local(el) -> str:
    tag = el.tag
    return tag[tag.rfind("}") + 1 :]


class Kids:
    """The child elements of one element, indexed once by local name."""

    __slots__ = ("by_name", "el")

    def __init__(self, el):
        self.el = el
        by_name: dict[str, list] = {}
        local = _LOCAL
        for c in el:
            tag = c.tag
            name = local.get(tag)
            if name is None:
                if not isinstance(tag, str):
                    continue  # a comment or processing instruction
                name = local[tag] = _local(c)
            found = by_name.get(name)
            if found is None:
                by_name[name] = [c]
            else:
                found.append(c)
        self.by_name = by_name

    def find(self, name: str):
        found = self.by_name.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list:
        return self.by_name.get(name, [])


def _texts(el) -> dict[str, str]:
    """Local name -> stripped text of the first child of that name, for a small element (an IIP identifier)."""
    return {name: (found[0].text or "").strip() for name, found in Kids(el).by_name.items()}


def _text(k: Kids, name: str) -> str:
    found = k.by_name.get(name)
    if not found:
        return ""
    text = found[0].text
    return text.strip() if text else ""


def _all_text(k: Kids, name: str) -> list[str]:
    return [(c.text or "").strip() for c in k.all(name) if (c.text or "").strip()]


def _refs(k: Kids, name: str) -> list[tuple[str, str]]:
    out = []
    for c in k.all(name):
        ref = parse_href(c.get("{http://www.w3.org/1999/xlink}href"))
        if ref:
            out.append(ref)
    return out


def _find(k: Kids, name: str):
    return k.find(name)


def _decimal(value: str) -> Decimal | None:
    try:
        d = Decimal(value.replace(",", "."))
    except (InvalidOperation, AttributeError):
        return None
    return d if d.is_finite() else None


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class EgibReader:
    """Iterate `Record`s of an EGiB GML file. `progress(bytes_read)` is called now and then."""

    def __init__(self, source, *, progress=None, line_offset: int = 0):
        self.source = source
        self.line_offset = (
            line_offset  # lines before the part of the file `source` holds (importing/parallel.py)
        )
        self.geometry = GeometryReader(line_offset=line_offset)
        self.progress = progress
        self.schema: str | None = None
        self.skipped: dict[str, int] = {}
        self.features_seen = 0
        self.require_features = True  # False while reading one part of a file (importing/parallel.py)
        self._feature_tags = {f"{{{ns}}}{name}" for ns in EGIB_NAMESPACES for name in FEATURE_KINDS}
        self._handlers = {kind: getattr(self, f"_{kind}") for kind in set(FEATURE_KINDS.values())}

    def __iter__(self) -> Iterator[Record]:
        members_tag = f"{{{GML}}}featureMembers"
        members = {f"{{{GML}}}featureMember", f"{{{GML}}}member", members_tag}
        features = [f"{{{ns}}}{name}" for ns in EGIB_NAMESPACES for name in FEATURE_KINDS]
        context = etree.iterparse(
            self.source,
            events=("end",),
            tag=[*features, *members],
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        checked = False
        batch: list[Record] = []  # geometries are built per batch (gml.GeometryReader.build)
        try:
            for _event, el in context:
                if not checked:
                    checked = True
                    self._check_root(el.getroottree().getroot())
                parent = el.getparent()
                tag = el.tag
                if tag in members:
                    if tag != members_tag:  # a featureMember: count what we did not read, then drop it
                        first = next((c for c in el if isinstance(c.tag, str)), None)
                        if first is not None and first.tag not in self._feature_tags:
                            key = (
                                _local(first)
                                if etree.QName(first).namespace in EGIB_NAMESPACES
                                else f"{etree.QName(first).namespace}:{_local(first)}"
                            )
                            self.skipped[key] = self.skipped.get(key, 0) + 1
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:  # memory stays flat
                        del parent[0]
                    continue
                if parent is None or parent.tag not in members:
                    continue  # an object nested inside another one (read by its owner)
                rec = self._feature(el)
                if rec is not None:
                    batch.append(rec)
                    if len(batch) >= BATCH:
                        self.geometry.build(batch)
                        yield from batch
                        batch = []
                if parent.tag == members_tag:  # (inside a featureMember, its own end clears it)
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:
                        del parent[0]
                if self.progress and self.features_seen % 1000 == 0:
                    self.progress(self.features_seen)
        except etree.XMLSyntaxError as e:
            msg = str(e)
            if "huge" in msg.lower():
                raise ImportFailed(
                    _("A text node in the file is too large (a geometry with far too many vertices?).")
                ) from None
            if e.lineno:  # libxml2's text without the position it repeats, then the line in the whole file
                msg = f"{e.msg.split(', line ')[0]} (line {e.lineno + self.line_offset})"
            raise ImportFailed(
                _("The file is not well-formed XML (truncated or damaged?): %(msg)s") % {"msg": msg[:200]}
            ) from None
        self.geometry.build(batch)
        yield from batch
        if not checked and context.root is not None:
            self._check_root(context.root)
        if self.require_features:
            self.check_schema()

    def check_schema(self) -> None:
        if self.schema is None:
            raise ImportFailed(
                _("The file holds no features of the EGiB schema (namespace %(ns)s or %(ns2)s).")
                % {"ns": NS_2021, "ns2": NS_2015}
            )

    def part_summary(self) -> dict:
        """What reading one part of a file found, for the process that reads the other parts."""
        return {
            "schema": self.schema,
            "skipped": self.skipped,
            "epsg": self.geometry.epsg,
            "srs": self.geometry.srs_text,
            "seen": self.features_seen,
        }

    def merge_part(self, part: dict) -> None:
        for key, n in part["skipped"].items():
            self.skipped[key] = self.skipped.get(key, 0) + n
        self.features_seen += part["seen"]
        self.schema = self.schema or part["schema"]
        if part["epsg"] is not None:
            self.geometry.use_crs(part["epsg"], part["srs"])

    def _check_root(self, root) -> None:
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise ImportFailed(_("The file declares a DOCTYPE; XML with DTDs or entities is refused."))
        if etree.QName(root).namespace != GML or _local(root) not in ("FeatureCollection",):
            raise ImportFailed(_("The root element is not a GML 3.2 FeatureCollection."))

    def _feature(self, el) -> Record | None:
        self.features_seen += 1
        namespace_uri, localname = _split(el.tag)
        kind = FEATURE_KINDS.get(localname)
        if namespace_uri not in EGIB_NAMESPACES or kind is None:
            key = f"{namespace_uri}:{localname}" if namespace_uri not in EGIB_NAMESPACES else localname
            self.skipped[key] = self.skipped.get(key, 0) + 1
            return None
        if self.schema is None:
            self.schema = "2021" if namespace_uri == NS_2021 else "2015"
        k = Kids(el)
        iip = k.find("idIIP")
        ident_el = first_child(iip) if iip is not None else None
        ident = _texts(ident_el) if ident_el is not None else {}
        local_id = ident.get("lokalnyId", "")
        namespace = ident.get("przestrzenNazw", "")
        rec = Record(
            kind=kind,
            local_id=local_id,
            namespace=namespace,
            version_id=ident.get("wersjaId", ""),
            start_object=parse_time(_text(k, "startObiekt")),
            start_version=parse_time(_text(k, "startWersjaObiekt")),
            end_version=parse_time(_text(k, "koniecWersjaObiekt")),
            end_object=parse_time(_text(k, "koniecObiekt")),
            line=(el.sourceline or 0) + self.line_offset,
        )
        if not local_id or not namespace:
            rec.problems.append(
                {
                    "code": "iip_missing",
                    "message": _("The object has no IIP identifier (lokalnyId, przestrzenNazw)."),
                }
            )
        self._handlers[kind](k, rec, localname)
        return rec

    def _geometry(self, el: Kids, rec: Record) -> None:
        holder = el.find("geometria")
        rec.geom = self.geometry.read_later(holder) if holder is not None else None

    # ---- per kind ------------------------------------------------------------------------
    def _unit(self, el, rec, _name):
        rec.official_id = _text(el, "idJednostkiEwid")
        rec.attrs = {"name": _text(el, "nazwaWlasna")}
        self._geometry(el, rec)

    def _precinct(self, el, rec, _name):
        rec.official_id = _text(el, "idObrebu")
        rec.attrs = {"name": _text(el, "nazwaWlasna")}
        rec.refs = {"unit": _refs(el, "lokalizacjaObrebu")}
        self._geometry(el, rec)

    def _jrg(self, el, rec, _name):
        rec.official_id = _text(el, "idJednostkiRejestrowej")
        rec.attrs = {"group": _int(_text(el, "grupaRejestrowa"))}
        rec.refs = {"precinct": _refs(el, "lokalizacjaJRG")}

    def _parcel(self, el, rec, _name):
        rec.official_id = _text(el, "idDzialki")
        area = _text(el, "poleEwidencyjne") or _text(el, "powierzchniaEwidencyjna")
        accuracy = _text(el, "dokladnoscReprezentacjiPola") or _text(
            el, "informacjaODokladnReprezentacjiPola"
        )
        uses = []
        for holder in el.all("klasouzytek"):
            inner = next((c for c in holder if isinstance(c.tag, str)), None)
            if inner is None:
                continue
            u = Kids(inner)
            uses.append(
                {
                    "ofu": _text(u, "OFU"),
                    "ozu": _text(u, "OZU"),
                    "ozk": _text(u, "OZK"),
                    "area_ha": _text(u, "powierzchnia"),
                }
            )
        rec.attrs = {
            "area_ha": area,
            "accuracy": _int(accuracy) or 1,
            "land_uses": uses,
            "kw": _all_text(el, "numerKW"),
        }
        rec.refs = {
            "jrg": _refs(el, "JRG2"),
            "precinct": _refs(el, "lokalizacjaDzialki") or _refs(el, "lokalizacjaDzialki2"),
        }
        self._geometry(el, rec)

    def _building(self, el, rec, _name):
        rec.official_id = _text(el, "idBudynku")
        rec.attrs = {
            "kst": _text(el, "rodzajWgKST"),
            "above": _int(_text(el, "liczbaKondygnacjiNadziemnych")),
            "below": _int(_text(el, "liczbaKondygnacjiPodziemnych")),
            "area_m2": _text(el, "powZabudowy"),
            "kw": _all_text(el, "numerKW"),
        }
        rec.refs = {"parcels": _refs(el, "dzialkaZabudowana")}
        self._geometry(el, rec)

    def _landuse(self, el, rec, _name):
        rec.official_id = _text(el, "idUzytku")
        rec.attrs = {"ofu": _text(el, "OFU")}
        rec.refs = {"precinct": _refs(el, "lokalizacjaUzytku")}
        self._geometry(el, rec)

    def _soil(self, el, rec, _name):
        rec.official_id = _text(el, "idKonturu")
        rec.attrs = {"ozu": _text(el, "OZU"), "ozk": _text(el, "OZK")}
        rec.refs = {"precinct": _refs(el, "lokalizacjaKonturu")}
        self._geometry(el, rec)

    def _address(self, el, rec, _name):
        rec.attrs = {
            "locality": _text(el, "nazwaMiejscowosci"),
            "simc": _text(el, "idMiejscowosci"),
            "street": _text(el, "nazwaUlicy"),
            "ulic": _text(el, "idNazwyUlicy"),
            "number": _text(el, "numerPorzadkowy"),
            "flat": _text(el, "numerLokalu"),
        }
        rec.official_id = rec.local_id
        self._geometry(el, rec)

    def _subject(self, el, rec, name):
        first, surname = _text(el, "pierwszeImie"), _text(el, "pierwszyCzlonNazwiska")
        second = _text(el, "drugiCzlonNazwiska")
        full = _text(el, "nazwaPelna") or " ".join(
            p for p in (first, surname + (f"-{second}" if second else "")) if p
        )
        rec.attrs = {
            "kind": SUBJECT_KIND[name],
            "name": full or _("(no name)"),
            "first_name": first,
            "surname": surname + (f"-{second}" if second else ""),
            "pesel": _text(el, "pesel"),
            "regon": _text(el, "regon"),
        }
        rec.official_id = rec.local_id

    def _share(self, el, rec, name):
        rec.attrs = {
            "kind": "ownership" if name == "EGB_UdzialWeWlasnosci" else "possession",
            "right": _text(el, "rodzajPrawa") or _text(el, "rodzajWladania"),
            "numerator": _int(_text(el, "licznikUlamkaOkreslajacegoWartoscUdzialu")) or 1,
            "denominator": _int(_text(el, "mianownikUlamkaOkreslajacegoWartoscUdzialu")) or 1,
        }
        rec.refs = {
            "subject": _refs(el, "podmiotUdzialuWlasnosci") or _refs(el, "podmiotUdzialuWeWladaniu"),
            "jrg": _refs(el, "przedmiotUdzialuWlasnosci") or _refs(el, "przedmiotUdzialuWladania"),
        }
        rec.official_id = rec.local_id
