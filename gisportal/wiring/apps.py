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
        from services.documents import rendering, tsa
        from services.signatures import trust

        rendering.register(MapnikRenderer())
        # the local TSA's certificates (and the qualified TSAs installed beside it) timestamp our seals:
        # the signature verifier trusts them (services may not import each other's internals)
        trust.register_source("tsa", tsa.trusted_tsa_certificates)
