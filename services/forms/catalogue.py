"""The service catalogue as data: `definitions/*.json` (plus shared fragments in `_common.json`)
become `ServiceDefinition` rows. Adding a service is a JSON file (and at most a validator); a changed
file must carry a new version, which replaces the active one (old versions stay for old submissions).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from jsonschema import Draft202012Validator

from gisportal.core.errors import ConfigurationError

from .deadlines import DEADLINES
from .validators import VALIDATORS

DEFINITIONS = Path(__file__).resolve().parent / "definitions"
WIDGETS = {
    "text",
    "textarea",
    "email",
    "tel",
    "date",
    "number",
    "select",
    "radio",
    "checkbox",
    "checkboxes",
    "parcels",
    "area",
}
ACCOUNT_FIELDS = {"licence_no"}  # `x-from-account`: the value is the account's, never what was sent
DEFAULT_ATTACHMENTS = {"max_files": 5, "required": False}


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def compile_definition(raw: dict, common: dict) -> dict:
    """A definition file with its `include`d fragments merged: a full JSON Schema and page layout."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": [],
        "properties": {},
    }
    sections = []
    rules: list[dict] = []  # the fragments' and the service's own conditions (if/then), all applied
    for name in raw.get("include", []):
        frag = common[name]
        schema["required"] += frag.get("required", [])
        schema["properties"].update(copy.deepcopy(frag["properties"]))
        rules += copy.deepcopy(frag.get("allOf", []))
        sections.append(copy.deepcopy(frag["section"]))
    own = copy.deepcopy(raw["schema"])
    schema["required"] += own.pop("required", [])
    schema["properties"].update(own.pop("properties", {}))
    rules += own.pop("allOf", [])
    schema.update(own)  # if/then/else and the like
    if rules:
        schema["allOf"] = rules
    layout = {
        "sections": [*sections[:1], *raw["layout"], *sections[1:]],
        "attachments": raw.get("attachments", DEFAULT_ATTACHMENTS),
    }
    for section in layout["sections"]:
        for f in section["fields"]:
            if "choices" in f:  # jsonb keeps no key order: the order written is kept as a list
                f["order"] = list(f["choices"])
    deadline = raw.get("deadline", "")
    if deadline not in DEADLINES:
        raise ConfigurationError(f"service definition {raw['code']}: unknown deadline {deadline!r}")
    check_definition(raw["code"], schema, layout)
    return {
        "code": raw["code"],
        "version": raw["version"],
        "service_kind": raw["service_kind"],
        "jrwa": raw["jrwa"],
        "title_pl": raw["title"]["pl"],
        "title_en": raw["title"]["en"],
        "description_pl": raw["description"]["pl"],
        "description_en": raw["description"]["en"],
        "legal_basis": raw["legal_basis"],
        "fee_rule": raw.get("fee_rule", ""),
        "fee_note_pl": raw.get("fee_note", {}).get("pl", ""),
        "fee_note_en": raw.get("fee_note", {}).get("en", ""),
        "deadline_days": DEADLINES[deadline][0],
        "deadline_kind": deadline,
        "capability": raw.get("capability", "submit_forms"),
        "schema": schema,
        "layout": layout,
    }


def check_definition(code: str, schema: dict, layout: dict) -> None:
    """A definition must be a valid JSON Schema whose every property has exactly one field on the
    page, and whose validators exist."""
    Draft202012Validator.check_schema(schema)
    fields = [f["name"] for s in layout["sections"] for f in s["fields"]]
    props = schema["properties"]
    problems = []
    if sorted(fields) != sorted(props):
        problems.append(f"fields {sorted(set(fields) ^ set(props))} not both in schema and layout")
    for s in layout["sections"]:
        for f in s["fields"]:
            if f.get("widget") not in WIDGETS:
                problems.append(f"{f['name']}: unknown widget {f.get('widget')}")
            if not f.get("label", {}).get("pl") or not f.get("label", {}).get("en"):
                problems.append(f"{f['name']}: label in pl and en required")
    for name, prop in props.items():
        validator = prop.get("x-validator") or prop.get("items", {}).get("x-validator")
        if validator and validator not in VALIDATORS:
            problems.append(f"{name}: unknown validator {validator}")
        if prop.get("x-from-account") and prop["x-from-account"] not in ACCOUNT_FIELDS:
            problems.append(f"{name}: unknown account field {prop['x-from-account']}")
        for source in prop.get("x-implied-by", {}):
            if source not in props:
                problems.append(f"{name}: implied by unknown field {source}")
    for s in layout["sections"]:
        for f in [s, *s["fields"]]:
            for other, values in f.get("show_if", {}).items():
                if other not in props or not isinstance(values, list):
                    problems.append(f"{f.get('name', 'section')}: show_if names unknown field {other}")
    if problems:
        raise ConfigurationError(f"service definition {code}: " + "; ".join(problems))


def sync(ServiceDefinition) -> None:
    """Bring the table of definitions up to the files (migrations call it with their historical model):
    a new version replaces the active one; rows keep what they were filed with, and get the kind of
    their deadline when the model has it (older rows: as the case register read their days)."""
    from .deadlines import kind_for_days

    fields = {f.name for f in ServiceDefinition._meta.get_fields()}
    current = {(d["code"], d["version"]): d for d in definitions()}
    for (code, version), d in current.items():
        if ServiceDefinition.objects.filter(code=code, version=version).exists():
            continue
        ServiceDefinition.objects.filter(code=code, active=True).update(active=False)
        ServiceDefinition.objects.create(active=True, **{k: v for k, v in d.items() if k in fields})
    if "deadline_kind" in fields:
        for row in ServiceDefinition.objects.filter(deadline_kind=""):
            d = current.get((row.code, row.version))
            row.deadline_kind = d["deadline_kind"] if d else kind_for_days(row.deadline_days)
            row.save(update_fields=["deadline_kind"])


def definitions() -> list[dict]:
    common = _load(DEFINITIONS / "_common.json")
    return [
        compile_definition(_load(p), common)
        for p in sorted(DEFINITIONS.glob("*.json"))
        if not p.name.startswith("_")
    ]
