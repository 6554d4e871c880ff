"""How we reach the node (ARCHITECTURE §5.4): SOAP over HTTPS to the node's fixed endpoints (configuration,
never a URL from a request: `services.logingov.config`). The local fake node (`fake_node.py`,
`python -m services.logingov.adapters.fake_node --port 8097`) speaks the same profile for tests and the demo."""

from __future__ import annotations

import requests
from django.conf import settings

MAX_ANSWER = 1024 * 1024


class NodeUnavailable(Exception):
    """The node did not answer, or answered with something that is not a SOAP message."""


def soap_post(url: str, envelope: bytes) -> bytes:
    """POST a SOAP 1.1 envelope to the node; the answer's bytes (at most 1 MiB; no redirects followed)."""
    try:
        with requests.post(
            url,
            data=envelope,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            timeout=(3, settings.GISPORTAL_LOGINGOV_TIMEOUT),
            allow_redirects=False,
            stream=True,
        ) as answer:
            body = answer.raw.read(MAX_ANSWER + 1, decode_content=True)
            if answer.status_code not in (200, 500) or len(body) > MAX_ANSWER:  # SOAP faults come with 500
                raise NodeUnavailable(f"HTTP {answer.status_code}, {len(body)} bytes")
            return body
    except requests.RequestException as e:
        raise NodeUnavailable(type(e).__name__) from e
