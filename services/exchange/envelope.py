"""The envelope: JSON, made canonical (keys sorted, no spaces, UTF-8) and sealed by the sending office with
a detached CMS signature (CAdES-BES shape: SHA-256, the seal's certificate embedded) over exactly those bytes.
Pure functions over bytes and the office's seal; the receiving side checks the seal with the signature
verifier (registered at start-up: services may not import each other) and binds it to the sending office by
its NIP.

    {"v": 1, "id": "<uuid>", "kind": "case_forward|request|answer", "created": "<ISO 8601>",
     "from": {"hub", "office", "name", "nip"}, "to": {"hub", "office"}, "in_reply_to": "<uuid>|null",
     "subject": "...", "body": {...}, "files": [{"name", "content_type", "sha256", "size", "data" (base64)}]}
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from services.offices.seals import seal_for

VERSION = 1
MAX_ENVELOPE = 7 * 1024 * 1024  # the files travel inside (base64: the request stays under 10 MB)
MAX_FILES = 50


class BadEnvelope(ValueError):
    """Not an envelope of ours: malformed, too large, of another version, files that do not match."""


def canonical(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def file_entry(name: str, content_type: str, content: bytes) -> dict:
    return {
        "name": name[:200],
        "content_type": content_type[:100],
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "data": base64.b64encode(content).decode("ascii"),
    }


def seal(body: bytes, office) -> bytes:
    """A detached CMS signature over `body` with the office's seal (raises SealUnavailable without one)."""
    s = seal_for(office)
    key = serialization.load_pem_private_key(s.key_pem, password=None)
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(body)
        .add_signer(s.certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


def parse(body: bytes) -> dict[str, Any]:
    """The envelope from its canonical bytes, its shape checked (raises BadEnvelope)."""
    if len(body) > MAX_ENVELOPE:
        raise BadEnvelope("too large")
    try:
        env = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadEnvelope("not JSON") from e
    if not isinstance(env, dict) or env.get("v") != VERSION:
        raise BadEnvelope("not an envelope of version 1")
    if canonical(env) != body:
        raise BadEnvelope("not canonical")
    for key, kind in (
        ("id", str),
        ("kind", str),
        ("created", str),
        ("from", dict),
        ("to", dict),
        ("subject", str),
    ):
        if not isinstance(env.get(key), kind):
            raise BadEnvelope(f"missing {key}")
    if env["kind"] not in ("case_forward", "request", "answer"):
        raise BadEnvelope("unknown kind")
    files = env.get("files") or []
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise BadEnvelope("files")
    for f in files:
        content = file_content(f)
        if hashlib.sha256(content).hexdigest() != f.get("sha256") or len(content) != f.get("size"):
            raise BadEnvelope("a file does not match its digest")
    return env


def file_content(f: dict) -> bytes:
    try:
        return base64.b64decode(str(f.get("data", "")), validate=True)
    except (ValueError, TypeError) as e:
        raise BadEnvelope("file data") from e
