"""gisportal import FILE: import registry data (EGiB GML, GeoPackage, Shapefile, GeoJSON), one transaction."""

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from gisportal.core.errors import GisportalError
from layers.actions import registry_import


class Command(BaseCommand):
    help = "Import registry data from EGiB GML (2021/2015), GeoPackage, Shapefile or GeoJSON: all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", default="auto", choices=["auto", "egib", "gpkg", "shp", "geojson"])
        parser.add_argument(
            "--policy",
            default="reject",
            choices=["reject", "repair", "strict"],
            help="invalid rows: reject them, repair what can be repaired, or refuse the file",
        )
        parser.add_argument(
            "--layer", help="target layer for GPKG/SHP/GeoJSON (dzialki, budynki, obreby, ...)"
        )
        parser.add_argument("--source-layer", help="layer inside a GeoPackage")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="TARGET=SOURCE",
            help="field mapping, e.g. ID_DZIALKI=idDzialki (repeatable)",
        )
        parser.add_argument("--mapping", help="JSON file with a field mapping {TARGET: SOURCE}")
        parser.add_argument("--namespace", help="przestrzenNazw for objects without an IIP identifier")
        parser.add_argument(
            "--encoding", help="character encoding of a Shapefile (default: from .cpg, else UTF-8)"
        )
        parser.add_argument("--srs", help="CRS of a file without one, e.g. EPSG:2178")
        parser.add_argument("--report", help="write the validation report as JSON to this file")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and show the report, write nothing"
        )

    def handle(self, *args, **o):
        mapping = {}
        for item in o["map"]:
            if "=" not in item:
                raise CommandError(f"--map expects TARGET=SOURCE, got {item!r}")
            k, v = item.split("=", 1)
            mapping[k.strip()] = v.strip()
        if o["mapping"]:
            try:
                with open(o["mapping"], encoding="utf-8") as f:
                    mapping.update(json.load(f))
            except (OSError, ValueError) as e:
                raise CommandError(f"cannot read the mapping file: {e}") from None
        options = {k: o[k] for k in ("layer", "source_layer", "namespace", "encoding", "srs") if o.get(k)}
        if mapping:
            options["mapping"] = mapping
        interactive = sys.stderr.isatty() and o["verbosity"] >= 1
        t0 = time.monotonic()

        def progress(state):
            if interactive:
                sys.stderr.write(
                    f"\r{state['phase']:<8} read {state['read']:>9,}  rejected {state['rejected']:>7,}"
                    f"  {time.monotonic() - t0:6.1f} s "
                )
                sys.stderr.flush()

        try:
            report = registry_import(
                o["file"],
                fmt=o["format"],
                policy=o["policy"],
                options=options,
                progress=progress,
                dry_run=o["dry_run"],
            )
        except GisportalError as e:
            if interactive:
                sys.stderr.write("\n")
            raise CommandError(e.message) from None
        if interactive:
            sys.stderr.write("\n")
        data = report.as_dict()
        if o["report"]:
            with open(o["report"], "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=2, default=str)
        if o["verbosity"] >= 1:
            self._print(data, o["dry_run"], time.monotonic() - t0)

    def _print(self, data, dry_run, seconds):
        w = self.stdout.write
        w(
            ("Próba (nic nie zapisano) / dry run" if dry_run else "Import zakończony / import done")
            + f" ({seconds:.1f} s)"
        )
        if data["source_crs"]:
            w(f"  układ źródłowy / source CRS: {data['source_crs']}")
        kinds = sorted(set(data["read"]) | set(data["written"]) | set(data["retired"]))
        w(
            f"  {'kind':<10}{'read':>9}{'written':>9}{'unchanged':>10}{'retired':>9}{'history':>9}{'rejected':>9}"
        )
        for k in kinds:
            w(
                f"  {k:<10}{data['read'].get(k, 0):>9}{data['written'].get(k, 0):>9}{data['unchanged'].get(k, 0):>10}"
                f"{data['retired'].get(k, 0):>9}{data['history'].get(k, 0):>9}{data['rejected'].get(k, 0):>9}"
            )
        for note in data["notes"]:
            w(f"  * {note}")
        problems = data["problems"]
        if problems:
            w(f"  problems: {len(problems)}{' (truncated)' if data['problems_truncated'] else ''}")
            for p in problems[:20]:
                w(
                    f"   - [{p['severity']}] {p['kind']} {p['id']} (line {p['line']}): {p['message']} → {p['action']}"
                )
            if len(problems) > 20:
                w("   ... (see --report for all)")
