"""Reading a large EGiB GML export in several processes.

The file is cut at `featureMember` boundaries into parts (the first, read by this process while it also
feeds PostgreSQL's COPY, a little smaller than the others). Each part after the first is read by a
child process (`python -m layers.importing.child`): it wraps its byte range in
the file's own root element, reads and validates it exactly as the main process reads the first
part, and writes the rows in COPY text form to a temporary file with a JSON summary beside it. The
main process stages its own part and, in the same COPY, the next part's rows as far as they are
written (PostgreSQL parses them while both processes still read), then the rest of the children's
rows in order, so the merge and the transaction are the same as for a file read in one piece.

Parts are used only when they can be cut safely: a file of at least `PARALLEL_MIN_BYTES`, with
no comments, CDATA sections, DOCTYPE or entity declarations anywhere (`<!` after the XML
declaration), a GML 3.2 FeatureCollection root and its closing tag at the end. Anything else is
read in one piece by the main process, which also gives the exact error for a damaged file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .base import ImportFailed, Report

PARALLEL_MIN_BYTES: int = settings.GISPORTAL_IMPORT_PARALLEL_MIN_BYTES
PROCESSES: int = settings.GISPORTAL_IMPORT_PROCESSES
FIRST_PART_SHARE: float = settings.GISPORTAL_IMPORT_FIRST_PART_SHARE  # of two parts
KIND_WINDOW = 0.1  # the first cut moves up to this share of the file to where the type of feature changes
GML_NS = b"http://www.opengis.net/gml/3.2"
_ROOT = re.compile(rb"<(?:([\w.-]+):)?FeatureCollection\b[^>]*>", re.S)
_XMLNS = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*["']([^"']*)["']""")


@dataclass(frozen=True)
class Part:
    start: int
    end: int


@dataclass(frozen=True)
class Plan:
    path: Path
    prefix: bytes  # the XML declaration and the root start tag
    footer: bytes  # the root end tag
    parts: list[Part]
    kind_boundary: bool = False  # the first cut is where the type of feature changes


def plan(path: Path, processes: int | None = None, min_bytes: int | None = None) -> Plan | None:
    """How to cut the file, or None when it is read in one piece."""
    processes = PROCESSES if processes is None else processes
    min_bytes = PARALLEL_MIN_BYTES if min_bytes is None else min_bytes
    size = path.stat().st_size
    if processes < 2 or size < max(min_bytes, 1):
        return None
    with open(path, "rb") as f:  # read in blocks, not mapped: the file's pages never count as our memory
        head = f.read(1 << 16)
        root = _ROOT.search(head)
        if root is None or head.find(b"<!", 0, root.start()) != -1:
            return None
        prefix_b = root.group(1) or b""
        namespaces = {(m.group(1) or b""): m.group(2) for m in _XMLNS.finditer(root.group(0))}
        if namespaces.get(prefix_b) != GML_NS or _contains(f, b"<!", root.end()):
            return None  # not a GML 3.2 root, or comments/CDATA/DTD somewhere: one piece
        gml_prefix = next((p for p, ns in namespaces.items() if ns == GML_NS), None)
        if gml_prefix is None:
            return None
        footer = b"</" + (prefix_b + b":" if prefix_b else b"") + b"FeatureCollection>"
        f.seek(max(0, size - (1 << 16)))
        tail_at = f.tell()
        tail = f.read()
        at = tail.rfind(footer)
        if at == -1 or tail[at + len(footer) :].strip():
            return None  # truncated or something after the root: one piece gives the exact error
        end = tail_at + at
        member = re.compile(
            rb"<" + (re.escape(gml_prefix) + b":" if gml_prefix else b"") + rb"(?:featureMember|member)[\s>]"
        )
        first = _search(f, member, root.end(), end)
        if first is None:
            return None
        cuts = [first]
        span = end - first
        # this process also feeds PostgreSQL's COPY and merges early what its part holds: a smaller part
        own = span * FIRST_PART_SHARE * 2 / processes
        boundary = False
        for i in range(1, processes):
            target = first + int(own + (span - own) * (i - 1) / (processes - 1))
            at = None
            if (
                i == 1
            ):  # where the type of feature changes, if one is near: that part's kinds can be merged early
                window = int(span * KIND_WINDOW)
                at = _kind_change(
                    f, gml_prefix, max(first + 1, target - window), min(end, target + window), target
                )
                boundary = at is not None
            if at is None:
                at = _search(f, member, max(cuts[-1] + 1, target), end)
            if at is None:
                break
            cuts.append(at)
        if len(cuts) < 2:
            return None
        parts = [Part(a, b) for a, b in zip([0, *cuts[1:]], [*cuts[1:], end], strict=True)]
        return Plan(path, head[: root.end()], footer, parts, boundary)


def _kind_change(f, gml_prefix: bytes, lo: int, hi: int, target: int) -> int | None:
    """Offset of the featureMember nearest `target` (between `lo` and `hi`) whose feature is of another
    type than the one before it, or None."""
    p = re.escape(gml_prefix) + b":" if gml_prefix else b""
    pattern = re.compile(rb"<" + p + rb"(?:featureMember|member)[\s>][^>]*?>?\s*<([\w.:-]+)")
    best, last_name, pos, overlap = None, None, lo, 4096
    while pos < hi:
        f.seek(pos)
        block = f.read(min(1 << 20, hi - pos) + overlap)
        limit = min(1 << 20, hi - pos)  # matches starting in the overlap belong to the next block
        for m in pattern.finditer(block):
            if m.start() >= limit:
                break
            name = m.group(1)
            if last_name is not None and name != last_name:
                at = pos + m.start()
                if best is None or abs(at - target) < abs(best - target):
                    best = at
            last_name = name
        pos += limit
    return best


def _contains(f, needle: bytes, start: int) -> bool:
    """Whether `needle` occurs in the file after `start` (read in blocks, a match across two blocks too).
    Looks for the needle's last byte first (memchr speed: `<` is everywhere in XML, `!` is rare)."""
    f.seek(start)
    last, k = needle[-1:], len(needle) - 1
    tail = b""
    while block := f.read(1 << 22):
        if tail and needle in tail + block[:k]:
            return True
        i = block.find(last, k)
        while i != -1:
            if block.startswith(needle, i - k):
                return True
            i = block.find(last, i + 1)
        tail = block[-k:] if k else b""
    return False


def _search(f, pattern: re.Pattern, start: int, end: int) -> int | None:
    """Offset of the first match of `pattern` at or after `start` and before `end`."""
    window = 1 << 20
    pos = start
    while pos < end:
        f.seek(pos)
        block = f.read(min(window + 64, end - pos + 64))
        m = pattern.search(block)
        if m is not None and pos + m.start() < end:
            return pos + m.start()
        if len(block) <= 64:
            return None
        pos += window
    return None


class PartSource:
    """File-like view of one part: the root start tag, the part's bytes, the root end tag."""

    def __init__(self, path: Path, part: Part, prefix: bytes, footer: bytes):
        self.f = open(path, "rb", buffering=0)
        self.f.seek(part.start)
        self.left = part.end - part.start
        self.prefix = prefix if part.start else b""  # the first part starts with the file's own
        self.footer = footer

    def read(self, n: int = -1) -> bytes:
        if self.prefix:
            prefix, self.prefix = self.prefix, b""
            return prefix
        if self.left > 0:
            block = self.f.read(min(self.left, n if n and n > 0 else 1 << 20))
            self.left -= len(block)
            if block:
                return block
            self.left = 0
        if self.footer:
            footer, self.footer = self.footer, b""
            return footer
        return b""

    def close(self) -> None:
        self.f.close()


def line_offset(path: Path, part: Part, prefix: bytes) -> int:
    """Lines of the file before the part, minus the lines the prefix adds in front of it."""
    if part.start == 0:
        return 0
    lines = 0
    with open(path, "rb") as f:
        left = part.start
        while left > 0:
            block = f.read(min(left, 1 << 24))
            if not block:
                break
            lines += block.count(b"\n")
            left -= len(block)
    return lines - prefix.count(b"\n")


@dataclass
class Child:
    process: subprocess.Popen
    rows: Path
    summary: Path
    errors: Path


def start_children(p: Plan, *, policy: str, workdir: Path, scope: dict | None = None) -> list[Child]:
    """One process per part after the first."""
    children = []
    for i, part in enumerate(p.parts[1:], start=1):
        rows, summary = workdir / f"part{i}.copy", workdir / f"part{i}.json"
        rows.touch()  # this process reads it while the child writes it (stream_rows)
        spec = {
            "path": str(p.path),
            "start": part.start,
            "end": part.end,
            "policy": policy,
            "rows": str(rows),
            "summary": str(summary),
            "prefix": p.prefix.decode("utf-8", "surrogateescape"),
            "footer": p.footer.decode(),
            "scope": scope,
        }
        with open(workdir / f"part{i}.err", "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "layers.importing.child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=_child_env(),
            )
        proc.stdin.write(json.dumps(spec).encode())
        proc.stdin.close()
        children.append(Child(proc, rows, summary, workdir / f"part{i}.err"))
    return children


def _child_env() -> dict:
    from django.utils import translation

    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "gisportal.settings"),
        GISPORTAL_IMPORT_LANGUAGE=translation.get_language() or settings.LANGUAGE_CODE,
    )
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class RowStream:
    """The rows a child writes, handed on as it writes them (PostgreSQL parses them while it still reads)."""

    def __init__(self, child: Child):
        self.child = child
        self.f = open(child.rows, "rb")

    def pump(self, write) -> bool:
        """Hand on what the child has written so far; True once it has exited and all is handed on."""
        if self.f.closed:
            return True
        exited = (
            self.child.process.poll() is not None
        )  # (before reading: what it wrote before exiting is read)
        while block := self.f.read(1 << 20):
            write(block)
        if exited:
            self.f.close()
        return exited

    def rest(self, write) -> None:
        """Hand on everything, waiting for the child to finish."""
        while not self.pump(write):
            time.sleep(0.02)

    def close(self) -> None:
        self.f.close()


def collect(child: Child, report: Report, reader) -> dict:
    """Wait for a child; merge its report into ours (add_report). Raises its ImportFailed."""
    child.process.wait()
    try:
        summary = json.loads(child.summary.read_text())
    except (OSError, ValueError):
        last = (child.errors.read_text(errors="replace").strip().splitlines() or ["?"])[-1]
        raise ImportFailed(
            _("A reading process stopped unexpectedly: %(err)s") % {"err": last[:200]}
        ) from None
    if summary.get("failed"):
        raise ImportFailed(summary["failed"])
    add_report(summary, report)
    reader.merge_part(summary["reader"])
    return summary


def add_report(summary: dict, report: Report) -> None:
    """What a child's part added to the report: counts read, rejected, repaired, and problems."""
    r = summary["report"]
    for what in ("read", "rejected", "repaired"):
        for kind, n in r[what].items():
            report.bump(what, kind, n)
    for problem in r["problems"]:
        report.problem(
            problem["severity"],
            problem["code"],
            problem["message"],
            kind=problem["kind"],
            ident=problem["id"],
            line=problem["line"],
            action=problem["action"],
        )


def cleanup(children: list[Child]) -> None:
    for c in children:
        if c.process.poll() is None:
            c.process.kill()
            c.process.wait()


def workdir_for(path: Path) -> tempfile.TemporaryDirectory:
    """Rows of the parts are about as large as the file: keep them beside it, not in a small /tmp."""
    return tempfile.TemporaryDirectory(
        prefix=".import-", dir=path.parent if os.access(path.parent, os.W_OK) else None
    )
