"""Filters (FES 2.0 / Filter 1.1 now, CQL2 for OGC API next) → pygeofilter AST → Django Q over a per-layer allow-list."""
