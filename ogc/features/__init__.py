"""The feature query engine shared by WFS (ogc/wfs) and the OGC API (ogc/ogcapi): feature types over the
layer catalogue and the ORM/PostGIS queries that page them out as GML, GeoJSON or values."""
