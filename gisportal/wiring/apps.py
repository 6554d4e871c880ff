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
        # envelopes from other offices are checked by the signature verifier
        from services.exchange import actions as exchange

        if _envelope_seal_check not in exchange.VERIFIERS:
            exchange.VERIFIERS.append(_envelope_seal_check)


def _envelope_seal_check(seal: bytes, body: bytes) -> dict:
    """The verifier's verdict on an envelope's (or a receipt's) detached seal, for services.exchange."""
    from services.signatures.verify import verify_file

    try:
        report = verify_file(seal, "envelope.p7s", detached=body, detached_name="envelope.json").as_dict()
    except Exception as e:  # a seal the verifier cannot read at all
        return {
            "ok": False,
            "indication": "TOTAL_FAILED",
            "sub_indication": getattr(e, "code", "FORMAT_FAILURE"),
        }
    first = report["signatures"][0] if report["signatures"] else {}
    return {
        "ok": report["indication"] == "TOTAL_PASSED" and len(report["signatures"]) == 1,
        "indication": report["indication"],
        "sub_indication": report["sub_indication"],
        "signer": first.get("signer", {}),
    }
