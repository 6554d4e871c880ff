"""ASiC containers (ETSI EN 319 162-1): a zip with `mimetype` first, the data files, and META-INF/ with
XAdES signatures (signatures*.xml, references by file name) or CAdES signatures (signature*.p7s; in ASiC-E
over an ASiCManifest that lists each file with its digest, in ASiC-S over the one data file).

The zip is read within limits before anything is inflated (member count, declared sizes, ratio), and each
member is inflated at most to its limit, so a zip bomb costs nothing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zipfile
import zlib
from io import BytesIO

from gisportal.core.ziparchive import unsafe_member_name

from . import cades, xades
from .report import INDETERMINATE, TOTAL_FAILED, SignatureReport
from .trust import TrustStore
from .xmlsafe import UnsafeXml, parse_xml

MIMETYPES = {"application/vnd.etsi.asic-e+zip": "ASiC-E", "application/vnd.etsi.asic-s+zip": "ASiC-S"}
MAX_MEMBERS = 500
MAX_MEMBER = 20 * 1024 * 1024
MAX_TOTAL = 60 * 1024 * 1024
MAX_RATIO = 200
DS = "http://www.w3.org/2000/09/xmldsig#"
ASIC = "http://uri.etsi.org/02918/v1.2.1#"
DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}


class BadContainer(ValueError):
    pass


def is_asic(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _members(data: bytes) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as e:
        raise BadContainer("not a readable zip") from e  # NotImplementedError: an unknown zip version
    if len(infos) > MAX_MEMBERS:
        raise BadContainer("too many files")
    total = 0
    for info in infos:
        if unsafe_member_name(info.filename):
            raise BadContainer("unsafe file name")
        if info.file_size > MAX_MEMBER or (
            info.compress_size and info.file_size / info.compress_size > MAX_RATIO
        ):
            raise BadContainer("a file inflates too much")
        total += info.file_size
    if total > MAX_TOTAL:
        raise BadContainer("the files inflate too much")
    out = {}
    for info in infos:
        if info.is_dir():
            continue
        try:
            with zf.open(info) as f:
                body = f.read(MAX_MEMBER + 1)  # sizes in the headers may lie: never read past the limit
        except (
            zipfile.BadZipFile,
            zlib.error,  # a damaged deflate stream
            EOFError,  # a truncated one
            ValueError,
            OSError,
            RuntimeError,
            NotImplementedError,
        ) as e:
            raise BadContainer("a file cannot be read") from e
        if len(body) > MAX_MEMBER:
            raise BadContainer("a file inflates too much")
        out[info.filename] = body
    return out


def verify_asic(data: bytes, store: TrustStore) -> tuple[str, list[SignatureReport]]:
    """("ASiC-E" or "ASiC-S", reports). Raises BadContainer for a zip that is not an ASiC container or
    breaks the limits, LookupError when it holds no signature."""
    files = _members(data)
    kind = MIMETYPES.get(files.get("mimetype", b"").decode("ascii", "replace").strip())
    if kind is None:
        raise BadContainer("no ASiC mimetype")
    data_files = {n: b for n, b in files.items() if not n.startswith("META-INF/") and n != "mimetype"}
    reports: list[SignatureReport] = []
    for name in sorted(
        n for n in files if n.startswith("META-INF/") and "signature" in n.lower() and n.endswith(".xml")
    ):
        try:
            _fmt, found = xades.verify_xml(
                files[name], store, resolve=lambda uri: data_files.get(_local(uri))
            )
        except (UnsafeXml, LookupError) as e:
            report = SignatureReport(id=name, format="XAdES", indication=TOTAL_FAILED)
            reports.append(report.fail(TOTAL_FAILED, "FORMAT_FAILURE", f"{name}: {e}"))
            continue
        for r in found:
            _check_all_files_signed(r, data_files)
        reports.extend(found)
    for name in sorted(n for n in files if n.startswith("META-INF/") and n.lower().endswith(".p7s")):
        reports.extend(_cades(name, files, data_files, kind, store))
    if not reports:
        raise LookupError("no signature")
    return kind, reports


def _local(uri: str) -> str:
    from urllib.parse import unquote

    return unquote(uri.split("#", 1)[0]).lstrip("./")


def _check_all_files_signed(report: SignatureReport, data_files: dict[str, bytes]) -> None:
    signed = {_local(c["uri"]) for c in report.covers if c.get("kind") == "file"}
    unsigned = sorted(set(data_files) - signed)
    report.whole_document = not unsigned
    if unsigned:
        report.errors.append(
            "files in the container not covered by this signature: " + ", ".join(unsigned)[:300]
        )


def _cades(name: str, files: dict, data_files: dict, kind: str, store: TrustStore) -> list[SignatureReport]:
    manifest_name = name.replace("signature", "ASiCManifest").rsplit(".", 1)[0] + ".xml"
    manifest = files.get(manifest_name) or (
        files.get("META-INF/ASiCManifest.xml") if kind == "ASiC-E" else None
    )
    try:
        if kind == "ASiC-S" and manifest is None:
            if len(data_files) != 1:
                raise BadContainer("ASiC-S holds exactly one file")
            ((data_name, body),) = data_files.items()
            return cades.verify_cms(files[name], store, detached=body, name=data_name)
        if manifest is None:
            report = SignatureReport(id=name, format="CAdES", indication=INDETERMINATE)
            return [report.fail(INDETERMINATE, "SIGNED_DATA_NOT_FOUND", "no ASiCManifest for " + name)]
        reports = cades.verify_cms(files[name], store, detached=manifest, name=manifest_name)
    except (cades.NotCms, BadContainer) as e:
        report = SignatureReport(id=name, format="CAdES", indication=TOTAL_FAILED)
        return [report.fail(TOTAL_FAILED, "FORMAT_FAILURE", f"{name}: {e}")]
    covered, problem = _manifest_files(manifest, data_files)
    for r in reports:
        r.covers = [{"kind": "file", "name": n, "digest": d} for n, d in covered] + r.covers
        r.whole_document = not problem and {n for n, _ in covered} == set(data_files)
        if problem:
            r.fail(TOTAL_FAILED, "HASH_FAILURE", problem)
        elif not r.whole_document:
            r.errors.append("files in the container not listed in the manifest")
    return reports


def _manifest_files(manifest: bytes, data_files: dict[str, bytes]) -> tuple[list[tuple[str, str]], str]:
    """(file, digest) of each DataObjectReference whose digest matches, and the first problem."""
    try:
        root = parse_xml(manifest)
    except UnsafeXml as e:
        return [], f"manifest: {e}"
    covered = []
    for ref in root.iter(f"{{{ASIC}}}DataObjectReference"):
        name = _local(ref.get("URI") or "")
        method = ref.find(f"{{{DS}}}DigestMethod")
        value = ref.find(f"{{{DS}}}DigestValue")
        algo = DIGESTS.get(method.get("Algorithm") if method is not None else "")
        if algo is None or value is None:
            return covered, f"manifest: unsupported digest for {name}"
        if name not in data_files:
            return covered, f"manifest: {name} is missing from the container"
        try:
            want = base64.b64decode("".join((value.text or "").split()))
        except (ValueError, binascii.Error):
            return covered, f"manifest: bad digest for {name}"
        if hashlib.new(algo, data_files[name]).digest() != want:
            return covered, f"{name} was changed after signing"
        covered.append((name, algo))
    return covered, ""
