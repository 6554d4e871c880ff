"""OGC API – Features through pygeoapi, on our own provider (the WFS query and filter code)."""
