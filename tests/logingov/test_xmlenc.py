"""The node's encrypted assertion (services/logingov/xmlenc.py): ECDH-ES + ConcatKDF + AES key wrap +
AES-GCM, as the node writes it; every damaged or foreign part refused. No database."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from services.logingov import xmlenc

PLAIN = b'<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="ID-1"/>'


@pytest.fixture(scope="module")
def sp_key():
    return ec.generate_private_key(ec.SECP256R1())


def _encrypted(key, **kw) -> etree._Element:
    el = xmlenc.encrypt(
        PLAIN, key.public_key(), party_u="https://node.example", party_v="https://sp.example", **kw
    )
    return etree.fromstring(etree.tostring(el))


def test_round_trip_and_the_node_s_kdf_parameters(sp_key):
    el = _encrypted(sp_key)
    assert xmlenc.decrypt(el, sp_key) == PLAIN
    params = el.find(".//xenc11:ConcatKDFParams", xmlenc.NS)
    # as the node writes them: 4-byte length, then the value (DOMAIN.md §9, the node's own example)
    assert (
        params.get("AlgorithmID") == "0000002A" + b"http://www.w3.org/2001/04/xmlenc#kw-aes256".hex().upper()
    )
    assert bytes.fromhex(params.get("PartyUInfo"))[4:] == b"https://node.example"


def test_a_128_bit_content_key_under_the_aes256_gcm_name_is_read(sp_key):
    """Production once sent a 128-bit key under aes256-gcm: the size comes from the unwrapped key."""
    el = _encrypted(sp_key, content_key_bytes=16)
    assert el.find(".//xenc:EncryptionMethod", xmlenc.NS).get("Algorithm").endswith("aes256-gcm")
    assert xmlenc.decrypt(el, sp_key) == PLAIN


def _cipher(el, path):
    return el.find(path, xmlenc.NS)


@pytest.mark.parametrize(
    "damage",
    [
        "another_key",
        "ciphertext",
        "wrapped_key",
        "point_off_curve",
        "curve",
        "algorithm",
        "kdf",
        "party",
        "no_key",
    ],
)
def test_damage_is_refused(sp_key, damage):
    el = _encrypted(sp_key)
    key = sp_key
    data_cv = _cipher(el, "xenc:EncryptedData/xenc:CipherData/xenc:CipherValue")
    key_cv = _cipher(el, ".//xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue")
    if damage == "another_key":
        key = ec.generate_private_key(ec.SECP256R1())
    elif damage == "ciphertext":
        raw = bytearray(base64.b64decode(data_cv.text))
        raw[-20] ^= 0x01
        data_cv.text = base64.b64encode(bytes(raw)).decode()
    elif damage == "wrapped_key":
        raw = bytearray(base64.b64decode(key_cv.text))
        raw[3] ^= 0x80
        key_cv.text = base64.b64encode(bytes(raw)).decode()
    elif damage == "point_off_curve":
        pk = _cipher(el, ".//dsig11:PublicKey")
        raw = bytearray(base64.b64decode(pk.text))
        raw[-1] ^= 0x01
        pk.text = base64.b64encode(bytes(raw)).decode()
    elif damage == "curve":
        _cipher(el, ".//dsig11:NamedCurve").set("URI", "urn:oid:1.3.132.0.34")
    elif damage == "algorithm":
        _cipher(el, "xenc:EncryptedData/xenc:EncryptionMethod").set("Algorithm", xmlenc.XENC + "aes256-cbc")
    elif damage == "kdf":
        _cipher(el, ".//xenc11:KeyDerivationMethod").set("Algorithm", xmlenc.XENC11 + "PBKDF2")
    elif damage == "party":
        _cipher(el, ".//xenc11:ConcatKDFParams").set("PartyVInfo", "0000000568656C6C6F")
    elif damage == "no_key":
        ek = _cipher(el, ".//xenc:EncryptedKey")
        ek.getparent().remove(ek)
    with pytest.raises(xmlenc.DecryptionError):
        xmlenc.decrypt(el, key)
