"""A surveyor's results at a county's scale (issue 26): the dry-run check and the import on acceptance,
against ogr2ogr of the same GML file, in the same round.

Usage: .venv/bin/python bench/surveys_results.py [ROUNDS] [PARCELS ...]   (defaults 5, 100000 20000)

For each size, a database with PARCELS demo parcels (`gisportal demo-data --seed 1`; named
`gisportal_bench_surveys`, with `_<PARCELS>` appended for sizes other than 100 000; reused when an
earlier run of this script made it with that many parcels: the rounds' changes stay in it), then
ROUNDS rounds, each in a fresh Python process (its peak RSS is that round's):
1. a work area at random in one cadastral unit: a square around a random parcel, grown until it
   touches 10–30 current parcels, 200 m inside the county, touching one cadastral unit only;
2. the work-notification case (`zgloszenie-prac`) filed through the form by a bench surveyor, with
   that area;
3. the results GML: `export_egib(area=...)` of the area (units, precincts, JRG and parcels kept, as
   tests/surveys/test_results.py does), one parcel wholly inside the area cut in two (its west part
   keeps its identifiers: changed in geometry and area; the east part a new parcel split off) and
   another parcel left out (retired);
4. handed in (`results_submit`, the diff at once), then timed: `results_check` (the dry run: the
   export of the touched units merged with the file and imported with dry_run) and, after
   `results_accept`, `results_apply` (the same, for real, in one transaction); a CHECKPOINT
   before each;
5. the peer: `ogr2ogr -f PostgreSQL` (GDAL GML driver, COPY) of the same results file into an empty
   PostGIS database, the raw load of that file: a lower bound of any import of it.
Prints a Markdown table per size (per round and median) and the growth between the sizes; where the
check's and the apply's time goes (in-process timers around the steps of services/surveys/results.py)
is printed as a second table. Databases larger than 1 GB are dropped at the end.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
OUT = ROOT / "bench" / "out" / "surveys"
PEER_DB = "gisportal_bench_surveys_ogr"
MARK = "gisportal bench surveys parcels={n}"  # the database's comment: made by this script with n parcels
PHASES = ("results_diff", "_scope", "export_egib", "_write_merged", "_complete", "registry_import")


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qtA", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def db_name(n: int) -> str:
    return "gisportal_bench_surveys" if n == 100_000 else f"gisportal_bench_surveys_{n}"


def base_env(db: str) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=f"postgis://postgres@127.0.0.1:5432/{db}",
        GISPORTAL_SEAL_GENERATE="1",
        GISPORTAL_SEAL_DIR=str(OUT / "seals"),
        GISPORTAL_MEDIA_ROOT=str(OUT / "media"),
        GISPORTAL_IMPORT_DIR=str(OUT / "imports"),
        CELERY_BROKER_URL="redis://127.0.0.1:6379/7",
        CELERY_RESULT_BACKEND="redis://127.0.0.1:6379/8",
    )


def demo_database(n: int) -> dict:
    """The bench database of n parcels, made as bench/harness.py does; reused when this script made it."""
    db = db_name(n)
    env = base_env(db)
    comment = psql(f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{db}'")
    if comment == MARK.format(n=n):
        subprocess.run([str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env)
        return env
    psql(f"DROP DATABASE IF EXISTS {db}")
    psql(f"CREATE DATABASE {db}")
    psql("CREATE EXTENSION IF NOT EXISTS postgis", db)
    subprocess.run([str(VENV / "gisportal"), "migrate", "-v", "0"], check=True, env=env)
    t0 = time.monotonic()
    subprocess.run(
        [str(VENV / "gisportal"), "demo-data", "--parcels", str(n), "--seed", "1", "-v", "0"],
        check=True,
        env=env,
    )
    say(f"{db}: demo data of {n} parcels in {time.monotonic() - t0:.0f} s")
    psql(f"COMMENT ON DATABASE {db} IS '{MARK.format(n=n)}'")
    return env


def say(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ one round (child)
def child(seed: int, gml_path: Path) -> dict:
    """One round in this process (Django set up here): area, case, GML, hand-in, check, accept, apply."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
    import django

    django.setup()
    import random
    import resource
    import uuid
    from datetime import date, timedelta

    import shapely
    from django.contrib.gis.geos import Polygon
    from django.db import connection
    from django.test import Client
    from lxml import etree

    from gisportal.core.models import User
    from layers.exporting.egib import export_egib
    from layers.models import AdministrativeUnit, CadastralUnit, Parcel
    from services.cases.models import Case
    from services.forms.models import ServiceDefinition, Submission
    from services.offices.actions import staff_add
    from services.offices.models import Office, OfficeUnit
    from services.surveys import results as results_mod

    rng = random.Random(seed)
    results_mod._enqueue_check = lambda pk: None  # the Celery jobs are called below, in this process
    results_mod._enqueue_apply = lambda pk: None
    timers: dict[str, float] = {}
    seen: dict = {}  # the merged file of the check, kept (hard link) for the second peer
    merged_copy = gml_path.with_name(gml_path.stem + "-merged.gml")
    merged_copy.unlink(missing_ok=True)
    for name in PHASES:
        real = getattr(results_mod, name)

        def timed(*args, _real=real, _name=name, **kwargs):
            if _name == "registry_import" and "merged_mb" not in seen:
                os.link(args[0], merged_copy)
                seen["merged_mb"] = merged_copy.stat().st_size / 1024**2
            t = time.perf_counter()
            try:
                out = _real(*args, **kwargs)
                if _name == "export_egib" and kwargs.get("area") is None:
                    seen["whole_register"] = True  # the merge could not be limited to the work's units
                if _name == "export_egib" and "exported" not in seen:
                    seen["exported"] = sum(v for k, v in out.items() if not k.startswith("skipped"))
                return out
            finally:
                timers[_name] = timers.get(_name, 0.0) + time.perf_counter() - t

        setattr(results_mod, name, timed)

    # 1. the work area
    county = AdministrativeUnit.objects.get(teryt="1418").geom
    pks = sorted(Parcel.objects.current().values_list("pk", flat=True))
    chosen = None
    for _attempt in range(500):
        p = Parcel.objects.current().get(pk=rng.choice(pks))
        c = p.geom.centroid
        for h in (20, 30, 45, 65, 90, 125, 175, 250, 350, 500):
            square = Polygon.from_bbox((c.x - h, c.y - h, c.x + h, c.y + h))
            square.srid = 2180
            touching = Parcel.objects.current().filter(geom__intersects=square).count()
            if touching < 10:
                continue
            if touching > 30 or not county.contains(square.buffer(200)):
                break
            units = list(
                CadastralUnit.objects.current()
                .filter(geom__intersects=square.buffer(2))
                .values_list("unit_id", flat=True)
            )
            if len(units) != 1:
                break
            inside = []
            for q in (
                Parcel.objects.current()
                .filter(geom__coveredby=square, buildings__isnull=True)
                .order_by("parcel_id")
            ):
                shape = shapely.from_wkb(bytes(q.geom.wkb))
                if len(shape.geoms) == 1 and not shape.geoms[0].interiors and shape.area >= 300:
                    inside.append((q, shape.geoms[0]))
            if len(inside) >= 2:
                chosen = (square, units[0], touching, inside)
            break
        if chosen:
            break
    if chosen is None:
        raise SystemExit("no work area found")
    square, unit, touching, inside = chosen
    split, split_shape = max(inside, key=lambda t: t[1].area)
    retired = rng.choice([q for q, _s in inside if q.pk != split.pk])
    unit_parcels = Parcel.objects.current().filter(parcel_id__startswith=unit + ".").count()

    # 2. the case, filed through the form as a surveyor does
    surveyor = User.objects.filter(username="bench.geodeta").first() or User.objects.create_user(
        username="bench.geodeta",
        email="bench.geodeta@example.pl",
        password="x-Secret-2026!",  # noqa: S106 - a bench account
        role="surveyor",
        first_name="Ewa",
        last_name="Mierniczy",
        licence_no="12345",
    )
    clerk = User.objects.filter(username="bench.urzednik").first() or User.objects.create_user(
        username="bench.urzednik",
        email="bench.urzednik@example.pl",
        password="x-Secret-2026!",  # noqa: S106 - a bench account
        role="clerk",
    )
    county_office = Office.objects.get(code="sp-piaseczno")  # the clerk who accepts: the county's GK
    staff_add(clerk, county_office, OfficeUnit.objects.get(office=county_office, code="GK"))
    service = ServiceDefinition.objects.get(code="zgloszenie-prac", active=True)
    client = Client()
    key = str(uuid.uuid4())
    client.force_login(surveyor)
    r = client.post(
        "/uslugi/zgloszenie-prac/",
        {
            "version": service.version,
            "idempotency_key": key,
            "action": "submit",
            "applicant_name": "Ewa Mierniczy",
            "email": "bench.geodeta@example.pl",
            "postal_code": "05-500",
            "locality": "Piaseczno",
            "licence_no": surveyor.licence_no,
            "purpose": "podzial",
            "materials": ["egib"],
            "end_date": (date.today() + timedelta(days=90)).isoformat(),
            "work_area": square.wkt,
        },
    )
    if r.status_code != 302:
        errors = re.findall(r'id="id_(\w+)_error">(.*?)</p>', r.content.decode(), re.S)
        raise SystemExit(f"filing the case failed: {r.status_code} {errors}")
    case = Case.objects.get(submission=Submission.objects.get(user=surveyor, idempotency_key=key))

    # 3. the results GML: the area's export, one parcel cut in two, another one left out
    export_egib(gml_path, only_current=True, personal_data=False, area=square)
    egb, gml_ns = "{ewidencjaGruntowIBudynkow:1.0}", "{http://www.opengis.net/gml/3.2}"
    tree = etree.parse(str(gml_path))
    root = tree.getroot()
    target = None
    for member in list(root):
        feature = member[0]
        tag = etree.QName(feature).localname
        if tag == "EGB_DzialkaEwidencyjna":
            pid = feature.findtext(f"{egb}idDzialki")
            if pid == split.parcel_id:
                target = member
            elif pid == retired.parcel_id:
                root.remove(member)
        elif tag not in (
            "EGB_JednostkaEwidencyjna",
            "EGB_ObrebEwidencyjny",
            "EGB_JednostkaRejestrowaGruntow",
        ):
            root.remove(member)
    assert target is not None, split.parcel_id
    x0, y0, x1, y1 = split_shape.bounds
    mid = (x0 + x1) / 2
    halves = [
        shapely.geometry.box(x0 - 1, y0 - 1, mid, y1 + 1).intersection(split_shape),
        shapely.geometry.box(mid, y0 - 1, x1 + 1, y1 + 1).intersection(split_shape),
    ]
    halves = [h if h.geom_type == "Polygon" else max(h.geoms, key=lambda g: g.area) for h in halves]
    prefix, number = split.parcel_id.rsplit(".", 1)
    stamp = f"2026-12-07T{10 + seed % 10:02d}:{seed % 60:02d}:00"
    for i, half in enumerate(halves):
        member = target if i == 0 else etree.fromstring(etree.tostring(target))
        feature = member[0]
        ident = f"{egb}idIIP/{egb}EGB_IdentyfikatorIIP/"
        if i:
            feature.find(ident + f"{egb}lokalnyId").text = f"{split.local_id}-bench{seed}"
            feature.find(f"{egb}idDzialki").text = f"{prefix}.{number.split('/')[0]}/9{seed % 100:02d}"
            feature.find(f"{egb}startObiekt").text = stamp
        feature.find(ident + f"{egb}wersjaId").text = stamp
        feature.find(f"{egb}startWersjaObiekt").text = stamp
        fid = f"PL.PZGiK.bench{seed}.{i}"
        feature.set(f"{gml_ns}id", fid)
        feature.find(f"{egb}poleEwidencyjne").text = f"{half.area / 10000:.4f}"
        for use in feature.findall(f"{egb}klasouzytek"):
            feature.remove(use)
        geometria = feature.find(f"{egb}geometria")
        for g in list(geometria):
            geometria.remove(g)
        pos = " ".join(f"{y:.2f} {x:.2f}" for x, y in half.exterior.coords)  # northing first
        geometria.append(
            etree.fromstring(
                f'<gml:Polygon xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="{fid}.g" '
                f'srsName="urn:ogc:def:crs:EPSG::2180"><gml:exterior><gml:LinearRing><gml:posList>'
                f"{pos}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
            )
        )
        if i:
            root.append(member)
    features = len(root)
    tree.write(str(gml_path), xml_declaration=True, encoding="UTF-8")

    # 4. handed in, checked, accepted, applied
    def checkpoint() -> None:
        with connection.cursor() as cur:
            cur.execute("CHECKPOINT")

    t = time.perf_counter()
    with open(gml_path, "rb") as f:
        res = results_mod.results_submit(case, user=surveyor, gml=f)
    submit_s = time.perf_counter() - t
    timers.clear()
    checkpoint()
    t = time.perf_counter()
    status = results_mod.results_check(res.pk)
    check_s = time.perf_counter() - t
    check_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    check_phases = dict(timers)
    res.refresh_from_db()
    if status != "checked":
        raise SystemExit(f"check: {status} {json.dumps(res.report, ensure_ascii=False)[:3000]}")
    pipeline = res.report["pipeline"]
    expected = {"new": {"parcel": 1}, "changed": {"parcel": 1}, "retired": {"parcel": 1}}
    if res.report["counts"] != expected or pipeline["rejected"]:
        raise SystemExit(
            f"check: unexpected {res.report['counts']} {pipeline['rejected']} {pipeline['problems'][:5]}"
        )
    results_mod.results_accept(res.pk, case=case, actor=clerk)
    timers.clear()
    checkpoint()
    t = time.perf_counter()
    status = results_mod.results_apply(res.pk)
    apply_s = time.perf_counter() - t
    apply_phases = dict(timers)
    if status != "accepted":
        res.refresh_from_db()
        raise SystemExit(f"apply: {status} {res.report.get('apply_error')}")
    assert not Parcel.objects.current().filter(parcel_id=retired.parcel_id).exists()
    assert Parcel.objects.current().filter(local_id=f"{split.local_id}-bench{seed}").exists()
    return {
        "unit": unit,
        "area_ha": square.area / 10000,
        "touching": touching,
        "features": features,
        "unit_parcels": unit_parcels,
        "exported": seen["exported"],
        "merged_mb": seen["merged_mb"],
        "merged": str(merged_copy),
        "whole_register": seen.get("whole_register", False),
        "submit_s": submit_s,
        "check_s": check_s,
        "apply_s": apply_s,
        "check_rss": check_rss,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "check_phases": check_phases,
        "apply_phases": apply_phases,
    }


# ------------------------------------------------------------------------------------------ the rounds (parent)
def peer(gml: Path) -> tuple[float, int]:
    """ogr2ogr of the file into an empty PostGIS database: wall time and peak RSS (MB)."""
    for f in gml.parent.glob("*.gfs"):
        f.unlink()
    psql(f"DROP DATABASE IF EXISTS {PEER_DB}")
    psql(f"CREATE DATABASE {PEER_DB}")
    psql("CREATE EXTENSION IF NOT EXISTS postgis", PEER_DB)
    psql("CHECKPOINT")
    cmd = [
        "ogr2ogr",
        "-f",
        "PostgreSQL",
        f"PG:host=127.0.0.1 user=postgres dbname={PEER_DB}",
        str(gml),
        "-lco",
        "SPATIAL_INDEX=GIST",
        "--config",
        "PG_USE_COPY",
        "YES",
        "-gt",
        "65536",
    ]
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"ogr2ogr failed:\n{r.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) // 1024
    psql(f"DROP DATABASE IF EXISTS {PEER_DB}")
    return wall, rss


def run_size(n: int, rounds: int) -> list[dict]:
    env = demo_database(n)
    rows = []
    for i in range(1, rounds + 1):
        gml = OUT / f"results-{n}-{i}.gml"
        seed = int(time.time()) % 100_000 * 10 + i  # a new area each run (the earlier runs' changes stay)
        r = subprocess.run(
            [str(VENV / "python"), __file__, "--round", str(seed), str(gml)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            sys.exit(f"round {i} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
        row = json.loads(r.stdout.strip().splitlines()[-1])
        row["ogr_s"], row["ogr_rss"] = peer(gml)
        merged = Path(row.pop("merged"))
        row["ogr_merged_s"], _rss = peer(merged)  # context: the raw load of the file our import reads
        merged.unlink()
        say(n, i, json.dumps(row))
        rows.append(row)
    return rows


def medians(rows: list[dict]) -> dict:
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    out: dict = {k: statistics.median(r[k] for r in rows) for k in keys}
    for step in ("check", "apply"):
        out[step + "_phases"] = {
            p: statistics.median(r[step + "_phases"].get(p, 0.0) for r in rows) for p in PHASES
        }
    return out


def table(n: int, rows: list[dict]) -> None:
    print(f"\n{n:,} parcels".replace(",", " ") + f", database `{db_name(n)}`")
    print(
        "| round | unit (its current parcels) | area ha / parcels touched | GML features | hand-in s | check s "
        "| apply s | ogr2ogr s | check / ogr2ogr | apply / ogr2ogr | peak RSS after check / round / ogr2ogr MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, r in enumerate(rows, 1):
        whole = " ¹" if r["whole_register"] else ""
        print(
            f"| {i} | {r['unit']} ({r['unit_parcels']}){whole} | {r['area_ha']:.1f} / {r['touching']} "
            f"| {r['features']} | {r['submit_s']:.2f} | {r['check_s']:.1f} | {r['apply_s']:.1f} | {r['ogr_s']:.2f} "
            f"| {r['check_s'] / r['ogr_s']:.0f}× | {r['apply_s'] / r['ogr_s']:.0f}× "
            f"| {r['check_rss']} / {r['rss']} / {r['ogr_rss']} |"
        )
    m = medians(rows)
    print(
        f"| median | ({m['unit_parcels']:.0f}) | {m['area_ha']:.1f} / {m['touching']:.0f} | {m['features']:.0f} "
        f"| {m['submit_s']:.2f} | {m['check_s']:.1f} | {m['apply_s']:.1f} | {m['ogr_s']:.2f} "
        f"| {m['check_s'] / m['ogr_s']:.0f}× | {m['apply_s'] / m['ogr_s']:.0f}× "
        f"| {m['check_rss']:.0f} / {m['rss']:.0f} / {m['ogr_rss']:.0f} |"
    )
    if any(r["whole_register"] for r in rows):
        print("¹ the merge could not be limited to the work's unit: the whole register was exported")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--round":
        print(json.dumps(child(int(sys.argv[2]), Path(sys.argv[3]))))
        return
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sizes = [int(a) for a in sys.argv[2:]] or [100_000, 20_000]
    OUT.mkdir(parents=True, exist_ok=True)
    results = {n: run_size(n, rounds) for n in sizes}
    print(f"Command: .venv/bin/python bench/surveys_results.py {rounds} {' '.join(map(str, sizes))}")
    for n, rows in results.items():
        table(n, rows)
    print(
        "\nWhere the time goes (medians, s; in-process timers around the steps of services/surveys/results.py); "
        "the merged file is the export of the touched unit with the results in place, which the import reads"
    )
    print(
        "| parcels | step | total | results_diff | _scope | export_egib | rest of _write_merged (re-read, merge) "
        "| _complete | registry_import | merged file: features / MB | ogr2ogr of the merged file s |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for n, rows in results.items():
        m = medians(rows)
        for step in ("check", "apply"):
            ph = m[step + "_phases"]
            print(
                f"| {n} | {step} | {m[step + '_s']:.1f} | {ph['results_diff']:.2f} | {ph['_scope']:.2f} "
                f"| {ph['export_egib']:.1f} | {ph['_write_merged'] - ph['export_egib'] - ph['_complete']:.1f} "
                f"| {ph['_complete']:.2f} | {ph['registry_import']:.1f} | {m['exported']:.0f} / {m['merged_mb']:.0f} "
                f"| {m['ogr_merged_s']:.1f} |"
            )
    if len(sizes) > 1:
        a, b = sizes[0], sizes[1]
        ma, mb = medians(results[a]), medians(results[b])
        print(
            f"\nGrowth {a}/{b} (medians): parcels in the touched unit {ma['unit_parcels'] / mb['unit_parcels']:.1f}×, "
            f"check {ma['check_s'] / mb['check_s']:.1f}×, apply {ma['apply_s'] / mb['apply_s']:.1f}×, "
            f"ogr2ogr {ma['ogr_s'] / mb['ogr_s']:.1f}×, peak RSS {ma['rss'] / mb['rss']:.1f}×"
        )
    for n in sizes:
        db = db_name(n)
        size = int(psql(f"SELECT pg_database_size('{db}')"))
        if size > 1024**3:
            psql(f"DROP DATABASE {db}")
            print(f"{db}: {size / 1024**3:.1f} GB, dropped")
        else:
            print(f"{db}: {size / 1024**2:.0f} MB, kept for re-runs")


if __name__ == "__main__":
    main()
