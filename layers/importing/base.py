"""Common types of the importers: the record every reader yields, the error that stops a file,
and the validation report kept with the job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gisportal.core.errors import InvalidInput

# kinds of registry object, in the order they are written (references point backwards)
KINDS = ("unit", "precinct", "jrg", "parcel", "building", "landuse", "soil", "address", "subject", "share")


class ImportFailed(InvalidInput):
    """The file cannot be imported at all; nothing is written."""

    code = "import_failed"


@dataclass(slots=True)  # hundreds of thousands per file: slots make them faster to build and read
class Record:
    """One registry object as read from a file, in storage terms (EPSG:2180, x = easting)."""

    kind: str
    local_id: str
    namespace: str
    version_id: str = ""
    start_object: datetime | None = None
    start_version: datetime | None = None
    end_version: datetime | None = None
    end_object: datetime | None = None
    official_id: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    geom: Any = None  # shapely geometry or None
    wkb: str | None = None  # hex WKB of `geom` when computed with its batch (None: compute when needed)
    valid: bool | None = None  # `geom.is_valid` when computed with its batch
    refs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> [(namespace, local_id)]
    problems: list[dict] = field(default_factory=list)
    line: int | None = None


@dataclass
class Report:
    """What happened to a file: counts per kind and the problems found, as shown to the user."""

    read: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)
    history: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_crs: str = ""
    max_problems: int = 2000

    def problem(
        self,
        severity: str,
        code: str,
        message: str,
        *,
        kind: str = "",
        ident: str = "",
        line: int | None = None,
        action: str = "",
    ) -> None:
        if len(self.problems) < self.max_problems:
            self.problems.append(
                {
                    "severity": severity,
                    "code": code,
                    "message": message,
                    "kind": kind,
                    "id": ident,
                    "line": line,
                    "action": action,
                }
            )

    def bump(self, what: str, kind: str, n: int = 1) -> None:
        counter = getattr(self, what)
        counter[kind] = counter.get(kind, 0) + n

    @property
    def total_read(self) -> int:
        return sum(self.read.values())

    @property
    def total_written(self) -> int:
        return sum(self.written.values())

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "written": self.written,
            "unchanged": self.unchanged,
            "retired": self.retired,
            "history": self.history,
            "rejected": self.rejected,
            "repaired": self.repaired,
            "problems": self.problems,
            "problems_truncated": len(self.problems) >= self.max_problems,
            "notes": self.notes,
            "source_crs": self.source_crs,
        }
