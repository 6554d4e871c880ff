"""The encrypted assertion of Węzeł Krajowy (DOMAIN.md §9): XML Encryption 1.1 with an ephemeral-static
elliptic-curve key agreement, which neither xmlsec1 1.2 (Debian 12) nor pysaml2 implements, so it is written
here once, on `cryptography`:

    EncryptedData (aes256-gcm | aes128-gcm | aes192-gcm)
      KeyInfo/EncryptedKey (kw-aes256 | kw-aes128 | kw-aes192)
        KeyInfo/AgreementMethod (xenc11#ECDH-ES)
          KeyDerivationMethod (xenc11#ConcatKDF): ConcatKDFParams AlgorithmID, PartyUInfo, PartyVInfo (hex),
                                                  DigestMethod sha256
          OriginatorKeyInfo/KeyValue/dsig11:ECKeyValue: NamedCurve urn:oid:…, PublicKey (the ephemeral point)
        CipherData: the content key wrapped (RFC 3394) under the key derived from the shared secret
      CipherData: 12-byte IV ‖ ciphertext ‖ 16-byte tag

OtherInfo for the KDF is AlgorithmID ‖ PartyUInfo ‖ PartyVInfo, each the bytes its hex spells (the node
writes them with their length prefixes; nothing is stripped). The content key's size is taken from the
unwrapped key, not from the algorithm's name (the node once sent a 128-bit key under aes256-gcm).

`encrypt` is the node's side, used by the local fake node and the tests. No database, no network."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DS = "http://www.w3.org/2000/09/xmldsig#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"
NS = {"xenc": XENC, "xenc11": XENC11, "ds": DS, "dsig11": DSIG11}

GCM = {f"{XENC11}aes128-gcm", f"{XENC11}aes192-gcm", f"{XENC11}aes256-gcm"}
KEY_WRAP = {f"{XENC}kw-aes128": 16, f"{XENC}kw-aes192": 24, f"{XENC}kw-aes256": 32}
ECDH_ES = f"{XENC11}ECDH-ES"
CONCAT_KDF = f"{XENC11}ConcatKDF"
DIGESTS = {f"{XENC}sha256": hashes.SHA256, f"{XENC}sha512": hashes.SHA512, f"{XENC11}sha384": hashes.SHA384}
CURVES = {
    "urn:oid:1.2.840.10045.3.1.7": ec.SECP256R1,
    "urn:oid:1.3.132.0.34": ec.SECP384R1,
    "urn:oid:1.3.132.0.35": ec.SECP521R1,
}
MAX_CIPHER_BYTES = 1024 * 1024


class DecryptionError(ValueError):
    """The encrypted assertion could not be decrypted: a missing part, an algorithm we do not accept, a key
    that is not ours, or data changed after it was encrypted (the GCM tag)."""


def _one(parent: etree._Element, path: str) -> etree._Element:
    found = parent.findall(path, NS)
    if len(found) != 1:
        raise DecryptionError(f"expected one {path}, found {len(found)}")
    return found[0]


def _b64(el: etree._Element, limit: int = MAX_CIPHER_BYTES) -> bytes:
    text = "".join((el.text or "").split())
    if len(text) > limit * 4 // 3 + 4:
        raise DecryptionError("cipher value too large")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise DecryptionError("cipher value is not base64") from e


def _hex(value: str | None) -> bytes:
    try:
        return bytes.fromhex(value or "")
    except ValueError as e:
        raise DecryptionError("ConcatKDF parameter is not hex") from e


def _kek(
    private_key: ec.EllipticCurvePrivateKey, agreement: etree._Element, size: int
) -> tuple[bytes, ec.EllipticCurvePublicKey]:
    """The key-encryption key: ECDH with the originator's ephemeral key, then ConcatKDF."""
    if agreement.get("Algorithm") != ECDH_ES:
        raise DecryptionError("key agreement is not ECDH-ES")
    kdm = _one(agreement, "xenc11:KeyDerivationMethod")
    if kdm.get("Algorithm") != CONCAT_KDF:
        raise DecryptionError("key derivation is not ConcatKDF")
    params = _one(kdm, "xenc11:ConcatKDFParams")
    digest = DIGESTS.get(_one(params, "ds:DigestMethod").get("Algorithm", ""))
    if digest is None:
        raise DecryptionError("ConcatKDF digest not accepted")
    ec_value = _one(agreement, "xenc:OriginatorKeyInfo/ds:KeyValue/dsig11:ECKeyValue")
    curve = CURVES.get(_one(ec_value, "dsig11:NamedCurve").get("URI", ""))
    if curve is None or not isinstance(private_key.curve, curve):
        raise DecryptionError("the originator's curve is not our key's curve")
    try:
        peer = ec.EllipticCurvePublicKey.from_encoded_point(
            curve(), _b64(_one(ec_value, "dsig11:PublicKey"), 200)
        )
    except ValueError as e:  # not a point on the curve
        raise DecryptionError("the originator's public key is not a point on the curve") from e
    shared = private_key.exchange(ec.ECDH(), peer)
    other = _hex(params.get("AlgorithmID")) + _hex(params.get("PartyUInfo")) + _hex(params.get("PartyVInfo"))
    return ConcatKDFHash(digest(), size, other).derive(shared), peer


def decrypt(encrypted_assertion: etree._Element, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """The assertion's XML bytes from a saml2:EncryptedAssertion (or its xenc:EncryptedData)."""
    data = encrypted_assertion
    if data.tag != f"{{{XENC}}}EncryptedData":
        data = _one(encrypted_assertion, "xenc:EncryptedData")
    method = _one(data, "xenc:EncryptionMethod").get("Algorithm")
    if method not in GCM:
        raise DecryptionError("data encryption is not AES-GCM")
    keys = data.findall("ds:KeyInfo/xenc:EncryptedKey", NS) or encrypted_assertion.findall(
        "xenc:EncryptedKey", NS
    )
    if len(keys) != 1:
        raise DecryptionError("expected one EncryptedKey")
    enc_key = keys[0]
    size = KEY_WRAP.get(_one(enc_key, "xenc:EncryptionMethod").get("Algorithm", ""))
    if size is None:
        raise DecryptionError("key wrapping is not AES key wrap")
    kek, _peer = _kek(private_key, _one(enc_key, "ds:KeyInfo/xenc:AgreementMethod"), size)
    try:
        cek = aes_key_unwrap(kek, _b64(_one(enc_key, "xenc:CipherData/xenc:CipherValue"), 64))
    except (InvalidUnwrap, ValueError) as e:
        raise DecryptionError("the content key does not unwrap with our key") from e
    if len(cek) not in (16, 24, 32):
        raise DecryptionError("content key of a wrong size")
    blob = _b64(_one(data, "xenc:CipherData/xenc:CipherValue"))
    if len(blob) < 12 + 16:
        raise DecryptionError("cipher value too short")
    try:
        return AESGCM(cek).decrypt(blob[:12], blob[12:], None)
    except InvalidTag as e:
        raise DecryptionError("the encrypted data were changed (GCM tag)") from e


def _lp(value: bytes) -> str:
    """A ConcatKDF party or algorithm value as the node writes it: 4-byte length prefix, then the bytes, hex."""
    return (len(value).to_bytes(4, "big") + value).hex().upper()


def encrypt(
    plaintext: bytes,
    recipient: ec.EllipticCurvePublicKey,
    *,
    party_u: str,
    party_v: str,
    content_key_bytes: int = 32,
) -> etree._Element:
    """The node's side: a saml2:EncryptedAssertion holding `plaintext` for `recipient` (the SP's key)."""
    curve_uri = next(uri for uri, c in CURVES.items() if isinstance(recipient.curve, c))
    ephemeral = ec.generate_private_key(type(recipient.curve)())
    algorithm_id = f"{XENC}kw-aes256"
    other = {
        "AlgorithmID": _lp(algorithm_id.encode()),
        "PartyUInfo": _lp(party_u.encode()),
        "PartyVInfo": _lp(party_v.encode()),
    }
    kek = ConcatKDFHash(hashes.SHA256(), 32, b"".join(bytes.fromhex(v) for v in other.values())).derive(
        ephemeral.exchange(ec.ECDH(), recipient)
    )
    cek = os.urandom(content_key_bytes)
    iv = os.urandom(12)
    blob = iv + AESGCM(cek).encrypt(iv, plaintext, None)
    point = ephemeral.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    E = etree.SubElement
    saml = "urn:oasis:names:tc:SAML:2.0:assertion"
    root = etree.Element(
        f"{{{saml}}}EncryptedAssertion",
        nsmap={"saml2": saml, "xenc": XENC, "xenc11": XENC11, "ds": DS, "dsig11": DSIG11},
    )
    data = E(root, f"{{{XENC}}}EncryptedData", Id="_" + os.urandom(16).hex(), Type=f"{XENC}Element")
    E(data, f"{{{XENC}}}EncryptionMethod", Algorithm=f"{XENC11}aes256-gcm")
    enc_key = E(E(data, f"{{{DS}}}KeyInfo"), f"{{{XENC}}}EncryptedKey", Id="_" + os.urandom(16).hex())
    E(enc_key, f"{{{XENC}}}EncryptionMethod", Algorithm=algorithm_id)
    agreement = E(E(enc_key, f"{{{DS}}}KeyInfo"), f"{{{XENC}}}AgreementMethod", Algorithm=ECDH_ES)
    kdm = E(agreement, f"{{{XENC11}}}KeyDerivationMethod", Algorithm=CONCAT_KDF)
    E(E(kdm, f"{{{XENC11}}}ConcatKDFParams", **other), f"{{{DS}}}DigestMethod", Algorithm=f"{XENC}sha256")
    ec_value = E(
        E(E(agreement, f"{{{XENC}}}OriginatorKeyInfo"), f"{{{DS}}}KeyValue"), f"{{{DSIG11}}}ECKeyValue"
    )
    E(ec_value, f"{{{DSIG11}}}NamedCurve", URI=curve_uri)
    E(ec_value, f"{{{DSIG11}}}PublicKey").text = base64.b64encode(point).decode()
    E(E(enc_key, f"{{{XENC}}}CipherData"), f"{{{XENC}}}CipherValue").text = base64.b64encode(
        aes_key_wrap(kek, cek)
    ).decode()
    E(E(data, f"{{{XENC}}}CipherData"), f"{{{XENC}}}CipherValue").text = base64.b64encode(blob).decode()
    return root
