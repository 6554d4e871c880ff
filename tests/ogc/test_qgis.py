"""QGIS as a client (issue 19): its WFS provider on our WFS 1.1.0 and 2.0.0, its OAPIF provider on the OGC
API and its WMS provider on WMS 1.3.0, against the live server (tests/conftest.py: live_url). QGIS runs in
Debian's /usr/bin/python3 (python3-qgis; the venv cannot import it) through tests/ogc/qgis_probe.py, headless.

Marker `qgis`; skipped with the reason when QGIS is not importable (scripts/setup.sh installs it unless
GISPORTAL_QGIS=0). GISPORTAL_QGIS_PYTHON names another interpreter with QGIS."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Transform

from .helpers import gdal_client_env, image, pixel_of, rgba
from .test_client_matrix import TO_2180, hits, layer_queryset, map_box, refs  # noqa: F401 - fixtures
from .test_wms import FILL

pytestmark = [pytest.mark.qgis, pytest.mark.django_db]

PROBE = Path(__file__).with_name("qgis_probe.py")
QGIS_PYTHON = os.environ.get("GISPORTAL_QGIS_PYTHON", "/usr/bin/python3")
PX = 256


def _env(home: Path) -> dict:
    return gdal_client_env(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(home),
        QGIS_CUSTOM_CONFIG_PATH=str(home),
        no_proxy="127.0.0.1,localhost",
        NO_PROXY="127.0.0.1,localhost",
    )


@pytest.fixture(scope="module")
def qgis_python(tmp_path_factory) -> str:
    home = tmp_path_factory.mktemp("qgis-home")
    try:
        r = subprocess.run(
            [QGIS_PYTHON, "-c", "import qgis.core"],
            capture_output=True,
            text=True,
            env=_env(home),
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"QGIS not available: {QGIS_PYTHON} cannot run ({exc})")
    if r.returncode != 0:
        pytest.skip(
            f"QGIS not installed: {QGIS_PYTHON} cannot import qgis.core (apt-get install python3-qgis "
            f"qgis-providers; scripts/setup.sh does it unless GISPORTAL_QGIS=0): {r.stderr.strip()[-200:]}"
        )
    return QGIS_PYTHON


def _wfs(live_url: str, layer: str, version: str) -> str:
    return (
        f"url='{live_url}/ows' typename='gisportal:{layer}' version='{version}' srsname='EPSG:2180' "
        f"restrictToRequestBBOX='0' pagingEnabled='true'"
    )


@pytest.fixture(scope="module")
def qgis(qgis_python, live_url, refs, tmp_path_factory, django_db_blocker) -> dict:  # noqa: F811
    """One QGIS session over every layer of the test: the probe's report by layer key (the database is
    unblocked while QGIS runs, as it is inside a django_db test)."""
    work = tmp_path_factory.mktemp("qgis")
    dz, ad = refs["dzialki"], refs["adresy"]
    box = map_box(dz)
    vector = {"id_field": dz.id_attr, "id": dz.id}
    spec = {
        "layers": [
            {"key": "wfs-1.1.0", "provider": "WFS", "uri": _wfs(live_url, "dzialki", "1.1.0"), **vector},
            {"key": "wfs-2.0.0", "provider": "WFS", "uri": _wfs(live_url, "dzialki", "2.0.0"), **vector},
            {
                "key": "wfs-2.0.0-adresy",
                "provider": "WFS",
                "uri": _wfs(live_url, "adresy", "2.0.0"),
                "id_field": ad.id_attr,
                "id": ad.id,
            },
            {
                "key": "oapif",
                "provider": "OAPIF",
                "uri": f"url='{live_url}/ogcapi' typename='dzialki'",
                **vector,
            },
            {
                "key": "wms-1.3.0",
                "provider": "wms",
                "uri": f"crs=EPSG:2180&format=image/png&layers=dzialki&styles=wypelnienie&url={live_url}/ows",
                "render": {
                    "extent": list(box),
                    "crs": "EPSG:2180",
                    "width": PX,
                    "height": PX,
                    "out": str(work / "wms.png"),
                },
            },
        ]
    }
    out = work / "result.json"
    with django_db_blocker.unblock():
        r = subprocess.run(
            [qgis_python, "-X", "faulthandler", str(PROBE), str(out)],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=_env(work),
            timeout=900,
        )
    assert r.returncode == 0 and out.exists(), (r.stdout[-2000:], r.stderr[-3000:])
    return json.loads(out.read_text())["layers"]


@pytest.fixture(scope="module")
def extents(demo_data, django_db_blocker) -> dict[str, tuple[float, ...]]:
    with django_db_blocker.unblock():
        parcels = layer_queryset("dzialki")
        return {
            "2180": parcels.aggregate(e=Extent("geom"))["e"],
            "4326": parcels.annotate(g=Transform("geom", 4326)).aggregate(e=Extent("g"))["e"],
        }


@pytest.mark.parametrize("key", ["wfs-1.1.0", "wfs-2.0.0", "oapif"])
def test_qgis_vector_layers(qgis, refs, hits, extents, key):  # noqa: F811
    """Valid layer, the provider's count and the features QGIS reads equal hits, the extent is the data's,
    and the reference parcel's first vertex is where it is (QGIS holds x = easting / longitude)."""
    layer = qgis[key]
    assert layer["valid"], layer["error"]
    n = hits("dzialki", "all")
    assert layer["provider_count"] == n
    assert layer["iterated"] == n, f"QGIS read {layer['iterated']} of {n} features"
    assert layer["matches"] == 1
    ref = refs["dzialki"]
    if key == "oapif":
        assert layer["crs"] in ("EPSG:4326", "OGC:CRS84")
        assert layer["extent"] == pytest.approx(extents["4326"], abs=2e-6)
        assert TO_2180.transform(*layer["vertex"]) == pytest.approx(ref.first, abs=0.03)
    else:
        assert layer["crs"] == "EPSG:2180"
        assert layer["extent"] == pytest.approx(extents["2180"], abs=0.01)
        assert layer["vertex"] == pytest.approx(ref.first, abs=0.006)


def test_qgis_address_point(qgis, refs, hits):  # noqa: F811
    layer = qgis["wfs-2.0.0-adresy"]
    assert layer["valid"], layer["error"]
    assert layer["provider_count"] == layer["iterated"] == hits("adresy", "all")
    assert layer["vertex"] == pytest.approx(refs["adresy"].first, abs=0.006)


def test_qgis_wms_130_renders(qgis, refs, extents):  # noqa: F811
    layer = qgis["wms-1.3.0"]
    assert layer["valid"], layer["error"]
    assert layer["crs"] == "EPSG:2180"
    # the capabilities' 2180 BoundingBox (north-first in 1.3.0) read back as E/N
    assert layer["extent"] == pytest.approx(extents["2180"], abs=1.0)
    assert layer["size"] == [PX, PX] and not layer["render_errors"]
    data = Path(layer["image"]).read_bytes()
    im = image(data)
    painted = sum(1 for x in range(0, PX, 8) for y in range(0, PX, 8) if im.get_pixel_color(x, y).a > 0)
    assert painted > 0, "blank image"
    ref = refs["dzialki"]
    assert rgba(data, *pixel_of(*ref.inner, map_box(ref), PX, PX))[:3] == FILL
