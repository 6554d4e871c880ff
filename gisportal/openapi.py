"""The OpenAPI 3.0 document of the portal's JSON API (/api/openapi.json), so that other front-ends
and offices' systems can file forms and follow imports. Kept next to the URL table it describes."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_GET

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "gisportal API", "version": "1.0",
                 "description": "E-forms of the Piaseczno offices, their fees and registry imports. Errors are RFC 9457 problem "
                                "details. Authentication: offices' systems send an API key as `Authorization: Bearer "
                                "<key>` (or `X-API-Key: <key>`); keys are issued by the portal's administrator "
                                "(`gisportal api-key create`), shown once and stored only hashed. An unknown, revoked "
                                "or expired key is a 401, never anonymous access. Browsers use the portal session "
                                "(with the CSRF token). HTTP Basic still works for existing systems but is "
                                "throttled: repeated wrong passwords lock the account (from that address) and the "
                                "address for a while, answered with 429 and Retry-After."},
        "servers": [{"url": settings.GISPORTAL_PUBLIC_URL}],
        "security": [{"apiKey": []}, {"apiKeyHeader": []}, {"basic": []}, {"session": []}],
        "paths": {
            "/api/services/": {"get": {
                "summary": "Active e-services with their data schema and page layout", "security": [],
                "responses": {"200": {"description": "the catalogue", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}}}}}}}}},
            "/api/services/{code}": {"get": {
                "summary": "One e-service", "security": [],
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the service", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Service"}}}}, "404": _problem("no such service")}}},
            "/api/fees/quote": {"get": {
                "summary": "The official fee of an e-service for the given data (DOMAIN.md §6): lines, total (a range "
                           "while the office does not know the page count), the other form's price, who is paid",
                "security": [],
                "parameters": [{"name": n, "in": "query", "required": n == "service", "schema": t, "description": d} for n, t, d in (
                    ("service", {"type": "string"}, "the e-service's code (/api/services/)"),
                    ("parcels", {"type": "string"}, "parcel identifiers, comma-separated (at most 20)"),
                    ("variant", {"type": "string"}, "wypis-wyrys-egib: the document variant of the form"),
                    ("form", {"type": "string", "enum": ["electronic", "paper"]}, "wypis-wyrys-egib"),
                    ("product", {"type": "string", "enum": ["wypis", "wyrys", "wypis_wyrys"]}, "wypis-wyrys-mpzp"),
                    ("copies", {"type": "integer", "minimum": 1}, "wypis-wyrys-mpzp"),
                    ("pages", {"type": "integer", "minimum": 0}, "pages of the wypis, when known"),
                    ("parts", {"type": "integer", "minimum": 0}, "started A4 parts of the wyrys, when known"),
                    ("housing_exemption", {"type": "boolean"}, "zaswiadczenie-mpzp"))],
                "responses": {"200": {"description": "the quote", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/FeeQuote"}}}},
                    "400": _problem("unknown parameter, bad value or a parcel not in the register"), "404": _problem("no such service")}}},
            "/api/submissions/": {"post": {
                "summary": "File a form; the answer carries the receipt's verification code",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 100},
                                "description": "Repeating a request with the same key returns the first submission; "
                                               "the same key with other data is a 409."}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["service", "data"], "properties": {
                        "service": {"type": "string"}, "version": {"type": "integer"},
                        "data": {"type": "object", "description": "valid against the service's schema"}}}}}},
                "responses": {"201": {"description": "filed", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Submission"}}}},
                    "400": _problem("not JSON"), "401": _problem("not authenticated"), "403": _problem("not allowed to file this form"),
                    "404": _problem("no such service"), "409": _problem("form version gone or Idempotency-Key reused"),
                    "422": _problem("invalid data; `errors` maps fields to messages"),
                    "429": _problem("HTTP Basic locked out after repeated wrong passwords; see Retry-After")}}},
            "/api/submissions/{id}": {"get": {
                "summary": "One of my submissions",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}],
                "responses": {"200": {"description": "the submission", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Submission"}}}}, "401": _problem("not authenticated"), "404": _problem("not found")}}},
            "/api/imports/": {"post": {
                "summary": "Start a registry import (staff of the office that keeps the layer)",
                "description": "EGiB layers are the county's (starosta), `adresy` and `mpzp` the gmina's, `granice` the "
                               "voivodeship geodesist's; objects outside the office's area fail the whole job. "
                               "`dry_run` validates and reports without writing. The file's format is read from its "
                               "bytes: EGiB GML, GeoPackage, GeoJSON or one zipped Shapefile; nothing else is opened.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"}, "policy": {"type": "string", "enum": ["reject", "repair", "strict"]},
                        "layer": {"type": "string"}, "mapping": {"type": "string"},
                        "srs": {"type": "string", "pattern": "^(EPSG:)?[0-9]{4,6}$"}, "encoding": {"type": "string"},
                        "dry_run": {"type": "boolean"}}}}}},
                "responses": {"202": {"description": "the job, queued"}, "401": _problem("not authenticated"),
                              "403": _problem("not allowed, or a layer the office does not keep"),
                              "400": _problem("invalid upload")}},
                "get": {"summary": "The import jobs of the caller's office (newest first, at most 100)",
                        "responses": {"200": {"description": "the jobs"}, "401": _problem("not authenticated"),
                                      "403": _problem("not allowed")}}},
            "/api/imports/{id}": {"get": {
                "summary": "Progress and report of an import job",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "progress and report"}, "404": _problem("not found")}}},
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "gp_<43 characters>",
                                           "description": "API key of an office's system (gisportal api-key create)"},
                                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                                 "description": "the same key in its own header"},
                                "basic": {"type": "http", "scheme": "basic",
                                          "description": "user name and password; throttled (429 when locked out)"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"}},
            "schemas": {
                "Problem": {"type": "object", "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}, "errors": {"type": "object", "additionalProperties": {
                        "type": "array", "items": {"type": "string"}}}}},
                "Service": {"type": "object", "properties": {
                    "code": {"type": "string"}, "version": {"type": "integer"}, "title": {"type": "object"},
                    "description": {"type": "object"}, "legal_basis": {"type": "string"}, "service_kind": {"type": "string"},
                    "jrwa": {"type": "string"}, "fee": {"type": "object"}, "deadline_days": {"type": "integer", "nullable": True},
                    "schema": {"type": "object", "description": "JSON Schema 2020-12 of `data`; `x-validator` names a "
                                                                "Polish identifier check, `x-registry` a registry check"},
                    "layout": {"type": "object"}, "form_url": {"type": "string"}}},
                "FeeQuote": {"type": "object", "properties": {
                    "service": {"type": "string"}, "rule": {"type": "string"},
                    "kind": {"type": "string", "enum": ["pgik", "stamp_duty", "none"]}, "currency": {"type": "string"},
                    "total": {"type": "string", "nullable": True, "description": "PLN with two decimals; null: set in a DOO"},
                    "total_max": {"type": "string", "nullable": True}, "final": {"type": "boolean"},
                    "other_form_total": {"type": "string", "nullable": True}, "legal_basis": {"type": "string"},
                    "lines": {"type": "array", "items": {"type": "object", "properties": {
                        "label": {"type": "string"}, "quantity": {"type": "integer"}, "unit_price": {"type": "string"},
                        "amount": {"type": "string"}, "amount_max": {"type": "string"}}}},
                    "notes": {"type": "array", "items": {"type": "string"}},
                    "payee": {"type": "object", "nullable": True, "properties": {
                        "office": {"type": "string"}, "account": {"type": "string", "nullable": True}, "how": {"type": "string"}}}}},
                "Submission": {"type": "object", "properties": {
                    "id": {"type": "string", "format": "uuid"}, "service": {"type": "string"}, "version": {"type": "integer"},
                    "office": {"type": "string"}, "office_name": {"type": "string"}, "received": {"type": "string", "format": "date-time"},
                    "sha256": {"type": "string"}, "parcels": {"type": "array", "items": {"type": "string"}},
                    "receipt": {"type": "object", "properties": {"verification_code": {"type": "string"},
                                                                 "issued": {"type": "string", "format": "date-time"},
                                                                 "verify_url": {"type": "string"}}}}},
            },
        },
    }


@require_GET
def openapi_json(request):
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
