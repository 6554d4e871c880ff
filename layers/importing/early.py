"""Merging kinds of object while a large file is still being read (importing/parallel.py).

EGiB exports are grouped by type of feature: units, precincts, registration units, parcels,
buildings, contours, addresses, subjects, shares. Once the reading has moved past a type, all its
objects are staged and it can be merged into the registry while the rest of the file is read, on
the core that the reading leaves to PostgreSQL. Whether a type is really complete is known only at
the end, so these merges run under a savepoint: if a type (or one it depends on) turns up again
after it was merged, or such a merge fails, everything since the savepoint is rolled back, the
other parts' rows staged since are staged again and the whole file is merged after the reading,
exactly as a file read in one piece. The result is the same either way; only the time differs.
Rows of the next part may come while this process still reads its own: they are staged then, and
merges wait until this process's part is all staged.
"""

from __future__ import annotations

import copy
import re
from dataclasses import fields

from django.conf import settings

from .base import ImportFailed, Report
from .load import Loader, trace

ENABLED: bool = settings.GISPORTAL_IMPORT_EARLY_MERGE
# the staged rows of other kinds that merging a kind reads (they must all be staged by then)
DEPENDS_ON = {
    "precinct": {"unit"},
    "parcel": {"unit", "precinct", "jrg"},
    "building": {"unit", "precinct", "jrg", "parcel"},
    "share": {"subject", "jrg"},
}
# the first column of a COPY row: of the first row of a block, and after each line end (a row's own
# line ends are escaped; "(?:^|\n)" in one pattern would cost the regex engine its fast search, 17× slower)
_FIRST_KIND = re.compile(rb"([a-z]+)\t")
_KIND = re.compile(rb"\n([a-z]+)\t")


def closure(kinds: set[str]) -> set[str]:
    out = set(kinds)
    for kind in kinds:
        out |= DEPENDS_ON.get(kind, set())
    return out


class EarlyMerge:
    """Follows the kinds staged, in order, and merges those the reading has moved past."""

    def __init__(self, loader: Loader, report: Report, *, policy: str):
        self.loader = loader
        self.report = report
        self.policy = policy
        self.runs: list[str] = []  # kinds in the order staged, one entry per run of equal kinds
        self.open = False  # the last run may still grow
        self.merged: list[tuple[set[str], int]] = []  # (kinds, complete runs when they were merged)
        self.failed = False
        self._before: Report | None = None
        self._tail = b""
        self.first_read = False  # this process's own part is all staged: merges may start
        self.staged = [0]  # bytes staged so far from each other part, in order (the current one last)
        self._at_savepoint: list[int] = []  # `staged` when the savepoint was taken

    @property
    def active(self) -> bool:
        return self._before is not None

    def first_part_read(self, runs: list[str], *, last_complete: bool) -> None:
        """This process's part is staged: `runs` are its kinds in order; its last run is complete when
        the part was cut where the type of feature changes (or when rows of the next part came already)."""
        after, self.runs = self.runs, list(runs)
        for kind in after:  # rows of the next part staged meanwhile follow this part's
            if not self.runs or self.runs[-1] != kind:
                self.runs.append(kind)
        self.open = self.open if after else not last_complete
        self.first_read = True
        self._merge_complete()

    def feed(self, block: bytes) -> None:
        """COPY rows of another part (in any pieces): staged whole rows at a time (a merge may end the
        COPY between two blocks), and kinds the rows have moved past merged."""
        data = self._tail + block
        end = data.rfind(b"\n")
        if end < 0:
            self._tail = data
            return
        self._tail = data[end + 1 :]
        self.loader.stage_copy_block(data[: end + 1])
        self.staged[-1] += end + 1
        grew = False
        first = _FIRST_KIND.match(data)
        for m in ([first] if first else []) + list(_KIND.finditer(data, 0, end + 1)):
            kind = m.group(1).decode()
            if not self.runs or self.runs[-1] != kind:
                self.runs.append(kind)
                grew = True
        self.open = True  # more rows of the last kind may follow
        if grew and self.first_read:
            self._merge_complete()

    def _merge_complete(self) -> None:
        if not ENABLED or self.failed:
            return
        complete = len(self.runs) - (1 if self.open else 0)
        done = set().union(*(kinds for kinds, _n in self.merged)) if self.merged else set()
        ready = set(self.runs[:complete]) - done
        current = {self.runs[-1]} if self.open and self.runs else set()
        ready = {k for k in ready if not closure({k}) & current}  # what it depends on is still being staged
        if not ready:
            return
        self.loader.end_copy()
        if self._before is None:
            self.loader.savepoint()
            self._before = copy.deepcopy(self.report)
            self._at_savepoint = list(self.staged)
        self.merged.append((ready, complete))
        try:
            self.loader.analyze_staged()
            self.loader.merge(policy=self.policy, kinds=ready, final=False)
        except ImportFailed:
            self.failed = True  # merged again at the end, where the same error (if any) stops the file
        trace(f"merged early: {sorted(ready)}")

    def part_done(self) -> None:
        """A part's rows all came (its process has exited); normally they end with a whole row."""
        if self._tail:
            self.loader.stage_copy_block(self._tail)
            self.staged[-1] += len(self._tail)
            self._tail = b""
        self.staged.append(0)

    def finish(self, children, summaries: list[dict], add_report) -> None:
        """All parts are staged: keep the early merges if no merged kind (or one it depends on) came
        again after it was merged; else undo them and stage the other parts' rows again."""
        if not self.active:
            return
        self.loader.end_copy()
        wrong = any(closure(kinds) & set(self.runs[n:]) for kinds, n in self.merged)
        if not (wrong or self.failed):
            self.loader.release_savepoint()
            return
        self.loader.rollback_to_savepoint()  # the other parts' rows staged since go too
        for f in fields(Report):
            setattr(self.report, f.name, getattr(self._before, f.name))
        current = len(self._at_savepoint) - 1  # the part being staged when the savepoint was taken
        for i, (child, summary) in enumerate(zip(children, summaries, strict=True)):
            if i >= current:  # (the reports of the parts before it were in the report at the savepoint)
                add_report(summary, self.report)
            with open(child.rows, "rb") as rows:  # what was staged before the savepoint is still there
                rows.seek(self._at_savepoint[i] if i < len(self._at_savepoint) else 0)
                while block := rows.read(1 << 20):
                    self.loader.stage_copy_block(block)
        trace("early merges undone: a kind came again after it was merged")
