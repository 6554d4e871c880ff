"""The client's address behind our nginx (gisportal/core/proxy.py): X-Real-IP is taken only from a trusted
proxy; from anyone else, or with no proxy configured, a client cannot choose its own address."""

from __future__ import annotations

from django.test import RequestFactory, override_settings

from gisportal.core.proxy import TrustedProxyMiddleware


def _seen(remote: str, **headers) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    return TrustedProxyMiddleware(lambda r: r.META["REMOTE_ADDR"])(request)


def test_no_trusted_proxy_by_default():
    assert _seen("198.51.100.7", HTTP_X_REAL_IP="203.0.113.5") == "198.51.100.7"


@override_settings(GISPORTAL_TRUSTED_PROXIES=["172.30.0.10", "10.8.0.0/16"])
def test_the_address_from_a_trusted_proxy_only():
    assert _seen("172.30.0.10", HTTP_X_REAL_IP="203.0.113.5") == "203.0.113.5"
    assert _seen("10.8.4.2", HTTP_X_REAL_IP="2001:db8::1") == "2001:db8::1"
    # anyone else's header is ignored, and a header that is no address changes nothing
    assert _seen("172.30.0.11", HTTP_X_REAL_IP="203.0.113.5") == "172.30.0.11"
    assert _seen("172.30.0.10", HTTP_X_REAL_IP="203.0.113.5, 1.2.3.4") == "172.30.0.10"
    assert _seen("172.30.0.10") == "172.30.0.10"
    # X-Forwarded-For (which a client may append to) is never read
    assert _seen("172.30.0.10", HTTP_X_FORWARDED_FOR="203.0.113.9") == "172.30.0.10"
