"""The content model of a harmonised feature type, written out in a DescribeFeatureType answer.

A DescribeFeatureType that only `xs:include`s the official schema is correct, but a client must then fetch
that schema from inspire.ec.europa.eu; QGIS's WFS provider (3.22, Debian bookworm) reads the answer itself
and needs the feature's element and complexType in it. A theme declares each type's properties here
(`Prop`, in the order and with the occurrences of the official XSD, which tests/ogc/test_inspire_cp.py
compares with the official file) and `schema()` writes them as an XSD of the type's namespace that imports
what the properties use (GML 3.2, base, gn, gmd) from their official locations. The features the service
writes validate against this answer and against the official schema alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
GML = "http://www.opengis.net/gml/3.2"
# where an import of each namespace a property type may use points (the official schemas)
IMPORTS = {
    "gml": (GML, "http://schemas.opengis.net/gml/3.2.1/gml.xsd"),
    "base": (
        "http://inspire.ec.europa.eu/schemas/base/3.3",
        "https://inspire.ec.europa.eu/schemas/base/3.3/BaseTypes.xsd",
    ),
    "gn": (
        "http://inspire.ec.europa.eu/schemas/gn/4.0",
        "https://inspire.ec.europa.eu/schemas/gn/4.0/GeographicalNames.xsd",
    ),
    "gmd": ("http://www.isotc211.org/2005/gmd", "http://schemas.opengis.net/iso/19139/20070417/gmd/gmd.xsd"),
}
# types with simple content: a voidable (nillable) property of one of these is written, as the official
# schemas do, as an anonymous type extending it with a nilReason attribute
_SIMPLE = {"gml:AreaType", "gml:LengthType", "gml:MeasureType"}


@dataclass(frozen=True)
class Prop:
    """One property element of a feature type: its name, type (a QName; unprefixed = an XML Schema built-in
    type), occurrences, whether it is voidable (nillable) and, for a property that wraps one element of
    another schema (cp:name → gn:GeographicalName), that element instead of a type."""

    name: str
    type: str = ""
    min: int = 1
    max: int | None = 1  # None: unbounded
    nillable: bool = False
    wraps: str = ""


def _prefixes(props) -> set[str]:
    used = {"gml"}
    for p in props:
        for qname in (p.type, p.wraps):
            if ":" in qname:
                used.add(qname.split(":", 1)[0])
    return used


def _element(seq, p: Prop) -> None:
    attrs = {"name": p.name}
    if p.min != 1:
        attrs["minOccurs"] = str(p.min)
    if p.max != 1:
        attrs["maxOccurs"] = "unbounded" if p.max is None else str(p.max)
    if p.nillable:
        attrs["nillable"] = "true"
    simple = ":" not in p.type or p.type in _SIMPLE
    el = etree.SubElement(seq, f"{{{XS}}}element", attrs)
    if p.wraps:
        ct = etree.SubElement(el, f"{{{XS}}}complexType")
        inner = etree.SubElement(ct, f"{{{XS}}}sequence")
        etree.SubElement(inner, f"{{{XS}}}element", ref=p.wraps)
        if p.nillable:
            etree.SubElement(ct, f"{{{XS}}}attribute", name="nilReason", type="gml:NilReasonType")
    elif p.nillable and simple:
        ext = etree.SubElement(
            etree.SubElement(etree.SubElement(el, f"{{{XS}}}complexType"), f"{{{XS}}}simpleContent"),
            f"{{{XS}}}extension",
            base=p.type,
        )
        etree.SubElement(ext, f"{{{XS}}}attribute", name="nilReason", type="gml:NilReasonType")
    else:
        el.set("type", p.type)


def schema(namespace: str, prefix: str, types: list[tuple[str, tuple[Prop, ...]]]) -> bytes:
    """An XSD of `namespace` declaring each (local name, properties) as a GML feature
    (substitutionGroup gml:AbstractFeature, a complexType extending gml:AbstractFeatureType)."""
    used = set().union(*(_prefixes(props) for _name, props in types))
    nsmap = {None: XS, prefix: namespace} | {p: IMPORTS[p][0] for p in sorted(used)}
    root = etree.Element(
        f"{{{XS}}}schema",
        nsmap=nsmap,
        targetNamespace=namespace,
        elementFormDefault="qualified",
        version="4.0",
    )
    for p in sorted(used):
        ns, location = IMPORTS[p]
        etree.SubElement(root, f"{{{XS}}}import", namespace=ns, schemaLocation=location)
    for name, props in types:
        etree.SubElement(
            root,
            f"{{{XS}}}element",
            name=name,
            type=f"{prefix}:{name}Type",
            substitutionGroup="gml:AbstractFeature",
        )
        ct = etree.SubElement(root, f"{{{XS}}}complexType", name=f"{name}Type")
        ext = etree.SubElement(
            etree.SubElement(ct, f"{{{XS}}}complexContent"),
            f"{{{XS}}}extension",
            base="gml:AbstractFeatureType",
        )
        seq = etree.SubElement(ext, f"{{{XS}}}sequence")
        for p in props:
            _element(seq, p)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
