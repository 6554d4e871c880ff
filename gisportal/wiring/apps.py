"""Wiring between the independent parts (ARCHITECTURE §4): services may not import ogc, so what a
service needs from ogc is handed to it here, at start-up, behind the service's own interface."""

from __future__ import annotations

from django.apps import AppConfig


class WiringConfig(AppConfig):
    name = "gisportal.wiring"
    label = "wiring"
    verbose_name = "wiring"

    def ready(self) -> None:
        from ogc.render.extract import MapnikRenderer
        from services.documents import rendering

        rendering.register(MapnikRenderer())
