"""WFS 2.0 / 1.1 over the layer catalogue."""
