"""XML signatures of the login.gov.pl profile on signxml: enveloped, exclusive C14N, SHA-256 digests,
ECDSA-SHA256 on P-256 (DOMAIN.md §9). Signing puts the signature where SAML wants it (after the Issuer);
verifying pins the other side's certificate (no chain: the node's certificate is configuration) and returns
only what the signature covers, so a message with a second, unsigned copy of an element (signature wrapping)
gives nothing but the signed one. No database, no network."""

from __future__ import annotations

from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
    methods,
)
from signxml.exceptions import InvalidInput, InvalidSignature

DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
ACCEPTED_METHODS = frozenset(
    {SignatureMethod.ECDSA_SHA256, SignatureMethod.ECDSA_SHA384, SignatureMethod.RSA_SHA256}
)


class SignatureError(ValueError):
    """Unsigned, signed by someone else, changed after signing, or signed over something else."""


def sign(element: etree._Element, key_pem: bytes, cert_pem: bytes) -> etree._Element:
    """`element` (a SAML message or assertion with an ID) signed enveloped; the signature right after its
    Issuer (or first, when it has none). Returns the signed element (a new tree)."""
    ref = element.get("ID")
    if not ref:
        raise ValueError("a signed SAML element needs an ID")
    placeholder = etree.Element(f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})
    issuer = element.find(f"{{{SAML}}}Issuer")
    if issuer is not None:
        issuer.addnext(placeholder)
    else:
        element.insert(0, placeholder)
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signer.namespaces = {"ds": DS}
    return signer.sign(element, key=key_pem, cert=cert_pem, reference_uri=f"#{ref}", id_attribute="ID")


def verify(element: etree._Element, cert_pem: bytes) -> etree._Element:
    """The part of `element` its own signature covers, checked against `cert_pem`. The signature must be a
    direct child of `element` and reference exactly `element` (by its ID): a signature elsewhere, over
    another element, or a second signature is refused."""
    own = element.findall(f"{{{DS}}}Signature")
    if len(own) != 1:
        raise SignatureError("unsigned" if not own else "more than one signature")
    ref_id = element.get("ID")
    refs = own[0].findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if not ref_id or len(refs) != 1 or refs[0].get("URI") != f"#{ref_id}":
        raise SignatureError("the signature does not cover this element")
    # verified alone, as a document of its own: nothing outside the element takes part
    copy = etree.fromstring(etree.tostring(element))
    try:
        result = XMLVerifier().verify(
            copy,
            x509_cert=cert_pem.decode() if isinstance(cert_pem, bytes) else cert_pem,
            id_attribute="ID",
            expect_config=SignatureConfiguration(
                location="./",
                expect_references=1,
                signature_methods=ACCEPTED_METHODS,
                digest_algorithms=frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384}),
            ),
        )
    except (InvalidSignature, InvalidInput) as e:
        raise SignatureError(str(e)[:200]) from e
    except Exception as e:  # anything signxml cannot process is a signature we do not accept
        raise SignatureError(type(e).__name__) from e
    signed = result.signed_xml
    if signed is None or signed.tag != element.tag or signed.get("ID") != ref_id:
        raise SignatureError("the signature covers another element")
    return signed
