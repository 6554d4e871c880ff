"""Exports of the registry to exchange formats (EGiB GML 2021)."""
