"""Vector tiles (MVT) of the catalogue layers on WebMercatorQuad, written by PostGIS (ST_AsMVT)."""
