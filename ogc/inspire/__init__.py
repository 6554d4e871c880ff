"""INSPIRE harmonised data (issue 28): the registry models mapped, one module per theme, to the INSPIRE
application schemas (Cadastral Parcels 4.0, Addresses 4.0, Buildings 4.0), served beside our own schema by
the WFS (and the OGC API); `base.py` holds what the themes share."""
