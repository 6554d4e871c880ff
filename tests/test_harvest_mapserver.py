"""A foreign server (issue 27): MapServer 8 (Debian's cgi-mapserver, the bench harness's peer) publishes the test
database's parcels over WFS 2.0 with its own mapfile; this hub harvests them and ends with the same parcels
(identifiers, number, area, geometry within 1 mm). MapServer runs as a CGI program behind a small gateway in the
test process, one mapserv process per request, as under any CGI web server."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import shapely
from shapely import wkb as shapely_wkb

from layers.models import HarvestedFeature, Parcel
from layers.sources import actions, harvest, harvested

pytestmark = pytest.mark.django_db
MAPSERV = "/usr/lib/cgi-bin/mapserv"


def _mapfile(path, db: dict, port: int):
    conn = " ".join(
        f"{k}={v}"
        for k, v in (
            ("host", db["HOST"] or "127.0.0.1"),
            ("port", db["PORT"] or 5432),
            ("dbname", db["NAME"]),
            ("user", db["USER"]),
            ("password", db["PASSWORD"]),
        )
        if v
    )
    data = "select p.id, p.parcel_id, p.number, p.area_ha, p.geom from layers_parcel p where p.end_object is null"
    path.write_text(f"""MAP
  NAME "peer"
  EXTENT 628000 455000 648000 476000
  UNITS METERS
  PROJECTION "init=epsg:2180" END
  WEB
    METADATA
      "wfs_title" "MapServer peer"
      "wfs_onlineresource" "http://127.0.0.1:{port}/mapserv?MAP=PEER&"
      "wfs_srs" "EPSG:2180"
      "wfs_enable_request" "*"
      "ows_enable_request" "*"
    END
  END
  LAYER
    NAME "dzialki"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{conn}"
    DATA "geom from ({data}) as t using unique id using srid=2180"
    PROJECTION "init=epsg:2180" END
    METADATA
      "wfs_title" "dzialki"
      "gml_include_items" "parcel_id,number,area_ha"
      "gml_featureid" "id"
      "gml_types" "auto"
      "wfs_enable_request" "*"
    END
  END
END
""")


@pytest.fixture(scope="module")
def mapserver(demo_data, django_db_blocker, tmp_path_factory):
    if not shutil.which(MAPSERV) and not os.path.exists(MAPSERV):
        pytest.fail("MapServer (cgi-mapserver) is not installed: `make setup` installs it")
    from django.db import connection

    with django_db_blocker.unblock():
        db = dict(connection.settings_dict)
    work = tmp_path_factory.mktemp("mapserver")
    conf = work / "mapserver.conf"

    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "MAPSERVER_CONFIG_FILE": str(conf),
                "PROJ_DATA": "/usr/share/proj",
                "REQUEST_METHOD": "GET",
                "QUERY_STRING": parts.query,
                "SCRIPT_NAME": parts.path,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": str(self.server.server_address[1]),
                "SERVER_PROTOCOL": "HTTP/1.1",
                "GATEWAY_INTERFACE": "CGI/1.1",
            }
            out = subprocess.run([MAPSERV], env=env, capture_output=True, timeout=60).stdout
            head, _sep, body = out.partition(b"\r\n\r\n")
            if not _sep:
                head, _sep, body = out.partition(b"\n\n")
            self.send_response(200)
            for line in head.decode("latin-1").splitlines():
                if ":" in line and not line.lower().startswith("status"):
                    k, v = line.split(":", 1)
                    self.send_header(k.strip(), v.strip())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.daemon_threads = True
    port = server.server_address[1]
    mapfile = work / "peer.map"
    _mapfile(mapfile, db, port)
    conf.write_text(
        f'CONFIG\n  ENV\n    PROJ_DATA "/usr/share/proj"\n  END\n  MAPS\n    PEER "{mapfile}"\n  END\nEND\n'
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/mapserv?MAP=PEER"
    server.shutdown()


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.GISPORTAL_SOURCES_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.GISPORTAL_SOURCES_TIMEOUT = 60
    settings.GISPORTAL_SOURCES_DEADLINE = 120
    settings.GISPORTAL_HARVEST_PAGE_SIZE = 800
    harvested.forget()
    yield
    harvested.forget()


def test_harvest_of_mapserver_wfs_gives_the_same_parcels(mapserver):
    source = actions.source_add(mapserver, "wfs")
    assert source.capabilities["version"] == "2.0.0"
    remote = next(x["name"] for x in source.capabilities["layers"] if x["name"].endswith("dzialki"))
    layer = harvest.layer_ensure(source.pk, remote)
    type(layer).objects.filter(pk=layer.pk).update(id_property="parcel_id")
    run = harvest.harvest_now(layer.pk)
    assert run.status == "done", (run.error, run.report)
    theirs = {p.parcel_id: p for p in Parcel.objects.current()}
    ours = {f.fid: f for f in HarvestedFeature.objects.filter(layer=layer, end_object__isnull=True)}
    assert set(ours) == set(theirs) and run.pages >= 2
    worst = 0.0
    for pid, p in theirs.items():
        f = ours[pid]
        assert str(f.properties["number"]) == p.number
        assert abs(float(f.properties["area_ha"]) - float(p.area_ha)) < 1e-9
        worst = max(
            worst,
            shapely.hausdorff_distance(
                shapely_wkb.loads(bytes(p.geom.wkb)), shapely_wkb.loads(bytes(f.geom.wkb))
            ),
        )
    assert worst < 0.001, worst
    # a second harvest: nothing changed
    again = harvest.harvest_now(layer.pk)
    assert (again.new, again.changed, again.retired, again.unchanged) == (0, 0, 0, len(theirs))
