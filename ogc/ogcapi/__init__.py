"""OGC API – Features through pygeoapi, on our own provider (the feature query engine and filter compiler shared with WFS)."""
