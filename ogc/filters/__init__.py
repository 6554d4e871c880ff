"""Filters → pygeofilter AST → Django Q over a per-layer allow-list: FES 2.0 / Filter 1.1 XML (fes_xml.py) and CQL2
text (cql2.py) are parsed into the AST that compile.py turns into a Q."""
