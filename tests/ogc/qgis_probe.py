"""QGIS as a client of the live server, run by tests/ogc/test_qgis.py with Debian's /usr/bin/python3
(the venv's Python cannot import Debian's qgis) and QT_QPA_PLATFORM=offscreen.

Usage: qgis_probe.py RESULT.json < SPEC.json. Reads a JSON spec on stdin: {"layers": [{"key", "provider", "uri", "id_field"?, "id"?, "iterate"?, "render"?}]}
where render = {"extent": [xmin, ymin, xmax, ymax], "crs": "EPSG:2180", "width", "height", "out": "file.png"}.
Writes one JSON object to RESULT.json (QGIS may print to stdout): {"qgis": version, "layers": {key: {...}}}, per layer: valid, error, crs,
provider_count (the provider's own count: hits for WFS), iterated (features actually read), extent (in the
layer's CRS, x = easting/longitude as QGIS holds it), vertex (first vertex of the feature whose id_field
equals id) and, for a rendered layer, the written image's path. Coordinates are as QGIS interprets them.
"""

from __future__ import annotations

import json
import os
import sys


def first_vertex(geometry) -> list[float] | None:
    if geometry is None or geometry.isEmpty():
        return None
    point = next(iter(geometry.vertices()))
    return [point.x(), point.y()]


def probe_vector(layer, spec: dict) -> dict:
    from qgis.core import QgsFeatureRequest

    out: dict = {"provider_count": layer.featureCount()}
    if spec.get("iterate", True):
        out["iterated"] = sum(1 for _ in layer.getFeatures(QgsFeatureRequest().setNoAttributes()))
    if spec.get("id_field"):
        field, value = spec["id_field"], str(spec["id"]).replace("'", "''")
        request = QgsFeatureRequest().setFilterExpression(f"\"{field}\" = '{value}'")
        matched = list(layer.getFeatures(request))
        found = [first_vertex(f.geometry()) for f in matched]
        out["vertex"] = found[0] if len(found) == 1 else None
        out["matches"] = len(found)
        out["fields"] = [f.name() for f in layer.fields()]
        if len(matched) == 1:  # the matched feature's attributes, as text (NULL: None)
            attrs = matched[0].attributes()
            out["attributes"] = {
                name: (None if value is None or str(value) == "NULL" else str(value))
                for name, value in zip(out["fields"], attrs, strict=True)
            }
    extent = layer.extent()
    out["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
    return out


def render(layer, spec: dict) -> dict:
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsRectangle,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(spec["crs"]))
    settings.setExtent(QgsRectangle(*spec["extent"]))
    settings.setOutputSize(QSize(spec["width"], spec["height"]))
    settings.setBackgroundColor(QColor(255, 255, 255, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    errors = [e.message for e in job.errors()]
    image.save(spec["out"], "PNG")
    return {"image": spec["out"], "size": [image.width(), image.height()], "render_errors": errors}


def main() -> int:
    spec = json.load(sys.stdin)
    from qgis.core import Qgis, QgsApplication, QgsRasterLayer, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    result: dict = {"qgis": Qgis.QGIS_VERSION, "layers": {}}
    try:
        for item in spec["layers"]:
            raster = item["provider"] == "wms"
            cls = QgsRasterLayer if raster else QgsVectorLayer
            layer = cls(item["uri"], item["key"], item["provider"])
            out: dict = {
                "valid": layer.isValid(),
                "error": layer.error().summary() if not layer.isValid() else "",
            }
            if layer.isValid():
                out["crs"] = layer.crs().authid()
                if raster:
                    extent = layer.extent()
                    out["extent"] = [
                        extent.xMinimum(),
                        extent.yMinimum(),
                        extent.xMaximum(),
                        extent.yMaximum(),
                    ]
                    if item.get("render"):
                        out.update(render(layer, item["render"]))
                else:
                    out.update(probe_vector(layer, item))
            result["layers"][item["key"]] = out
    finally:
        with open(sys.argv[1], "w", encoding="utf-8") as fh:
            json.dump(result, fh)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # QGIS 3.22 may crash while tearing down (exitQgis or interpreter exit) after many features were read:
    # the report is written, so leave without the teardown
    os._exit(code)
