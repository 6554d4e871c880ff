from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from gisportal import api
from gisportal.web import portal
from gisportal.web import views as web
from gisportal.web.forms import LoginForm
from layers import metadata_views
from layers.sources import views as sources
from ogc import views as ogc
from ogc.csw import views as csw
from ogc.ogcapi import views as ogcapi
from ogc.tiles import views as tiles
from services.cases import applicant
from services.cases import views as cases
from services.delivery import clerk as delivery_clerk
from services.delivery import views as delivery
from services.documents import views as documents
from services.exchange import views as exchange
from services.forms import views as forms
from services.logingov import views as logingov
from services.offices import imports
from services.payments import views as payments
from services.signatures import views as signatures
from services.surveys import review as survey_review
from services.surveys import views as surveys

urlpatterns = [
    path("", portal.map_page, name="map"),
    path("o-portalu/", web.home, name="home"),
    path("szukaj/", portal.search_page, name="search"),
    path("dzialka/<path:parcel_id>", portal.parcel_page, name="parcel"),
    path("healthz", web.healthz, name="healthz"),
    path("ows", ogc.ows, name="ows"),
    path("wms", ogc.wms_alias, name="wms"),
    path("wfs", ogc.wfs_alias, name="wfs"),
    path("metadane/<slug:name>.xml", ogc.metadata_record, name="metadata_record"),
    path("csw", csw.csw, name="csw"),
    path("ogcapi", ogcapi.landing, name="ogcapi"),
    path("ogcapi/", ogcapi.landing),
    path("ogcapi/openapi", ogcapi.openapi, name="ogcapi_openapi"),
    path("ogcapi/conformance", ogcapi.conformance, name="ogcapi_conformance"),
    path("ogcapi/collections", ogcapi.collections, name="ogcapi_collections"),
    path("ogcapi/collections/<str:collection_id>", ogcapi.collections, name="ogcapi_collection"),
    path("ogcapi/tileMatrixSets", tiles.tile_matrix_sets, name="tile_matrix_sets"),
    path("ogcapi/tileMatrixSets/<str:tms>", tiles.tile_matrix_set, name="tile_matrix_set"),
    path("ogcapi/collections/<str:collection_id>/tiles", tiles.tilesets, name="tilesets"),
    path(
        "ogcapi/collections/<str:collection_id>/tiles/<str:tms>/<int:z>/<int:y>/<int:x>",
        tiles.tile,
        name="tile",
    ),
    path("ogcapi/collections/<str:collection_id>/queryables", ogcapi.queryables, name="ogcapi_queryables"),
    path("ogcapi/collections/<str:collection_id>/schema", ogcapi.schema, name="ogcapi_schema"),
    path("ogcapi/collections/<str:collection_id>/items", ogcapi.items, name="ogcapi_items"),
    path("ogcapi/collections/<str:collection_id>/items/<path:item_id>", ogcapi.item, name="ogcapi_item"),
    path("konto/", web.account, name="account"),
    path("konto/logowanie/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("konto/start/", web.after_login, name="after_login"),
    path("konto/wylogowanie/", logingov.logout, name="logout"),
    path("konto/logingovpl/", logingov.start, name="logingov_login"),
    path("konto/logingovpl/polacz/", logingov.link, name="logingov_link"),
    path("konto/logingovpl/acs", logingov.acs, name="logingov_acs"),
    path("konto/logingovpl/metadata", logingov.metadata, name="logingov_metadata"),
    path("konto/logingovpl/slo", logingov.slo, name="logingov_slo"),
    path("konto/rejestracja/", web.register, name="register"),
    path("deklaracja-dostepnosci/", web.accessibility, name="accessibility"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("urzad/importy/", imports.import_list, name="import_list"),
    path("urzad/importy/<int:job_id>/", imports.import_detail, name="import_detail"),
    path("urzad/zadania/", web.failed_tasks, name="failed_tasks"),
    path("urzad/zrodla/", sources.source_list, name="source_list"),
    path("urzad/zrodla/<int:source_id>/", sources.source_detail, name="source_detail"),
    path("urzad/metadane/", metadata_views.metadata_list, name="metadata_list"),
    path("urzad/metadane/<slug:layer_name>/", metadata_views.metadata_edit, name="metadata_edit"),
    path("uslugi/", forms.service_list, name="service_list"),
    path("uslugi/<slug:code>/", forms.service_form, name="service_form"),
    path("wnioski/<uuid:submission_id>/", forms.submission_detail, name="submission_detail"),
    path(
        "wnioski/<uuid:submission_id>/upp.<str:fmt>",
        forms.submission_receipt_file,
        name="submission_receipt_file",
    ),
    path("verify/", forms.receipt_verify, name="receipt_verify"),
    path("verify/<str:code>", forms.receipt_verify, name="receipt_verify_code"),
    path("verify/<str:code>/oryginal.pdf", documents.document_original, name="document_original"),
    path("verify/<str:code>/kopia", documents.document_check_copy, name="document_check_copy"),
    path("dokumenty/<uuid:document_id>.pdf", documents.document_download, name="document_download"),
    path("urzad/dokumenty/<uuid:job_id>/podglad.pdf", documents.job_preview, name="document_job_preview"),
    path("urzad/dokumenty/<uuid:job_id>/wydaj", documents.job_issue, name="document_job_issue"),
    path(
        "urzad/dokumenty/korekta/<uuid:document_id>",
        documents.document_correction,
        name="document_correction",
    ),
    path("urzad/sprawy/", cases.inbox, name="case_inbox"),
    path("urzad/sprawy/nowa/", cases.paper_intake, name="case_paper_intake"),
    path("urzad/sprawy/<int:case_id>/", cases.case_page, name="case_page"),
    path("urzad/sprawy/<int:case_id>/dokumenty/<uuid:doc_id>", cases.case_document, name="case_document"),
    path(
        "urzad/sprawy/<int:case_id>/zalaczniki/<int:attachment_id>",
        cases.case_attachment,
        name="case_attachment",
    ),
    path(
        "urzad/sprawy/<int:case_id>/zalaczniki/<int:attachment_id>/podpis.pdf",
        cases.case_attachment_signature_pdf,
        name="case_attachment_signature_pdf",
    ),
    path(
        "urzad/sprawy/<int:case_id>/potwierdzenie/",
        cases.intake_confirmation,
        name="case_intake_confirmation",
    ),
    path("skrzynka/", delivery.inbox, name="delivery_inbox"),
    path("skrzynka/<uuid:delivery_id>/", delivery.delivery_detail, name="delivery_detail"),
    path("skrzynka/<uuid:delivery_id>/dokument", delivery.delivery_document, name="delivery_document"),
    path("skrzynka/<uuid:delivery_id>/upd.<str:fmt>", delivery.delivery_proof, name="delivery_proof"),
    path(
        "urzad/doreczenia/<uuid:delivery_id>/koperta.pdf",
        delivery_clerk.envelope,
        name="delivery_clerk_envelope",
    ),
    path(
        "urzad/doreczenia/<uuid:delivery_id>/zdarzenie",
        delivery_clerk.paper_event,
        name="delivery_clerk_event",
    ),
    path(
        "urzad/doreczenia/<uuid:delivery_id>/upd.xml",
        delivery_clerk.proof_xml,
        name="delivery_clerk_proof_xml",
    ),
    path(
        "urzad/doreczenia/<uuid:delivery_id>/upd.pdf",
        delivery_clerk.proof_pdf,
        name="delivery_clerk_proof_pdf",
    ),
    path("moje-sprawy/", applicant.my_cases, name="my_cases"),
    path("moje-sprawy/<int:case_id>/", applicant.my_case, name="my_case"),
    path(
        "moje-sprawy/<int:case_id>/dokumenty/<uuid:doc_id>",
        applicant.my_case_document,
        name="my_case_document",
    ),
    path("moje-sprawy/<int:case_id>/pakiet/", surveys.package_download, name="survey_package"),
    path("moje-sprawy/<int:case_id>/wyniki/", survey_review.hand_in, name="survey_results_hand_in"),
    path("urzad/prace/<str:kerg>/", survey_review.review, name="survey_review"),
    path("status/", applicant.status_page, name="case_status"),
    path("terminy/", cases.deadline_page, name="deadline_page"),
    path("podpis/", signatures.signature_check, name="signature_check"),
    path("podpis/raport/<str:token>.pdf", signatures.signature_report_pdf, name="signature_report_pdf"),
    path("platnosci/<uuid:payment_id>/", payments.payment_page, name="payment_page"),
    path("platnosci/<uuid:payment_id>/powrot/", payments.payment_return, name="payment_return"),
    path(
        "platnosci/<uuid:payment_id>/dokument.<str:fmt>", payments.payment_document, name="payment_document"
    ),
    path("platnosci/sandbox/<uuid:payment_id>/", payments.payment_sandbox, name="payment_sandbox"),
    path("urzad/platnosci/", payments.office_payments, name="office_payments"),
    path("urzad/platnosci/<uuid:payment_id>/", payments.office_payment, name="office_payment"),
    path("urzad/wymiana/", exchange.register, name="exchange_register"),
    path("urzad/wymiana/nowa/", exchange.new, name="exchange_new"),
    path("urzad/wymiana/<int:pk>/", exchange.envelope, name="exchange_envelope"),
    path("urzad/wymiana/<int:pk>/pliki/<int:n>", exchange.envelope_file, name="exchange_envelope_file"),
    *api.urlpatterns,  # /api/: the JSON API (django-ninja), its OpenAPI document and docs page
]

handler400 = "gisportal.web.views.error_400"
handler403 = "gisportal.web.views.error_403"
handler404 = "gisportal.web.views.error_404"
handler500 = "gisportal.web.views.error_500"
