"""The case register: cases from e-forms and from paper, gapless signs under concurrency, the
transition table with KPA deadlines and pauses, clerk permissions per office, the applicant's status
page (public entries only, throttled guessing), e-mail through a local SMTP server, the deadline API."""

from __future__ import annotations

import socketserver
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connections
from django.test import Client

from gisportal.core.errors import Forbidden, InvalidInput
from layers.models import Parcel
from services.cases.actions import case_register, case_transition
from services.cases.models import Case, State
from services.forms.models import ServiceDefinition
from services.offices.actions import staff_add
from services.offices.models import Office, OfficeUnit

pytestmark = pytest.mark.django_db
APPLICANT = {"applicant_name": "Anna Wnioskodawczyni", "email": "anna@example.pl"}


@pytest.fixture
def gmina():
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def county():
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture
def clerk(make_user, gmina):
    user = make_user("clerk.g", "clerk", first_name="Anna", last_name="Nowak")
    staff_add(user, gmina, OfficeUnit.objects.get(office=gmina, code="UiA"))
    return user


@pytest.fixture
def county_clerk(make_user, county):
    user = make_user("clerk.p", "clerk")
    staff_add(user, county, OfficeUnit.objects.get(office=county, code="GK"))
    return user


@pytest.fixture
def town_parcel(demo_data):
    return (
        Parcel.objects.current().filter(precinct__unit__unit_id="141804_4").order_by("parcel_id")[7].parcel_id
    )


def file_form(client, user, code: str, data: dict):
    client.force_login(user)
    service = ServiceDefinition.objects.get(code=code, active=True)
    payload = {"version": service.version, "idempotency_key": str(uuid.uuid4()), "action": "submit"}
    payload.update({k: "\n".join(v) if isinstance(v, list) else v for k, v in data.items()})
    r = client.post(f"/uslugi/{code}/", payload)
    assert r.status_code == 302, r.content.decode()[-2000:]


def public_client() -> Client:
    """A client with an address of its own: status lookups are throttled per address (in Redis)."""
    return Client(REMOTE_ADDR=f"client-{uuid.uuid4()}")


def paper_case(office, unit_code="UiA", **kw) -> tuple[Case, str]:
    unit = OfficeUnit.objects.get(office=office, code=unit_code)
    args = {
        "office": office,
        "unit": unit,
        "jrwa": "6727",
        "subject": "Wniosek papierowy",
        "channel": "paper",
        "applicant_name": "Jan Papierowy",
        "received_on": date(2026, 12, 10),
        "deadline_kind": "one_month",
        "applicant_email": "jan@example.pl",
    }
    args.update(kw)
    return case_register(**args)


# ------------------------------------------------------------------ intake
def test_e_filed_form_opens_a_case(client, make_user, town_parcel):
    citizen = make_user("anna", "citizen")
    file_form(
        client, citizen, "zaswiadczenie-mpzp", {**APPLICANT, "parcels": [town_parcel], "purpose": "kredyt"}
    )
    case = Case.objects.get()
    year = case.received_on.year
    assert case.sign == f"UiA.6727.1.{year}" and case.channel == "portal" and case.applicant_user == citizen
    assert case.started_on == case.received_on and case.deadline_kind == "certificate_7_days"
    assert case.submission.parcels == [town_parcel] and case.location is not None
    client.force_login(citizen)
    assert case.sign in client.get("/moje-sprawy/").content.decode()


def test_general_letter_goes_to_the_registry_office(client, make_user):
    file_form(
        client,
        make_user("x", "citizen"),
        "pismo-ogolne",
        {**APPLICANT, "subject": "Pytanie", "content": "Treść pytania."},
    )
    assert Case.objects.get().unit.code == "KAN"


def test_paper_intake_by_a_clerk_and_the_status_page(client, clerk):
    client.force_login(clerk)
    r = client.post(
        "/urzad/sprawy/nowa/",
        {
            "received_on": "2026-11-20",
            "applicant_name": "Jan <b>Papierowy</b>",
            "applicant_address": "Piaseczno",
            "applicant_email": "jan@example.pl",
            "subject": "Wypis z planu",
            "unit": OfficeUnit.objects.get(code="UiA").pk,
            "jrwa": "6727",
            "deadline_kind": "one_month",
            "parcels": "",
        },
    )
    assert r.status_code == 302
    case = Case.objects.get()
    page = client.get(r["Location"]).content.decode()
    assert case.tracking_code in page and "Jan &lt;b&gt;Papierowy&lt;/b&gt;" in page
    access = page.split('data-testid="access-code">')[1].split("<")[0].strip()
    assert len(access) == 10
    assert access not in client.get(r["Location"]).content.decode()  # shown once
    public = public_client()
    ok = public.post("/status/", {"reference": case.tracking_code, "access_code": access})
    assert ok.status_code == 200 and case.sign in ok.content.decode()
    assert public.post("/status/", {"reference": case.sign, "access_code": access.lower()}).status_code == 200
    api = public.post(
        "/api/cases/status", {"reference": case.sign, "access_code": access}, content_type="application/json"
    )
    assert api.json()["state"] == "registered" and api.json()["deadline"] == "2026-12-21"


def test_paper_intake_rejects_bad_input(client, clerk):
    client.force_login(clerk)
    r = client.post(
        "/urzad/sprawy/nowa/",
        {
            "received_on": "2999-01-01",
            "applicant_name": "",
            "subject": "x",
            "jrwa": "abc",
            "deadline_kind": "one_month",
            "unit": 999999,
        },
    )
    assert r.status_code == 422 and not Case.objects.exists()


# ------------------------------------------------------------------ numbering
def test_concurrent_filing_gets_distinct_consecutive_numbers(gmina):
    jrwa = "9998"

    def one(_i):
        try:
            return paper_case(gmina, jrwa=jrwa)[0].number
        finally:
            connections.close_all()

    try:
        with ThreadPoolExecutor(8) as ex:
            numbers = list(ex.map(one, range(40)))
        assert sorted(numbers) == list(range(1, 41))
    finally:

        def cleanup():
            try:
                Case.objects.filter(jrwa=jrwa).delete()
                from services.cases.models import CaseCounter

                CaseCounter.objects.filter(jrwa=jrwa).delete()
            finally:
                connections.close_all()

        with ThreadPoolExecutor(1) as ex:
            ex.submit(cleanup).result()


def test_numbers_restart_per_year_unit_and_class(gmina):
    a, _ = paper_case(gmina)
    b, _ = paper_case(gmina)
    c, _ = paper_case(gmina, received_on=date(2027, 1, 4))
    d, _ = paper_case(gmina, unit_code="GN")
    assert (a.number, b.number, c.number, d.number) == (1, 2, 1, 1)
    assert d.sign == "GN.6727.1.2026" and c.sign == "UiA.6727.1.2027"


# ------------------------------------------------------------------ transitions and deadlines
def test_transitions_pauses_and_deadline(clerk, gmina, monkeypatch):
    case, _ = paper_case(gmina, received_on=date(2026, 12, 10), deadline_kind="certificate_7_days")
    assert case.deadline == date(2026, 12, 17)
    today = {"d": date(2026, 12, 11)}
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today["d"])
    case = case_transition(case.pk, "start", actor=clerk)
    case = case_transition(case.pk, "request_supplement", actor=clerk, due_days=7)
    assert case.state == State.WAITING_APPLICANT and case.supplement_due == date(2026, 12, 18)
    today["d"] = date(2026, 12, 15)
    case = case_transition(case.pk, "supplement_received", actor=clerk)
    # paused 11–15 Dec (5 days) → 17 + 5 = 22 Dec
    assert case.state == State.IN_PROGRESS and case.deadline == date(2026, 12, 22)
    # settling needs an outgoing document, delivery its method and date (issue 23)
    from services.cases.actions import Delivery, case_outgoing_document_add

    case_outgoing_document_add(
        case.pk,
        actor=clerk,
        kind="letter",
        name="pismo.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4",
    )
    case = case_transition(case.pk, "settle", actor=clerk)
    case = case_transition(
        case.pk, "deliver", actor=clerk, delivery=Delivery("portal", today["d"]), note="pobrane w portalu"
    )
    case = case_transition(case.pk, "close", actor=clerk)
    assert case.state == State.CLOSED
    with pytest.raises(InvalidInput):
        case_transition(case.pk, "start", actor=clerk)
    actions = list(case.timeline.values_list("action", flat=True))
    assert actions == [
        "register",
        "start",
        "request_supplement",
        "supplement_received",
        "document_added",
        "settle",
        "deliver",
        "close",
    ]


def test_clerk_pages_and_actions(client, clerk, gmina, monkeypatch):
    case, _ = paper_case(gmina, applicant_name="<script>alert(1)</script>")
    client.force_login(clerk)
    inbox = client.get("/urzad/sprawy/").content.decode()
    assert case.sign in inbox and "<script>alert(1)</script>" not in inbox
    page = client.get(f"/urzad/sprawy/{case.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and 'data-action="start"' in page
    client.post(f"/urzad/sprawy/{case.pk}/", {"action": "assign", "assignee": clerk.pk})
    client.post(f"/urzad/sprawy/{case.pk}/", {"action": "start", "note": "zaczynam"})
    client.post(f"/urzad/sprawy/{case.pk}/", {"action": "note", "note": "notatka wewnętrzna"})
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS and case.assigned_to == clerk
    assert not case.timeline.get(action="note").public and not case.timeline.get(action="assign").public
    assert case.sign in client.get("/urzad/sprawy/", {"q": case.sign}).content.decode()
    # overdue the day after the deadline, not on it, whatever today's date is
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: case.deadline)
    assert case.sign not in client.get("/urzad/sprawy/", {"f": "overdue"}).content.decode()
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: case.deadline + timedelta(days=1))
    assert case.sign in client.get("/urzad/sprawy/", {"f": "overdue"}).content.decode()


def test_offices_do_not_see_each_others_cases(client, clerk, county_clerk, gmina, make_user):
    case, _ = paper_case(gmina)
    client.force_login(county_clerk)
    assert case.sign not in client.get("/urzad/sprawy/").content.decode()
    assert client.get(f"/urzad/sprawy/{case.pk}/").status_code == 404
    assert client.post(f"/urzad/sprawy/{case.pk}/", {"action": "start"}).status_code == 404
    with pytest.raises(Forbidden):
        case_transition(case.pk, "start", actor=county_clerk)
    client.force_login(make_user("obyw", "citizen"))
    assert client.get("/urzad/sprawy/").status_code == 403


def test_applicant_sees_only_public_entries(clerk, gmina):
    case, access = paper_case(gmina)
    from services.cases.actions import case_note_add

    case_note_add(case.pk, actor=clerk, note="TAJNA notatka", public=False)
    case_transition(case.pk, "start", actor=clerk, note="jawny komentarz")
    body = public_client().post("/status/", {"reference": case.sign, "access_code": access}).content.decode()
    assert "jawny komentarz" in body and "TAJNA" not in body


def test_status_guessing_reveals_nothing_and_is_throttled(gmina):
    case, access = paper_case(gmina)
    c = Client(REMOTE_ADDR=f"guess-{uuid.uuid4()}")  # the throttle counts per client address (in Redis)

    def answer(html: str) -> str:
        return html.split('role="alert"')[1].split("</p>")[0]

    wrong = c.post("/status/", {"reference": case.sign, "access_code": "WRONGCODE1"}).content.decode()
    missing = c.post("/status/", {"reference": "XX.1.1.2026", "access_code": "WRONGCODE1"}).content.decode()
    assert case.subject not in wrong and answer(wrong) == answer(missing)
    for _ in range(12):
        r = c.post("/status/", {"reference": case.sign, "access_code": "WRONGCODE1"})
    assert r.status_code == 429
    assert (
        c.post("/status/", {"reference": case.sign, "access_code": access}).status_code == 429
    )  # even the right one
    other = Client(REMOTE_ADDR=f"other-{uuid.uuid4()}")
    assert other.post("/status/", {"reference": case.sign, "access_code": access}).status_code == 200


# ------------------------------------------------------------------ notifications
def test_stage_changes_are_mailed(clerk, gmina, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case, _ = paper_case(gmina)
        case_transition(case.pk, "start", actor=clerk)
        case_transition(case.pk, "assign", actor=clerk, assignee=clerk)  # internal: no e-mail
    assert [m.to for m in mail.outbox] == [["jan@example.pl"], ["jan@example.pl"]]
    assert case.sign in mail.outbox[1].subject


class _SMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive a message (for the test below)."""

    def handle(self):
        self.wfile.write(b"220 test\r\n")
        data, in_data = [], False
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace")
            if in_data:
                if line in (".\r\n", ".\n"):
                    in_data = False
                    self.server.messages.append("".join(data))
                    self.wfile.write(b"250 ok\r\n")
                else:
                    data.append(line)
                continue
            cmd = line[:4].upper()
            if cmd == "DATA":
                in_data = True
                self.wfile.write(b"354 go\r\n")
            elif cmd == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif cmd == "EHLO":
                self.wfile.write(b"250 test\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")


def test_mail_through_a_local_smtp_server(clerk, gmina, settings, django_capture_on_commit_callbacks):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTP)
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case, _ = paper_case(gmina)
            case_transition(case.pk, "start", actor=clerk)
    finally:
        server.shutdown()
    assert len(server.messages) == 2 and "jan@example.pl" in server.messages[1]


# ------------------------------------------------------------------ calendar API and page
@pytest.mark.parametrize(
    "start, period, end",
    [
        ("2021-11-03", "P14D", "2021-11-17"),
        ("2021-11-03", "P2W", "2021-11-17"),
        ("2021-06-30", "P3M", "2021-09-30"),
        ("2026-12-10", "P14D", "2026-12-28"),
        ("2027-01-31", "P1M", "2027-03-01"),
    ],
)
def test_deadline_api(client, start, period, end):
    r = client.get("/api/calendar/deadline", {"start": start, "period": period})
    assert r.status_code == 200 and r.json()["end"] == end


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13-01", "period": "P1D"},
        {"start": "2026-01-01", "period": "P1M2D"},
        {"start": "2026-01-01", "period": "1 month"},
        {"start": "2026-01-01"},
        {},
    ],
)
def test_deadline_api_bad_input(client, params):
    r = client.get("/api/calendar/deadline", params)
    assert r.status_code == 400 and r["Content-Type"] == "application/problem+json"


def test_deadline_page(client):
    r = client.get("/terminy/", {"start": "2026-12-10", "period": "P14D"})
    assert r.status_code == 200 and "28" in r.content.decode()


def test_art36_delay_notice_is_a_document(client, clerk, gmina, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2026, 12, 11))
    case, _ = paper_case(gmina, received_on=date(2026, 12, 10))
    with pytest.raises(InvalidInput):
        case_transition(case.pk, "notify_delay", actor=clerk, new_date=date(2027, 2, 1))
    case = case_transition(
        case.pk, "notify_delay", actor=clerk, new_date=date(2027, 2, 1), note="opinia innego organu"
    )
    assert case.deadline == date(2027, 2, 1)
    doc = case.documents.get()
    assert doc.direction == "out" and doc.content_type == "application/pdf"
    client.force_login(clerk)
    r = client.get(f"/urzad/sprawy/{case.pk}/dokumenty/{doc.id}")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF-")


def test_inbox_filters_by_unit(client, clerk, gmina):
    a, _ = paper_case(gmina)
    b, _ = paper_case(gmina, unit_code="GN")
    client.force_login(clerk)
    page = client.get("/urzad/sprawy/", {"unit": "GN"}).content.decode()
    assert b.sign in page and a.sign not in page


def test_suspension_does_not_count(clerk, gmina, monkeypatch):
    today = {"d": date(2026, 12, 11)}
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today["d"])
    case, _ = paper_case(gmina, received_on=date(2026, 12, 10), deadline_kind="one_month")
    assert case.deadline == date(2027, 1, 11)  # 10 Jan 2027 is a Sunday
    case = case_transition(case.pk, "start", actor=clerk)
    case = case_transition(case.pk, "suspend", actor=clerk, note="postępowanie w innej sprawie")
    assert case.state == State.SUSPENDED and case.supplement_due is None
    today["d"] = date(2027, 1, 20)
    case = case_transition(case.pk, "resume", actor=clerk)
    # 11 Dec – 20 Jan paused (41 days) → 10 Jan + 41 = 20 Feb 2027 (Saturday) → Mon 22 Feb
    assert case.state == State.IN_PROGRESS and case.deadline == date(2027, 2, 22)
