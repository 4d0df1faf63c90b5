"""Consent documents: YAML files in surveys/consent/, checked like survey definitions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from app.surveys.definition import Text
from app.surveys.loader import (
    Problem,
    Source,
    read_source,
    schema_error_problems,
    translation_problems,
)

SCHEMA_FILE = Path(__file__).resolve().parent / "document.schema.json"
CONSENT_DIR = Path(__file__).resolve().parent.parent.parent / "surveys" / "consent"
TEXT_KEYS = ("title", "summary", "text", "description", "legal_basis", "data_categories", "name")


@dataclass(frozen=True)
class Purpose:
    id: str
    required: bool
    title: Text
    description: Text
    legal_basis: Text
    data_categories: Text
    retention_days: int
    special_category: bool


@dataclass(frozen=True)
class ConsentDefinition:
    id: str
    version: int
    default_language: str
    languages: tuple[str, ...]
    material_change: bool
    title: Text
    controller_name: Text
    controller_contact: str
    summary: Text
    text: Text
    purposes: tuple[Purpose, ...]
    data: Mapping[str, Any]

    def purpose(self, purpose_id: str) -> Purpose:
        return next(p for p in self.purposes if p.id == purpose_id)

    def language_for(self, requested: str) -> str:
        return requested if requested in self.languages else self.default_language

    def shown_text_hash(self, language: str, purpose_ids: list[str]) -> str:
        """Hash of exactly what a person read: the texts in their language and the purposes."""
        language = self.language_for(language)
        shown = {
            "summary": self.summary.get(language),
            "text": self.text.get(language),
            "purposes": [
                {key: getattr(self.purpose(pid), key).get(language)
                 for key in ("title", "description", "legal_basis", "data_categories")}
                for pid in purpose_ids
            ],
        }
        canonical = json.dumps(shown, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def check_and_build(source: Source) -> tuple[ConsentDefinition | None, list[Problem]]:
    problems: list[Problem] = []
    for error in _validator().iter_errors(source.data):
        problems += schema_error_problems(source, error)
    if problems:
        return None, problems
    data = source.data
    stem = Path(source.file).stem
    if stem != data["id"] and not source.file.startswith("<"):
        problems.append(Problem(source.file, source.line(("id",)), "id",
                                f"id {data['id']!r} does not match the file name {stem!r}"))
    if data["default_language"] not in data["languages"]:
        problems.append(Problem(source.file, source.line(("default_language",)),
                                "default_language", "default_language is not one of languages"))
    problems += translation_problems(source, data, data["languages"], TEXT_KEYS)
    ids = [p["id"] for p in data["purposes"]]
    if len(ids) != len(set(ids)):
        problems.append(Problem(source.file, source.line(("purposes",)), "purposes",
                                "duplicate purpose ids"))
    if problems:
        return None, problems
    lang = data["default_language"]
    purposes = tuple(
        Purpose(
            id=p["id"], required=bool(p.get("required")), title=Text(p["title"], lang),
            description=Text(p["description"], lang), legal_basis=Text(p["legal_basis"], lang),
            data_categories=Text(p["data_categories"], lang),
            retention_days=p["retention_days"], special_category=bool(p.get("special_category")),
        )
        for p in data["purposes"]
    )
    return ConsentDefinition(
        id=data["id"], version=data["version"], default_language=lang,
        languages=tuple(data["languages"]), material_change=data.get("material_change", True),
        title=Text(data["title"], lang), controller_name=Text(data["controller"]["name"], lang),
        controller_contact=data["controller"]["contact"], summary=Text(data["summary"], lang),
        text=Text(data["text"], lang), purposes=purposes, data=data,
    ), []


def load_documents(paths: list[Path] | None = None
                   ) -> tuple[dict[str, tuple[ConsentDefinition, Source]], list[Problem]]:
    """Every consent document in `paths` (default: surveys/consent/), checked."""
    files: list[Path] = []
    for path in paths or [CONSENT_DIR]:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    found: dict[str, tuple[ConsentDefinition, Source]] = {}
    problems: list[Problem] = []
    for file in files:
        source, errors = read_source(file)
        problems += errors
        if source is None:
            continue
        definition, errors = check_and_build(source)
        problems += errors
        if definition is not None:
            found[definition.id] = (definition, source)
    return found, problems
