"""Shared fixtures. Tests run against the real PostGIS and Redis (ARCHITECTURE §8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# ../shared beside the repository (CI lays it there); GISPORTAL_SHARED_DIR overrides
SHARED_DATA = Path(os.environ.get("GISPORTAL_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"

DEMO_PARCELS = 2000
DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_data(django_db_setup, django_db_blocker):
    """A small synthetic data set loaded once into the test database (committed)."""
    from layers.demo.loader import load_demo

    with django_db_blocker.unblock():
        counts = load_demo(DEMO_PARCELS, DEMO_SEED, replace=True)
    return counts


@pytest.fixture
def make_user(db):
    from gisportal.core.models import User

    def make(username: str, role: str = "citizen", **extra):
        if role == "surveyor":
            extra.setdefault("licence_no", "99999")
        user = User.objects.create_user(username=username, email=f"{username}@example.pl", password="x-Secret-2026!", role=role, **extra)
        return user

    return make
