"""The client's address behind our own reverse proxy (docker/nginx.conf).

Throttles, login lockouts and payment notifications read REMOTE_ADDR. Behind nginx that is nginx's
address, so every client would share one budget. nginx writes the client's address into X-Real-IP
(overwriting whatever the client sent); this middleware takes it only when the request comes straight
from a proxy listed in GISPORTAL_TRUSTED_PROXIES (addresses or networks). Without that setting, or from any
other peer, the header is ignored: a client cannot choose its own address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _networks() -> tuple:
    return tuple(
        ipaddress.ip_network(n.strip(), strict=False) for n in settings.GISPORTAL_TRUSTED_PROXIES if n.strip()
    )


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = _networks()

    def __call__(self, request):
        if self.networks:
            peer = _address(request.META.get("REMOTE_ADDR", ""))
            client = _address(request.META.get("HTTP_X_REAL_IP", ""))
            if peer is not None and client is not None and any(peer in n for n in self.networks):
                request.META["REMOTE_ADDR"] = str(client)
        return self.get_response(request)
