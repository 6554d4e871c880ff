"""A reading process of a large EGiB file (`python -m layers.importing.child`, started by parallel.py).

It reads one part (the spec on stdin), checks its records with the same loop as the main process
(pipeline.read_records) and writes the rows in COPY text form to spec["rows"], its summary to
spec["summary"]. Django is set up before anything of ours that needs it is imported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    """Read one part: rows to spec["rows"], summary to spec["summary"]."""
    import django

    spec = json.loads(sys.stdin.read())
    django.setup()
    from django.utils import translation

    from .base import ImportFailed, Report
    from .egib import EgibReader
    from .load import copy_row
    from .parallel import Part, PartSource, line_offset
    from .pipeline import read_records
    from .scope import ImportScope, ScopeCheck
    from .validate import Validator

    # the parent's language, handed on in the environment (not a tunable: set by parallel._child_env)
    translation.activate(os.environ.get("GISPORTAL_IMPORT_LANGUAGE", "pl"))
    path, part = Path(spec["path"]), Part(spec["start"], spec["end"])
    prefix = spec["prefix"].encode("utf-8", "surrogateescape")
    report = Report()
    summary: dict = {}
    source = PartSource(path, part, prefix, spec["footer"].encode())
    try:
        reader = EgibReader(source, line_offset=line_offset(path, part, prefix))
        with open(spec["rows"], "w", encoding="utf-8", newline="\n") as out:
            pending: list[str] = []

            def accept(rec) -> None:
                pending.append(copy_row(rec))
                if len(pending) >= 500:
                    out.write("".join(pending))
                    pending.clear()

            scope = ImportScope.from_dict(spec.get("scope"))
            read_records(
                reader,
                report,
                Validator(report, spec["policy"]),
                {"read": 0},
                lambda *a: None,
                policy=spec["policy"],
                accept=accept,
                check_scope=ScopeCheck(scope) if scope else None,
            )
            out.write("".join(pending))
        summary = {
            "report": report.as_dict(),
            "reader": reader.part_summary(),
            "cpu_seconds": time.process_time(),
            "finished_at": time.monotonic(),
        }  # the system's monotonic clock: comparable across processes
    except ImportFailed as e:
        summary = {"failed": str(e.message)}
    finally:
        source.close()
    Path(spec["summary"]).write_text(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
