"""Start-up wiring between the independent parts (see apps.py)."""
