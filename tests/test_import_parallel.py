"""A large EGiB GML export read in several processes (layers/importing/parallel.py) gives exactly what
reading it in one piece gives: the same registry content, the same report with the file's own line
numbers, the same refusals (mixed CRSs, strict policy) with nothing written."""

from __future__ import annotations

import pytest
from django.utils import translation
from lxml import etree

from layers.actions import registry_import
from layers.exporting.egib import export_egib
from layers.importing import parallel
from layers.importing.base import ImportFailed
from layers.models import Parcel

from .egib_files import document, parcel, precinct, square, write
from .test_roundtrip import CONTENT, content, empty_registry

pytestmark = pytest.mark.django_db
NS = "PL.PZGiK.9999.EGiB"


@pytest.fixture
def in_parts(monkeypatch):
    """Every EGiB file is cut into three parts; the fixture counts the child processes started."""
    started = []
    real = parallel.start_children

    def spy(*args, **kwargs):
        children = real(*args, **kwargs)
        started.extend(children)
        return children

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "PROCESSES", 3)
    monkeypatch.setattr(parallel, "start_children", spy)
    return started


def _parcels(n: int, *, bad: set[int] = frozenset(), srs_of=lambda i: "urn:ogc:def:crs:EPSG::2180") -> str:
    feats = [precinct("P1", "149999_2.0001", square(500_000, 500_000, 2_000))]
    for i in range(n):
        pid = f"149999_2.0001.{i + 1}" if i not in bad else f"149999_2.0001.{i + 1}_3"
        ring = square(500_000 + (i % 30) * 60, 500_000 + (i // 30) * 60)
        srs = srs_of(i)
        if srs.endswith("2178"):
            from pyproj import Transformer

            t = Transformer.from_crs(2180, 2178, always_xy=True)
            ring = [t.transform(e, n_) for e, n_ in ring]
        feats.append(parcel(f"L{i}", pid, ring, srs=srs))
    return document(*feats)


def test_export_read_in_parts_imports_identically(demo_data, tmp_path, in_parts):
    before = content()
    path = tmp_path / "egib.gml"
    export_egib(path)
    empty_registry()
    report = registry_import(path)
    assert len(in_parts) == 2  # the first part is read by this process
    assert report.total_rejected == 0, report.problems[:5]
    after = content()
    for name in CONTENT:
        assert after[name] == before[name], name


def test_parts_report_the_same_problems_and_lines(tmp_path, monkeypatch):
    path = write(tmp_path / "p.gml", _parcels(60, bad={7, 41, 55}))
    serial = registry_import(path, dry_run=True)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "PROCESSES", 3)
    assert parallel.plan(path) is not None
    cut = registry_import(path, dry_run=True)
    assert cut.read == serial.read == {"parcel": 60, "precinct": 1}
    assert cut.rejected == serial.rejected == {"parcel": 3}

    def key(problems):
        return sorted((p["line"], p["code"], p["id"], p["message"]) for p in problems)

    assert key(cut.problems) == key(serial.problems)
    assert all(p["line"] > 1 for p in cut.problems)
    assert Parcel.objects.filter(namespace=NS).count() == 0  # dry run


def test_plan_cuts_at_feature_members(tmp_path):
    path = write(tmp_path / "p.gml", _parcels(40))
    cut = parallel.plan(path, processes=3, min_bytes=1)
    assert cut is not None and len(cut.parts) == 3
    data = path.read_bytes()
    for part in cut.parts[1:]:
        assert data[part.start :].startswith(b"<gml:featureMember>")
    total = 0
    for part in cut.parts:
        src = parallel.PartSource(path, part, cut.prefix, cut.footer)
        try:
            root = etree.parse(src).getroot()
        finally:
            src.close()
        total += len(root.findall("{http://www.opengis.net/gml/3.2}featureMember"))
    assert total == 41
    # each part's lines map back to the file's own
    part = cut.parts[1]
    first_line = data[: part.start].count(b"\n") + 1
    src = parallel.PartSource(path, part, cut.prefix, cut.footer)
    try:
        el = etree.parse(src).getroot()[0]
    finally:
        src.close()
    assert el.sourceline + parallel.line_offset(path, part, cut.prefix) == first_line


@pytest.mark.parametrize("change", ["comment", "cdata", "doctype", "truncated", "small"])
def test_plan_reads_in_one_piece_when_a_cut_is_not_safe(tmp_path, change):
    text = _parcels(20)
    if change == "comment":
        text = text.replace(
            "</gml:FeatureCollection>", "<!-- <gml:featureMember> --></gml:FeatureCollection>"
        )
    elif change == "cdata":
        text = text.replace(
            "<egb:idDzialki>149999_2.0001.15<", "<egb:idDzialki><![CDATA[149999_2.0001.15]]><"
        )
    elif change == "doctype":
        text = text.replace("?>", "?><!DOCTYPE x [<!ENTITY a 'b'>]>", 1)
    elif change == "truncated":
        text = text[: len(text) * 2 // 3]
    path = write(tmp_path / "p.gml", text)
    assert (
        parallel.plan(path, processes=2, min_bytes=len(text.encode()) + 1 if change == "small" else 1) is None
    )


def test_mixed_crs_across_parts_is_refused(tmp_path, in_parts):
    path = write(
        tmp_path / "p.gml",
        _parcels(
            40, srs_of=lambda i: "urn:ogc:def:crs:EPSG::2178" if i >= 30 else "urn:ogc:def:crs:EPSG::2180"
        ),
    )
    with translation.override("en"), pytest.raises(ImportFailed, match="mixes coordinate reference systems"):
        registry_import(path)
    assert in_parts and Parcel.objects.filter(namespace=NS).count() == 0


def test_strict_policy_error_in_a_later_part_writes_nothing(tmp_path, in_parts):
    path = write(tmp_path / "p.gml", _parcels(40, bad={38}))
    with (
        translation.override("en"),
        pytest.raises(ImportFailed, match="policy is strict.*149999_2.0001.39_3"),
    ):
        registry_import(path, policy="strict")
    assert in_parts and Parcel.objects.filter(namespace=NS).count() == 0


def test_a_reading_process_that_dies_fails_the_import(tmp_path, in_parts, monkeypatch):
    env = parallel._child_env()
    monkeypatch.setattr(parallel, "_child_env", lambda: {**env, "DJANGO_SETTINGS_MODULE": "no.such.settings"})
    path = write(tmp_path / "p.gml", _parcels(40))
    with translation.override("en"), pytest.raises(ImportFailed, match="reading process stopped.*no"):
        registry_import(path)
    assert Parcel.objects.filter(namespace=NS).count() == 0


@pytest.fixture
def merges(monkeypatch):
    """The kinds of each merge call, and whether it was the final one."""
    from layers.importing.load import Loader

    calls = []
    real = Loader.merge

    def spy(self, *, policy, kinds=None, final=True):
        calls.append((set(kinds) if kinds else None, final))
        return real(self, policy=policy, kinds=kinds, final=final)

    monkeypatch.setattr(Loader, "merge", spy)
    return calls


def _two_precincts(*, dup_in_first: bool = False) -> str:
    """Precinct 0001 with 30 parcels, then precinct 0002 with 50: the type of feature changes at ~38 %."""
    feats = [precinct("P1", "149999_2.0001", square(500_000, 500_000, 2_000))]
    feats += [
        parcel(
            f"A{i}",
            f"149999_2.0001.{i + 1 if not (dup_in_first and i == 3) else 1}",
            square(500_000 + (i % 30) * 60, 500_000 + (i // 30) * 60),
        )
        for i in range(30)
    ]
    feats.append(precinct("P2", "149999_2.0002", square(503_000, 500_000, 2_000)))
    feats += [
        parcel(f"B{i}", f"149999_2.0002.{i + 1}", square(503_000 + (i % 30) * 60, 500_000 + (i // 30) * 60))
        for i in range(50)
    ]
    return document(*feats)


def test_plan_cuts_where_the_type_of_feature_changes(tmp_path):
    text = _two_precincts()
    path = write(tmp_path / "p.gml", text)
    cut = parallel.plan(path, processes=2, min_bytes=1)
    assert cut.kind_boundary
    data = path.read_bytes()
    before, after = data[: cut.parts[1].start], data[cut.parts[1].start :]
    assert after.startswith(b"<gml:featureMember><egb:")
    last_before = before[before.rindex(b"<gml:featureMember><egb:") :].split(b" ")[0]
    assert after.split(b" ")[0] != last_before  # the type changes here


def test_kinds_complete_in_the_first_part_are_merged_while_the_others_are_read(
    demo_data, tmp_path, in_parts, merges
):
    before = content()
    path = tmp_path / "egib.gml"
    export_egib(path)
    empty_registry()
    report = registry_import(path)
    early = [kinds for kinds, final in merges if not final]
    assert any("parcel" in kinds for kinds in early) and any("subject" in kinds for kinds in early), merges
    assert report.total_rejected == 0, report.problems[:5]
    after = content()
    for name in CONTENT:
        assert after[name] == before[name], name


def test_early_merge_is_undone_when_another_part_holds_the_same_kind(tmp_path, monkeypatch, merges):
    """Precinct, parcels, precinct, parcels: cut at the second precinct, the first part seems to hold
    all precincts and parcels; the second part holds more, so that merge is rolled back and done again."""
    path = write(tmp_path / "p.gml", _two_precincts())
    serial = registry_import(path, dry_run=True)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "PROCESSES", 2)
    report = registry_import(path)
    assert merges[-2][0] == {"precinct", "parcel"} and merges[-2][1] is False  # tried early
    assert merges[-1] == (None, True)  # then everything, after the rollback
    assert report.read == serial.read == {"precinct": 2, "parcel": 80}
    assert report.written == serial.written and report.retired == serial.retired == {}
    assert sorted(report.problems, key=str) == sorted(serial.problems, key=str)
    assert Parcel.objects.filter(namespace=NS, end_object__isnull=True).count() == 80


def test_an_error_in_the_early_merge_under_the_strict_policy_writes_nothing(tmp_path, monkeypatch, merges):
    path = write(tmp_path / "p.gml", _two_precincts(dup_in_first=True))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(parallel, "PROCESSES", 2)
    with (
        translation.override("en"),
        pytest.raises(ImportFailed, match="149999_2.0001.1 appears more than once"),
    ):
        registry_import(path, policy="strict")
    assert any(final is False for _kinds, final in merges)
    assert Parcel.objects.filter(namespace=NS).count() == 0


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"<a>x</a><!-- c -->", True),
        (b"<a>!</a><b/>", False),
        (b"<!", True),
        (b"!<", False),
        (b"x" * ((1 << 22) - 1) + b"<!", True),  # across two blocks
        (b"x" * (1 << 22) + b"<!", True),
        (b"x" * ((1 << 22) - 1) + b"!<", False),
    ],
)
def test_markup_declarations_found_anywhere(data, found):
    import io

    assert parallel._contains(io.BytesIO(b"<r>" + data), b"<!", 3) is found


class _FakeLoader:
    """What EarlyMerge asks of the loader, on a list of staged rows with one savepoint."""

    def __init__(self):
        self.rows: list[bytes] = []
        self.at_savepoint = None
        self.merged: list[set] = []

    def stage_copy_block(self, block: bytes) -> None:
        self.rows += block.splitlines(keepends=True)

    def savepoint(self) -> None:
        self.at_savepoint = len(self.rows)

    def rollback_to_savepoint(self) -> None:
        del self.rows[self.at_savepoint :]

    def release_savepoint(self) -> None:
        pass

    def end_copy(self) -> None:
        pass

    def analyze_staged(self) -> None:
        pass

    def merge(self, *, policy, kinds, final):
        self.merged.append(set(kinds))


def test_rows_of_the_next_part_staged_before_an_undone_early_merge_are_staged_once(tmp_path):
    """The next part's rows come while this process still reads its own; an early merge taken after
    some of them is undone when its kind comes again: every row ends up staged exactly once."""
    from types import SimpleNamespace

    from layers.importing.base import Report
    from layers.importing.early import EarlyMerge

    rows = [
        f"{kind}\t{i}\n".encode() for i, kind in enumerate(["parcel"] * 3 + ["landuse"] * 2 + ["parcel"] * 2)
    ]
    path = tmp_path / "part1.copy"
    path.write_bytes(b"".join(rows))
    loader = _FakeLoader()
    early = EarlyMerge(loader, Report(), policy="reject")
    loader.stage_copy_block(b"precinct\tp\n")  # this process's own part: a precinct, then parcels
    loader.stage_copy_block(b"parcel\ta\n")
    early.feed(b"".join(rows[:4]) + rows[4][:3])  # the next part's rows as written so far, a row cut in two
    assert loader.merged == []  # nothing merges before this process's part is all staged
    early.first_part_read(["precinct", "parcel"], last_complete=False)
    assert loader.merged == [{"precinct", "parcel"}]  # the parcels are complete: landuse follows them
    early.feed(rows[4][3:] + b"".join(rows[5:]))  # … and then parcels again
    early.part_done()
    summary = {"report": {"read": {}, "rejected": {}, "repaired": {}, "problems": []}}
    early.finish([SimpleNamespace(rows=path)], [summary], lambda s, r: None)
    assert sorted(loader.rows) == sorted([b"precinct\tp\n", b"parcel\ta\n", *rows])
