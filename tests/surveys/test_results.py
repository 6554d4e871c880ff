"""Survey results (issue 26): the surveyor hands in the changed EGiB data (GML) and the operat's files for
the case filed with zgloszenie-prac; the file is read and diffed at once (what is new, changed and
retired, object by object; refused when it cannot be read or changes objects outside the work area),
the dry import runs as a Celery job ("checking" → "checked"; called here directly); the county's clerk
reviews it (differences, outlines before and after, signatures) and accepts it ("applying"; the job
changes the registry, with history, in one transaction → "accepted"; WFS serves the new parcels) or
returns it with remarks (nothing applied). Both jobs merge an export limited to the work's cadastral
units."""

from __future__ import annotations

import copy
import io
import re

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from lxml import etree
from shapely.geometry import box

from layers.exporting.egib import export_egib
from layers.models import AdministrativeUnit, Parcel, RegistryHistory
from services.cases.models import Case
from services.forms.models import Submission
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit
from services.surveys import results as results_mod
from services.surveys.models import Results
from services.surveys.results import results_apply, results_check
from tests.test_forms_journeys import post, survey_data

pytestmark = pytest.mark.django_db

EGB = "{ewidencjaGruntowIBudynkow:1.0}"
GML = "{http://www.opengis.net/gml/3.2}"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# ------------------------------------------------------------------ fixtures and helpers
@pytest.fixture(autouse=True)
def jobs(monkeypatch):
    """The Celery jobs queued after the commit, recorded instead of sent to a broker."""
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(results_mod, "_enqueue_check", lambda pk: queued.append(("check", str(pk))))
    monkeypatch.setattr(results_mod, "_enqueue_apply", lambda pk: queued.append(("apply", str(pk))))
    return queued


@pytest.fixture
def exports(monkeypatch):
    """The `area` each merge's export of the registry was limited to (None: the whole register)."""
    areas: list = []
    real = results_mod.export_egib

    def spy(*args, **kwargs):
        areas.append(kwargs.get("area"))
        return real(*args, **kwargs)

    monkeypatch.setattr(results_mod, "export_egib", spy)
    return areas


@pytest.fixture(scope="module")
def site(demo_data, django_db_blocker):
    """A one-part parcel without holes well inside the county, and a work area around it."""
    with django_db_blocker.unblock():
        county = AdministrativeUnit.objects.get(teryt="1418").geom
        for p in (
            Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[30:400]
        ):
            shape = shapely.from_wkb(bytes(p.geom.wkb))
            if len(shape.geoms) != 1 or len(shape.geoms[0].interiors) or shape.area < 400:
                continue
            area = p.geom.envelope.buffer(3).envelope
            area.srid = 2180
            if county.contains(area.buffer(200)):
                return {"parcel": p.parcel_id, "local_id": p.local_id, "area": area, "shape": shape.geoms[0]}
    raise AssertionError("no suitable parcel")


@pytest.fixture
def county():
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def county_clerk(make_user, county):
    user = make_user("ewa.geodetka", "clerk", first_name="Ewa", last_name="Geodetka")
    staff_add(user, county, OfficeUnit.objects.get(office=county, code="GK"))
    return user


@pytest.fixture
def surveyor(make_user):
    return make_user("geo", "surveyor", first_name="Ewa", last_name="Mierniczy", licence_no="12345")


def logged(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def file_case(user, area) -> Case:
    c = logged(user)
    r = post(c, "zgloszenie-prac", survey_data(area.wkt, licence_no=user.licence_no))
    assert r.status_code == 302, r.content.decode()[-2000:]
    return Case.objects.get(submission=Submission.objects.filter(user=user).latest("pk"))


@pytest.fixture
def case(surveyor, site):
    return file_case(surveyor, site["area"])


def _poslist(polygon) -> str:
    return " ".join(f"{y:.2f} {x:.2f}" for x, y in polygon.exterior.coords)  # EPSG:2180 URN: northing first


def _set(el, path: str, text: str) -> None:
    el.find(path).text = text


def changed_gml(tmp_path, site, *, shift: float = 0.0) -> bytes:
    """The work area as the surveyor hands it in: the area's parcels from an export of the registry, the
    chosen parcel divided into two (new identifiers, the old one absent); `shift` moves one new part."""
    path = tmp_path / "export.gml"
    export_egib(path, only_current=True, personal_data=False)
    tree = etree.parse(str(path))
    root = tree.getroot()
    inside = set(
        Parcel.objects.current()
        .filter(geom__coveredby=site["area"].buffer(1))
        .values_list("parcel_id", flat=True)
    )
    target = None
    for member in list(root):
        feature = member[0]
        tag = etree.QName(feature).localname
        if tag == "EGB_DzialkaEwidencyjna":
            pid = feature.findtext(f"{EGB}idDzialki")
            if pid == site["parcel"]:
                target = member
            if pid not in inside:
                root.remove(member)
        elif tag not in (
            "EGB_JednostkaEwidencyjna",
            "EGB_ObrebEwidencyjny",
            "EGB_JednostkaRejestrowaGruntow",
        ):
            root.remove(member)
    assert target is not None
    shape = site["shape"]
    x0, y0, x1, y1 = shape.bounds
    mid = (x0 + x1) / 2
    halves = [
        shape.intersection(box(x0 - 1, y0 - 1, mid, y1 + 1)),
        shape.intersection(box(mid, y0 - 1, x1 + 1, y1 + 1)),
    ]
    if shift:
        halves[1] = shapely.affinity.translate(halves[1], shift, 0)
    number = site["parcel"].rsplit(".", 1)[1].split("/")[0]
    prefix = site["parcel"].rsplit(".", 1)[0]
    for i, half in enumerate(halves, 1):
        assert half.geom_type == "Polygon"
        member = copy.deepcopy(target)
        feature = member[0]
        local_id = f"{site['local_id']}-p{i}"
        fid = f"PL.PZGiK.DZ.nowa{i}"
        feature.set(f"{GML}id", fid)
        ident = f"{EGB}idIIP/{EGB}EGB_IdentyfikatorIIP/"
        _set(feature, ident + f"{EGB}lokalnyId", local_id)
        _set(feature, ident + f"{EGB}wersjaId", "2026-12-01T10:00:00")
        _set(feature, f"{EGB}startObiekt", "2026-12-01T10:00:00")
        _set(feature, f"{EGB}startWersjaObiekt", "2026-12-01T10:00:00")
        _set(feature, f"{EGB}idDzialki", f"{prefix}.{number}/9{i}")
        _set(feature, f"{EGB}poleEwidencyjne", f"{half.area / 10000:.4f}")
        for use in feature.findall(f"{EGB}klasouzytek"):
            feature.remove(use)
        geometria = feature.find(f"{EGB}geometria")
        for child in list(geometria):
            geometria.remove(child)
        geometria.append(
            etree.fromstring(
                f'<gml:Polygon xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="{fid}.g" '
                f'srsName="urn:ogc:def:crs:EPSG::2180"><gml:exterior><gml:LinearRing><gml:posList>'
                f"{_poslist(half)}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
            )
        )
        root.append(member)
    root.remove(target)
    out = io.BytesIO()
    tree.write(out, xml_declaration=True, encoding="UTF-8")
    return out.getvalue()


def hand_in(client, case, gml: bytes, files=()):
    data = {"gml": SimpleUploadedFile("wyniki.gml", gml, content_type="application/gml+xml")}
    if files:
        data["files"] = list(files)
    return client.post(f"/api/surveys/{case.sign}/results", data, **EN)


# ------------------------------------------------------------------ handing in and checking
def test_hand_in_divided_parcel_then_accept_changes_the_registry(
    case, surveyor, county_clerk, site, tmp_path, jobs, exports, django_capture_on_commit_callbacks
):
    gml = changed_gml(tmp_path, site)
    pdf = SimpleUploadedFile("szkic.pdf", b"%PDF-1.4\n%unsigned\n", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        r = hand_in(logged(surveyor), case, gml, files=[pdf])
    assert r.status_code == 202, r.content.decode()[:2000]
    body = r.json()
    assert body["status"] == "checking" and body["problems"] == []
    assert body["counts"]["retired"] == {"parcel": 1} and body["counts"]["new"] == {"parcel": 2}
    assert body["counts"]["changed"] == {}
    res = Results.objects.get(case_id=case.pk)
    assert jobs == [("check", str(res.pk))] and res.status == "checking" and "pipeline" not in res.report
    # both pages say it is being checked and offer a link to look again (they never refresh by themselves)
    from django.template.loader import render_to_string

    html = render_to_string("surveys/_results.html", {"survey_results": _view_of(case, surveyor)})
    assert 'data-status="checking"' in html and "Look again" in html and 'http-equiv="refresh"' not in html
    page = logged(county_clerk).get(f"/urzad/prace/{case.sign}/", **EN).content.decode()
    assert 'data-testid="review-busy"' in page and "Look again" in page and 'http-equiv="refresh"' not in page
    assert 'data-testid="review-accept"' not in page

    # the job: the dry import of the register merged with the file, limited to the work's units
    assert results_check(res.pk) == "checked"
    assert exports and all(a is not None for a in exports), exports
    assert results_check(res.pk) == "checked"  # again: nothing changes
    res.refresh_from_db()
    assert res.status == "checked"
    assert [i["id"] for i in res.report["retired"]["parcel"]] == [site["parcel"]]
    assert res.report["pipeline"]["rejected"] == {}, res.report["pipeline"]["problems"][:3]
    assert res.report["pipeline"]["retired"] == {"parcel": 1}
    assert res.files[0]["name"] == "szkic.pdf" and res.signature_reports[0]["error"]  # not signed: said so
    assert Parcel.objects.current().filter(parcel_id=site["parcel"]).exists()  # nothing applied yet

    # the surveyor sees it on the case page's part
    # the clerk's review page: differences, outlines, signatures
    clerk = logged(county_clerk)
    page = clerk.get(f"/urzad/prace/{case.sign}/", **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert site["parcel"] in html and "/91" in html and "/92" in html
    assert html.count("<path") >= 3 and 'role="img"' in html
    assert "szkic.pdf" in html

    assert 'http-equiv="refresh"' not in html

    with django_capture_on_commit_callbacks(execute=True):
        r = clerk.post(f"/urzad/prace/{case.sign}/", {"action": "accept", "results": str(res.pk)}, **EN)
    assert r.status_code == 302, r.content.decode()[-2000:]
    res.refresh_from_db()
    assert res.status == "applying" and res.decided_by == county_clerk
    assert jobs[-1] == ("apply", str(res.pk))
    assert Parcel.objects.current().filter(parcel_id=site["parcel"]).exists()  # not yet
    page = clerk.get(f"/urzad/prace/{case.sign}/", **EN).content.decode()
    assert 'data-status="applying"' in page and "Look again" in page and 'http-equiv="refresh"' not in page
    assert 'data-testid="review-accept"' not in page
    # handing in again is refused while the results are being entered
    assert hand_in(logged(surveyor), case, gml).status_code == 409

    del exports[:]
    assert results_apply(res.pk) == "accepted"
    assert exports and all(a is not None for a in exports), exports
    res.refresh_from_db()
    assert res.status == "accepted" and res.decided_by == county_clerk
    assert res.report["applied"]["retired"] == {"parcel": 1}
    assert case.timeline.filter(action="note", actor=county_clerk).count() == 1
    assert results_apply(res.pk) == "accepted"  # again: nothing changes
    assert case.timeline.filter(action="note", actor=county_clerk).count() == 1
    new = list(
        Parcel.objects.current().filter(parcel_id__endswith=("/91")).values_list("parcel_id", flat=True)
    )
    assert len(new) == 1 and Parcel.objects.current().filter(parcel_id=new[0].replace("/91", "/92")).exists()
    old = Parcel.objects.get(parcel_id=site["parcel"])
    assert (
        old.end_object is not None and not Parcel.objects.current().filter(parcel_id=site["parcel"]).exists()
    )
    assert Parcel.objects.current().count() == Parcel.objects.filter(end_object__isnull=True).count()
    # nothing else in the registry was touched
    assert (
        Parcel.objects.filter(end_object__isnull=False)
        .exclude(parcel_id=site["parcel"])
        .filter(end_object__gte=res.submitted_at)
        .count()
        == 0
    )
    assert (
        not RegistryHistory.objects.filter(recorded_at__gte=res.submitted_at)
        .exclude(official_id__in=[site["parcel"], *new])
        .exists()
    )
    # WFS serves the new parcels
    x0, y0, x1, y1 = site["area"].extent
    wfs = Client().get(
        "/ows",
        {
            "SERVICE": "WFS",
            "VERSION": "2.0.0",
            "REQUEST": "GetFeature",
            "TYPENAMES": "dzialki",
            "BBOX": f"{y0},{x0},{y1},{x1},urn:ogc:def:crs:EPSG::2180",  # northing first
        },
    )
    assert wfs.status_code == 200
    text = wfs.content.decode()
    served = set(re.findall(r">(\d{6}_\d\.\d{4}\.[\d/]+)<", text))
    assert {new[0], new[0].replace("/91", "/92")} <= served and site["parcel"] not in served


def test_results_outside_the_work_area_are_refused(case, surveyor, site, tmp_path):
    r = hand_in(logged(surveyor), case, changed_gml(tmp_path, site, shift=40.0))
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert "outside the work area" in r.json()["detail"]
    assert Results.objects.get(case_id=case.pk).status == "rejected"  # kept, not active


def test_a_gml_the_reader_refuses_is_a_422_with_its_message(case, surveyor):
    r = hand_in(logged(surveyor), case, b"<?xml version='1.0'?><nothing/>")
    assert r.status_code == 422 and r.json()["detail"]
    r = hand_in(logged(surveyor), case, b"PK\x03\x04 not xml at all")
    assert r.status_code == 422 and "XML" in r.json()["detail"]
    assert not Results.objects.filter(case_id=case.pk, status__in=["submitted", "checked"]).exists()


def test_another_surveyors_case_is_404(case, make_user, site, tmp_path):
    other = make_user("geo2", "surveyor", licence_no="54321")
    r = hand_in(logged(other), case, b"<x/>")
    assert r.status_code == 404
    assert hand_in(Client(), case, b"<x/>").status_code in (401, 403)
    assert not Results.objects.exists()


def test_returned_with_remarks_applies_nothing_and_may_be_handed_in_again(
    case, surveyor, county_clerk, site, tmp_path
):
    gml = changed_gml(tmp_path, site)
    assert hand_in(logged(surveyor), case, gml).status_code == 202
    res = Results.objects.get(case_id=case.pk)
    clerk = logged(county_clerk)
    r = clerk.post(
        f"/urzad/prace/{case.sign}/", {"action": "return", "results": str(res.pk), "remarks": "x"}, **EN
    )
    assert r.status_code == 409  # not checked yet: nothing to decide
    assert results_check(res.pk) == "checked"
    r = clerk.post(f"/urzad/prace/{case.sign}/", {"action": "return", "results": str(res.pk)}, **EN)
    assert r.status_code == 400  # remarks are required
    r = clerk.post(
        f"/urzad/prace/{case.sign}/",
        {"action": "return", "results": str(res.pk), "remarks": "Brak szkicu polowego."},
        **EN,
    )
    assert r.status_code == 302
    res.refresh_from_db()
    assert res.status == "returned" and res.remarks == "Brak szkicu polowego."
    assert Parcel.objects.current().filter(parcel_id=site["parcel"]).exists()
    assert not Parcel.objects.filter(parcel_id__endswith="/91").exists()
    # the surveyor sees the remarks and may hand in again
    from django.template.loader import render_to_string

    html = render_to_string("surveys/_results.html", {"survey_results": _view_of(case, surveyor)})
    assert "Brak szkicu polowego." in html and 'enctype="multipart/form-data"' in html
    assert hand_in(logged(surveyor), case, gml).status_code == 202
    # handed in again while the first is still being checked: the first is replaced, its late job idle
    again = Results.objects.filter(case_id=case.pk).first()
    assert hand_in(logged(surveyor), case, gml).status_code == 202
    assert Results.objects.get(pk=again.pk).status == "rejected"
    assert results_check(again.pk) == "rejected"
    assert Results.objects.filter(case_id=case.pk, status="checking").count() == 1


def test_a_failing_import_leaves_the_registry_unchanged_and_the_results_checked(
    case, surveyor, county_clerk, site, tmp_path, monkeypatch
):
    from layers.importing.base import ImportFailed

    assert hand_in(logged(surveyor), case, changed_gml(tmp_path, site)).status_code == 202
    res = Results.objects.get(case_id=case.pk)
    assert results_check(res.pk) == "checked"
    clerk = logged(county_clerk)
    r = clerk.post(f"/urzad/prace/{case.sign}/", {"action": "accept", "results": str(res.pk)}, **EN)
    assert r.status_code == 302
    parcels = Parcel.objects.current().count()
    real = results_mod.registry_import

    def written_then_failed(*args, **kwargs):
        real(*args, **kwargs)  # the registry written, then the import fails: all of it rolled back
        raise ImportFailed("Parcel X overlaps parcel Y.")

    monkeypatch.setattr(results_mod, "registry_import", written_then_failed)
    assert results_apply(res.pk) == "checked"
    res.refresh_from_db()
    assert res.status == "checked" and res.decided_by is None
    assert res.report["apply_error"] == "Parcel X overlaps parcel Y."
    assert Parcel.objects.current().filter(parcel_id=site["parcel"]).exists()
    assert not Parcel.objects.filter(parcel_id__endswith="/91").exists()
    assert Parcel.objects.current().count() == parcels
    assert not RegistryHistory.objects.filter(recorded_at__gte=res.submitted_at).exists()
    assert not case.timeline.filter(action="note", actor=county_clerk).exists()
    page = clerk.get(f"/urzad/prace/{case.sign}/", **EN).content.decode()
    assert "Parcel X overlaps parcel Y." in page and 'data-testid="review-accept"' in page
    # accepted again, the import works this time
    monkeypatch.setattr(results_mod, "registry_import", real)
    assert (
        clerk.post(f"/urzad/prace/{case.sign}/", {"action": "accept", "results": str(res.pk)}).status_code
        == 302
    )
    assert results_apply(res.pk) == "accepted"
    res.refresh_from_db()
    assert "apply_error" not in res.report
    assert not Parcel.objects.current().filter(parcel_id=site["parcel"]).exists()


def test_the_merge_takes_the_whole_register_when_the_file_holds_address_points(case):
    from types import SimpleNamespace

    record = SimpleNamespace(kind="address", official_id="", namespace="PL.PZGiK.X", local_id="a1")
    assert results_mod._scope(case, [record]) is None
    scope = results_mod._scope(case, [])
    assert scope is not None and scope[1] and not scope[0].empty


def _view_of(case, user):
    from services.surveys.review import results_for_surveyor

    return results_for_surveyor(case, user)


def test_review_page_is_for_the_case_offices_staff_only(case, make_user, site, surveyor):
    gmina = Office.objects.get(code="um-piaseczno")
    other = make_user("anna", "clerk")
    staff_add(other, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    assert logged(other).get(f"/urzad/prace/{case.sign}/").status_code == 404
    assert logged(surveyor).get(f"/urzad/prace/{case.sign}/").status_code == 403


def test_the_surveyor_hands_in_from_the_page_and_sees_each_step(case, surveyor, site, tmp_path):
    from django.template.loader import render_to_string

    html = render_to_string("surveys/_results.html", {"survey_results": _view_of(case, surveyor)})
    assert 'enctype="multipart/form-data"' in html and "<script" not in html
    c = logged(surveyor)
    r = c.post(
        f"/moje-sprawy/{case.pk}/wyniki/",
        {
            "gml": SimpleUploadedFile(
                "wyniki.gml", changed_gml(tmp_path, site), content_type="application/gml+xml"
            )
        },
    )
    assert r.status_code == 302 and r["Location"] == f"/moje-sprawy/{case.pk}/"
    html = render_to_string("surveys/_results.html", {"survey_results": _view_of(case, surveyor)})
    assert 'data-status="checking"' in html and 'data-testid="results-busy"' in html
    assert results_check(Results.objects.get(case_id=case.pk).pk) == "checked"
    html = render_to_string("surveys/_results.html", {"survey_results": _view_of(case, surveyor)})
    assert 'data-status="checked"' in html and 'http-equiv="refresh"' not in html
    # a file the reader refuses: said on the page, nothing kept active
    r = c.post(f"/moje-sprawy/{case.pk}/wyniki/", {"gml": SimpleUploadedFile("x.gml", b"<x/>")})
    assert r.status_code == 302
    html = render_to_string("surveys/_results.html", {"survey_results": _view_of(case, surveyor)})
    assert 'data-status="rejected"' in html and 'role="alert"' in html
    # another's case: 404
    other = logged(_other_surveyor())
    assert (
        other.post(
            f"/moje-sprawy/{case.pk}/wyniki/", {"gml": SimpleUploadedFile("x.gml", b"<x/>")}
        ).status_code
        == 404
    )


def _other_surveyor():
    from gisportal.core.models import User

    return User.objects.create_user(
        username="geo3", password="x-Secret-2026!", role="surveyor", licence_no="777"
    )


def test_my_case_shows_the_surveyor_the_package_and_the_results_form(case, surveyor):
    page = logged(surveyor).get(f"/moje-sprawy/{case.pk}/").content.decode()
    assert 'data-testid="survey-package" data-state="not_paid"' in page  # the fee is not paid yet
    assert 'data-testid="survey-results"' in page and 'data-testid="results-form"' in page
    assert "Context: survey_results" not in page  # the template's own comment never reaches the page


def test_a_lost_check_is_queued_again_by_the_sweep(case, surveyor, site, tmp_path, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from services.surveys import results as results_module
    from services.surveys.models import Results

    queued: list = []
    monkeypatch.setattr(results_module, "_enqueue_check", lambda pk: queued.append(pk))
    hand_in(logged(surveyor), case, changed_gml(tmp_path, site))
    res = Results.objects.get(case_id=case.pk)
    assert res.status == Results.Status.CHECKING
    queued.clear()
    assert results_module.results_sweep() == 0  # just queued: not lost
    assert results_module.results_sweep(now=timezone.now() + timedelta(minutes=16)) == 1
    assert queued == [res.pk]


def test_kind_and_unit_read_while_streaming_match_the_egib_reader(demo_data, tmp_path):
    """The merge learns each exported object's kind and cadastral unit as it streams past (no second full
    parse): the same as the EGiB reader says, for every object of a unit's export."""
    from layers.exporting.egib import export_egib
    from layers.importing.readers import EgibFile
    from layers.models import Parcel
    from services.surveys import results

    parcel = Parcel.objects.current().order_by("parcel_id")[100]
    area = parcel.geom.buffer(300)
    area.srid = 2180
    path = tmp_path / "unit.gml"
    export_egib(path, only_current=True, personal_data=False, area=area)
    reader = EgibFile(path)
    try:
        expected = {(r.namespace, r.local_id): (r.kind, results._unit_of(r.official_id)) for r in reader}
    finally:
        reader.close()
    got = {}
    for _root, member in results._members(path):
        key = results._iip(member)
        if key is not None:
            got[key] = results._kind_and_unit(member)

    # an address point has no unit (the merge leaves addresses alone whatever it is)
    def plain(d):
        return {k: (kind, "" if kind == "address" else unit) for k, (kind, unit) in d.items()}

    assert plain(got) == plain(expected) and len(got) > 100
    assert {k for k, _u in got.values()} >= {"parcel", "building", "precinct"}
