"""Reading XML someone uploaded: no DTD at all (no entities, no external references), no network, the
parser's default limits on depth and size (libxml2 stops at 256 levels without XML_PARSE_HUGE)."""

from __future__ import annotations

from lxml import etree

MAX_XML_BYTES = 20 * 1024 * 1024


class UnsafeXml(ValueError):
    """Not well-formed, too large, or carrying a DOCTYPE."""


def parse_xml(data: bytes) -> etree._Element:
    if len(data) > MAX_XML_BYTES:
        raise UnsafeXml("too large")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except (etree.XMLSyntaxError, ValueError) as e:
        raise UnsafeXml("not well-formed") from e
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXml("DOCTYPE")
    return tree.getroot()


def has_doctype(data: bytes) -> bool:
    """A DOCTYPE anywhere before the root element (checked on the raw bytes as well: a parser never sees it)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper()
