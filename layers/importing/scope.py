"""What an office may import: the layers it keeps, and only objects inside its own area.

EGiB (parcels, buildings, precincts, cadastral units, land use, soil classes, and whatever else an EGiB
GML export carries) is kept by the starosta for the county's units; `adresy` and `mpzp` by the gmina for
its own area; `granice` by the voivodeship geodesist (`catalogue.Layer.keeper`). A job is refused before
any reading when its layer is not the office's, and at the first object that lies outside the office's
area, naming that object (the import's transaction is rolled back: nothing is written).

Where an object is: the TERYT code that leads its official identifier (`141804_5.0001.12` lies in
county 1418 and gmina 141804), or its `teryt_gmina` attribute, else its geometry inside the office's
unit from the boundaries registry (`AdministrativeUnit`); without that unit the object is refused (the
boundaries must be imported first). Personal-data objects (subjects, shares) have no place of their own:
they come with an EGiB file and follow its parcels.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from ..catalogue import get_layer
from .base import ImportFailed, Record

LEVELS = ("voivodeship", "county", "gmina")
EGIB_KEEPER = "county"
UNIT_ID = re.compile(r"^(\d{6})_\d")
PLACELESS = {"subject", "share"}
TOLERANCE_M = 5.0  # an object may overhang the unit's boundary by this much (digitising differences)


@dataclass(frozen=True)
class ImportScope:
    """The part of the registries one office keeps (plain values: it travels to the reading processes)."""

    keeper: str  # voivodeship | county | gmina
    teryt: str  # the office's unit: 2, 4 or 7 digits
    office: str  # its name, for messages

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ImportScope | None:
        return cls(**{k: str(data[k]) for k in ("keeper", "teryt", "office")}) if data else None

    def require_dataset(self, fmt: str, layer_name: str | None) -> None:
        """Refuse a file of a layer this office does not keep (before anything is read)."""
        if fmt != "egib":
            self.require_layer(layer_name)
        elif self.keeper != EGIB_KEEPER:
            raise ImportFailed(
                _(
                    "%(office)s does not keep the land and building register (EGiB); "
                    "its data is imported by the starosta."
                )
                % {"office": self.office}
            )

    def require_layer(self, layer_name: str | None) -> None:
        """Refuse a layer (GeoPackage, Shapefile, GeoJSON) this office does not keep."""
        layer = get_layer(layer_name or "")
        if layer is None or layer.keeper != self.keeper:
            raise ImportFailed(
                _("%(office)s does not keep the layer %(layer)s, so it may not import it.")
                % {"office": self.office, "layer": str(layer_name or "—")[:40]}
            )


class ScopeCheck:
    """Checks each record of one file against a scope; the office's area is read once, when needed."""

    def __init__(self, scope: ImportScope):
        self.scope = scope
        self._area = None

    def __call__(self, rec: Record) -> None:
        if rec.kind in PLACELESS:
            return
        teryt = self._teryt_of(rec)
        inside = self._teryt_inside(teryt) if teryt else self._geometry_inside(rec)
        if not inside:
            ident = (
                rec.official_id
                or rec.local_id
                or " ".join(str(rec.attrs.get(k)) for k in ("resolution_no", "label") if rec.attrs.get(k))
            )
            raise ImportFailed(
                _(
                    "Object %(id)s (line %(line)s) lies outside the area kept by %(office)s; nothing was imported."
                )
                % {"id": ident[:80], "line": rec.line or "?", "office": self.scope.office}
            )

    def _teryt_of(self, rec: Record) -> str:
        if rec.kind == "admin":
            return rec.official_id
        m = UNIT_ID.match(rec.official_id or "")
        if m:
            return m.group(1)
        return str(rec.attrs.get("teryt_gmina") or "").strip()

    def _teryt_inside(self, teryt: str) -> bool:
        own = self.scope.teryt
        if (
            len(own) == 7
        ):  # a gmina: its 6-digit code (the type digit differs between its urban and rural parts)
            return teryt[:6] == own[:6]
        return teryt.startswith(own)

    def _geometry_inside(self, rec: Record) -> bool:
        if rec.geom is None:
            return False
        area = self._office_area()
        return area.covers(rec.geom)

    def _office_area(self):
        if self._area is None:
            import shapely

            from ..models import AdministrativeUnit

            unit = AdministrativeUnit.objects.filter(teryt=self.scope.teryt).only("geom").first()
            if unit is None:
                raise ImportFailed(
                    _(
                        "The boundary of %(office)s is not in the registry, so the place of the objects "
                        "cannot be checked; import the boundaries (granice) first."
                    )
                    % {"office": self.scope.office}
                )
            area = shapely.from_wkb(bytes(unit.geom.wkb)).buffer(TOLERANCE_M)
            shapely.prepare(area)
            self._area = area
        return self._area
