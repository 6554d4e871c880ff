"""The browser tests' `browser` fixture is in tests/conftest.py (one Playwright for the whole run)."""
