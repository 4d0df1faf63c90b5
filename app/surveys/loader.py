"""Reading, checking and building survey definitions from YAML files.

Every problem is reported with file, line and path, all at once, so an author
fixes a definition in one pass; nothing is half-loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from app.surveys import places
from app.surveys.definition import (
    SPECIAL_FLAGS,
    Choice,
    Definition,
    MatrixRow,
    Page,
    Question,
    Quota,
    Settings,
    Text,
)
from app.surveys.expressions import Expression, ExpressionError, parse
from app.surveys.question_types import QUESTION_TYPES

SCHEMA_FILE = Path(__file__).resolve().parent / "definition.schema.json"
COMMON_KEYS = frozenset(
    {
        "id",
        "type",
        "label",
        "hint",
        "required",
        "read_only",
        "relevant",
        "constraint",
        "constraint_message",
        "purpose",
        "contact",
    }
)
TEXT_KEYS = frozenset(
    {
        "title",
        "description",
        "label",
        "hint",
        "constraint_message",
        "message",
        "min_label",
        "max_label",
        "unit",
    }
)
YES_NO = ("yes", "no")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '(top)'}: {self.message}"


class DefinitionError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Source:
    """One definition file as plain data; line numbers are found only when needed."""

    file: str
    data: Any
    text: str = ""
    _lines: dict[Path_, int] | None = field(default=None, repr=False)

    @property
    def id(self) -> str | None:
        return self.data.get("id") if isinstance(self.data, dict) else None

    @property
    def lines(self) -> dict[Path_, int]:
        if self._lines is None:
            # The round-trip parser knows every line but is ten times slower than the
            # C-backed safe one, so it runs only when a problem has to be located.
            self._lines = {(): 1}
            if self.text:
                with contextlib.suppress(YAMLError):
                    _plain(YAML(typ="rt").load(self.text), (), self._lines)
        return self._lines

    def line(self, path: Path_) -> int | None:
        lines = self.lines
        while path:
            if path in lines:
                return lines[path]
            path = path[:-1]
        return lines.get(())


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _plain(node: Any, path: Path_, lines: dict[Path_, int]) -> Any:
    """Parsed YAML to JSON-like data, noting the 1-based line of each path when known."""
    if isinstance(node, dict):
        result = {}
        for key in node:
            if isinstance(node, CommentedMap):
                lines[(*path, str(key))] = node.lc.key(key)[0] + 1
            result[str(key)] = _plain(node[key], (*path, str(key)), lines)
        return result
    if isinstance(node, list):
        result = []
        for index, item in enumerate(node):
            if isinstance(node, CommentedSeq):
                lines[(*path, index)] = node.lc.item(index)[0] + 1
            result.append(_plain(item, (*path, index), lines))
        return result
    if isinstance(node, datetime | date):
        return node.isoformat()
    if isinstance(node, str):
        return str(node)
    return node


def _load_yaml(text: str) -> Any:
    try:
        return YAML(typ="safe").load(text)  # C-backed: fast for the usual case
    except YAMLError:
        # The C scanner rejects a few plain scalars that YAML 1.2 allows (a "?" inside
        # a flow mapping); the pure parser is the reference, so it has the last word.
        return YAML(typ="rt").load(text)


def parse_source(text: str, file: str) -> tuple[Source | None, list[Problem]]:
    try:
        raw = _load_yaml(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(error, "problem", None) or error
        return None, [Problem(file, line, "", f"not valid YAML: {problem}")]
    data = _plain(raw, (), {})
    if not isinstance(data, dict):
        return None, [Problem(file, 1, "", "a definition must be a mapping of keys")]
    return Source(file, data, text), []


def dump_yaml(data: Mapping[str, Any]) -> str:
    """A definition as block-style YAML, non-ASCII text kept readable."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    out = io.StringIO()
    yaml.dump(dict(data), out)
    return out.getvalue()


def read_source(path: Path) -> tuple[Source | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(str(path), None, "", f"cannot read the file: {error}")]
    return parse_source(text, str(path))


@cache
def _schema_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def _schema_problems(source: Source) -> list[Problem]:
    problems: list[Problem] = []
    for error in _schema_validator().iter_errors(source.data):
        problems.extend(schema_error_problems(source, error))
    return problems


def schema_error_problems(source: Source, error) -> list[Problem]:
    """One schema error as problems that point at the offending key itself."""
    if error.validator == "oneOf" and isinstance(error.instance, dict) and error.context:
        # Speak of the alternative that got furthest, not "matches none of".
        best = max(error.context, key=lambda sub: len(sub.absolute_path))
        return schema_error_problems(source, best)
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        return [Problem(source.file, source.line((*path, key)), format_path((*path, key)),
                        f"unknown key {key!r}")
                for key in sorted(set(error.instance) - known)]
    return [Problem(source.file, source.line(path), format_path(path), error.message)]


def translation_problems(source: Source, node: Any, languages: list[str],
                         text_keys: Iterable[str], path: Path_ = ()) -> list[Problem]:
    """Every translatable text under `node` must exist, non-empty, in every language."""
    problems: list[Problem] = []
    keys = frozenset(text_keys)

    def add(where: Path_, message: str) -> None:
        problems.append(Problem(source.file, source.line(where), format_path(where), message))

    def walk(item: Any, where: Path_) -> None:
        if isinstance(item, dict):
            for key, value in item.items():
                if key in keys and isinstance(value, dict):
                    missing = [lang for lang in languages if not str(value.get(lang) or "").strip()]
                    if missing:
                        add((*where, key), f"missing translation: {', '.join(missing)}")
                    extra = sorted(set(value) - set(languages))
                    if extra:
                        add((*where, key), f"language not listed in languages: {', '.join(extra)}")
                else:
                    walk(value, (*where, key))
        elif isinstance(item, list):
            for index, value in enumerate(item):
                walk(value, (*where, index))

    walk(node, path)
    return problems


def content_hash(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Checking ---------------------------------------------------------------------


class _Checker:
    """Cross-checks the schema cannot express, on a definition with includes resolved."""

    def __init__(self, source: Source, modules: Mapping[str, Source]) -> None:
        self.source = source
        self.modules = modules
        self.problems: list[Problem] = []
        self.languages: list[str] = list(source.data.get("languages") or [])

    def add(self, path: Path_, message: str, source: Source | None = None) -> None:
        source = source or self.source
        self.problems.append(Problem(source.file, source.line(path), format_path(path), message))

    def check_texts(self, node: Any, path: Path_, source: Source) -> None:
        self.problems.extend(translation_problems(source, node, self.languages, TEXT_KEYS, path))


@dataclass
class _Located:
    """A page or question with the file and path it came from (for messages)."""

    data: dict
    source: Source
    path: Path_


def resolve_pages(
    source: Source, modules: Mapping[str, Source], checker: _Checker, seen: tuple[str, ...] = ()
) -> list[_Located]:
    pages: list[_Located] = []
    for index, page in enumerate(source.data.get("pages") or []):
        path = ("pages", index)
        if not isinstance(page, dict):
            continue
        if "include" in page:
            name = page["include"]
            module = modules.get(name)
            if module is None:
                checker.add((*path, "include"), f"no module named {name!r} in surveys/", source)
            elif module.data.get("kind") != "module":
                checker.add((*path, "include"), f"{name!r} is a survey, not a module", source)
            elif name in seen or name == source.id:
                checker.add((*path, "include"), f"{name!r} includes itself", source)
            else:
                missing = set(checker.languages) - set(module.data.get("languages") or [])
                if missing:
                    checker.add(
                        (*path, "include"),
                        f"module {name!r} lacks languages: {', '.join(sorted(missing))}",
                        source,
                    )
                pages.extend(resolve_pages(module, modules, checker, (*seen, source.id or "")))
        else:
            pages.append(_Located(page, source, path))
    return pages


def _merged_choice_lists(
    source: Source, modules: Mapping[str, Source], pages: list[_Located], checker: _Checker
) -> dict[str, list]:
    lists: dict[str, list] = dict(source.data.get("choice_lists") or {})
    for module_source in {id(p.source): p.source for p in pages}.values():
        if module_source is source:
            continue
        for name, items in (module_source.data.get("choice_lists") or {}).items():
            if name in lists and lists[name] != items:
                checker.add(
                    ("choice_lists", name),
                    f"choice list {name!r} differs from the one in module {module_source.id!r}",
                )
            lists.setdefault(name, items)
    return lists


def _compile(
    expression: str,
    path: Path_,
    checker: _Checker,
    source: Source,
) -> Expression | None:
    try:
        return parse(expression)
    except ExpressionError as error:
        at = f" (at character {error.position + 1})" if error.position is not None else ""
        checker.add(path, f"expression error{at}: {error.message}", source)
        return None


def check_and_build(
    source: Source, modules: Mapping[str, Source]
) -> tuple[Definition | None, list[Problem]]:
    """Validate one definition (schema, then cross-checks) and build it if clean."""
    problems = _schema_problems(source)
    if problems:
        return None, problems
    data = source.data
    checker = _Checker(source, modules)
    stem = Path(source.file).stem
    if stem != data["id"] and not source.file.startswith("<"):
        checker.add(("id",), f"id {data['id']!r} does not match the file name {stem!r}")
    if data["default_language"] not in data["languages"]:
        checker.add(("default_language",), "default_language is not one of languages")

    pages = resolve_pages(source, modules, checker)
    for located in [None, *pages]:
        target = located.source if located else source
        node = located.data if located else {k: v for k, v in data.items() if k != "pages"}
        checker.check_texts(node, located.path if located else (), target)
    choice_lists = _merged_choice_lists(source, modules, pages, checker)
    for name, items in choice_lists.items():
        values = [item["value"] for item in items]
        if len(values) != len(set(values)):
            checker.add(("choice_lists", name), "duplicate choice values")

    builder = _Builder(data, checker, choice_lists)
    built_pages = builder.build_pages(pages)
    settings = builder.build_settings()
    if checker.problems:
        return None, sorted(checker.problems, key=lambda p: (p.file, p.line or 0, p.path))

    language = data["default_language"]
    resolved = dict(data)
    resolved["pages"] = [p.data for p in pages]
    resolved["choice_lists"] = choice_lists
    definition = Definition(
        id=data["id"],
        kind=data["kind"],
        version=data["version"],
        default_language=language,
        languages=tuple(data["languages"]),
        title=Text(data["title"], language),
        description=Text(data["description"], language) if data.get("description") else None,
        consent_purposes=tuple(data.get("consent_purposes") or ()),
        consent_document=data.get("consent_document"),
        settings=settings,
        pages=built_pages,
        data=resolved,
    )
    return definition, []


class _Builder:
    def __init__(self, data: dict, checker: _Checker, choice_lists: dict[str, list]) -> None:
        self.data = data
        self.checker = checker
        self.choice_lists = choice_lists
        self.language = data["default_language"]
        self.known: dict[str, int] = {}  # reference name -> page index where it is defined
        self.types: dict[str, str] = {}

    def text(self, value: dict | None) -> Text | None:
        return Text(value, self.language) if value else None

    def build_pages(self, pages: list[_Located]) -> tuple[Page, ...]:
        page_ids: set[str] = set()
        for page_index, located in enumerate(pages):
            if located.data["id"] in page_ids:
                self.checker.add(
                    (*located.path, "id"),
                    f"duplicate page id {located.data['id']!r}",
                    located.source,
                )
            page_ids.add(located.data["id"])
            for q_index, question in enumerate(located.data["questions"]):
                qid = question["id"]
                path = (*located.path, "questions", q_index, "id")
                if qid in self.types:
                    self.checker.add(path, f"duplicate question id {qid!r}", located.source)
                self.types[qid] = question["type"]
                self.known[qid] = page_index
                for row in question.get("rows") or []:
                    self.known[f"{qid}.{row['id']}"] = page_index
        built = []
        for page_index, located in enumerate(pages):
            relevant = self.expression(
                located, ("relevant",), located.data.get("relevant"), page_index, same_page_ok=False
            )
            questions = tuple(
                self.build_question(located, index, question, page_index)
                for index, question in enumerate(located.data["questions"])
            )
            built.append(
                Page(
                    located.data["id"],
                    self.text(located.data.get("title")),
                    self.text(located.data.get("description")),
                    relevant,
                    questions,
                )
            )
        return tuple(built)

    def expression(
        self,
        located: _Located,
        key_path: Path_,
        source_text: str | None,
        page_index: int,
        *,
        same_page_ok: bool = True,
        current_ok: bool = False,
        choice_ok: bool = False,
        own_id: str | None = None,
    ) -> Expression | None:
        if not source_text:
            return None
        path = (*located.path, *key_path)
        expression = _compile(source_text, path, self.checker, located.source)
        if expression is None:
            return None
        for name in sorted(expression.references):
            where = self.known.get(name)
            if where is None:
                self.checker.add(path, f"refers to unknown question ${{{name}}}", located.source)
            elif name == own_id and not current_ok:
                self.checker.add(path, "refers to itself; use . for this answer", located.source)
            elif where > page_index or (where == page_index and not same_page_ok):
                self.checker.add(
                    path, f"refers to ${{{name}}}, which is asked later", located.source
                )
        if expression.uses_current and not current_ok:
            self.checker.add(
                path, "'.' (this answer) is only allowed in a constraint", located.source
            )
        if expression.choice_fields and not choice_ok:
            self.checker.add(
                path, "choice fields are only allowed in a choice_filter", located.source
            )
        return expression

    def choices(self, located: _Located, path: Path_, question: dict) -> tuple[Choice, ...]:
        kind = question["type"]
        spec = question.get("choices")
        items: list[dict] = []
        if kind == "yes_no":
            items = [{"value": value} for value in YES_NO]
        elif kind == "country":
            items = [{"value": code} for code in places.country_codes()]
        elif kind == "nuts_region":
            items = [
                {"value": r.code, "country": r.country}
                for r in places.regions_at(int(question.get("level", 2)))
            ]
        elif kind == "rating":
            items = []
        elif QUESTION_TYPES[kind].uses_choices:
            if spec is None:
                self.checker.add(path, f"a {kind} question needs choices", located.source)
            elif isinstance(spec, str):
                if spec not in self.choice_lists:
                    self.checker.add(
                        (*path, "choices"), f"no choice list named {spec!r}", located.source
                    )
                items = list(self.choice_lists.get(spec, []))
            else:
                items = list(spec)
        values = [item["value"] for item in items]
        if len(values) != len(set(values)):
            self.checker.add((*path, "choices"), "duplicate choice values", located.source)
        choices = [
            Choice(
                item["value"],
                self.text(item.get("label")),
                {k: v for k, v in item.items() if k not in {"value", "label"}},
            )
            for item in items
        ]
        for flag, value in SPECIAL_FLAGS.items():
            if question.get(flag):
                choices.append(Choice(value, None))
        return tuple(choices)

    def build_question(
        self, located: _Located, index: int, question: dict, page_index: int
    ) -> Question:
        path = (*located.path, "questions", index)
        kind = question["type"]
        qtype = QUESTION_TYPES[kind]
        allowed = COMMON_KEYS | qtype.extra_keys
        for key in sorted(set(question) - allowed):
            self.checker.add(
                (*path, key), f"{key!r} does not apply to a {kind} question", located.source
            )
        if kind != "calculate" and not question.get("label"):
            self.checker.add(path, f"a {kind} question needs a label", located.source)
        if kind == "calculate" and not question.get("calculation"):
            self.checker.add(path, "a calculate question needs a calculation", located.source)
        if kind == "matrix" and not question.get("rows"):
            self.checker.add(path, "a matrix question needs rows", located.source)
        qid = question["id"]

        def compiled(key: str, **allowed: bool) -> Expression | None:
            return self.expression(located, ("questions", index, key), question.get(key),
                                   page_index, own_id=qid, **allowed)

        relevant = compiled("relevant")
        constraint = compiled("constraint", current_ok=True)
        calculation = compiled("calculation")
        choice_filter = compiled("choice_filter", choice_ok=True)
        self._check_numbers(located, path, question)
        purpose = question.get("purpose")
        if purpose and purpose not in (self.data.get("consent_purposes") or []):
            self.checker.add((*path, "purpose"), f"purpose {purpose!r} is not in this survey's "
                             "consent_purposes", located.source)
        if question.get("contact") and kind not in ("text", "email"):
            self.checker.add((*path, "contact"), "only text and email questions can hold "
                             "contact details", located.source)
        if kind == "nuts_region" and question.get("country_question"):
            target = question["country_question"]
            if self.types.get(target) != "country":
                self.checker.add(
                    (*path, "country_question"),
                    f"{target!r} is not a country question",
                    located.source,
                )
        options = {
            k: v
            for k, v in question.items()
            if k in qtype.extra_keys
            and k not in {"choices", "choice_filter", "rows", "calculation"}
        }
        return Question(
            id=qid,
            type=kind,
            page_id=located.data["id"],
            label=self.text(question.get("label")),
            hint=self.text(question.get("hint")),
            required=bool(question.get("required")),
            read_only=bool(question.get("read_only")),
            relevant=relevant,
            constraint=constraint,
            constraint_message=self.text(question.get("constraint_message")),
            choices=self.choices(located, path, question),
            choice_filter=choice_filter,
            rows=tuple(
                MatrixRow(row["id"], self.text(row["label"])) for row in question.get("rows") or []
            ),
            calculation=calculation,
            options=options,
            purpose=question.get("purpose"),
            contact=bool(question.get("contact")),
        )

    def _check_numbers(self, located: _Located, path: Path_, question: dict) -> None:
        low, high = question.get("min"), question.get("max")
        if question["type"] == "date":
            for key in ("min", "max"):
                if question.get(key) is not None:
                    try:
                        date.fromisoformat(str(question[key]))
                    except ValueError:
                        self.checker.add(
                            (*path, key), "not an ISO date (YYYY-MM-DD)", located.source
                        )
            return
        for key, value in (("min", low), ("max", high)):
            if isinstance(value, str):
                self.checker.add((*path, key), "must be a number", located.source)
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            self.checker.add((*path, "min"), "min is greater than max", located.source)
        least, most = question.get("min_selected"), question.get("max_selected")
        if least is not None and most is not None and least > most:
            self.checker.add(
                (*path, "min_selected"), "min_selected is greater than max_selected", located.source
            )

    def build_settings(self) -> Settings:
        raw = self.data.get("settings") or {}
        quotas = []
        for index, quota in enumerate(raw.get("quotas") or []):
            path = ("settings", "quotas", index, "when")
            expression = _compile(quota["when"], path, self.checker, self.checker.source)
            if expression is not None:
                unknown = sorted(n for n in expression.references if n not in self.known)
                if unknown:
                    self.checker.add(path, f"refers to unknown question ${{{unknown[0]}}}")
                quotas.append(
                    Quota(quota["id"], expression, quota["limit"], self.text(quota.get("message")))
                )
        return Settings(
            mode=raw.get("mode", "anonymous"),
            opens=self._when(raw.get("opens"), "opens"),
            closes=self._when(raw.get("closes"), "closes"),
            response_limit=raw.get("response_limit"),
            quotas=tuple(quotas),
            result_page=bool(raw.get("result_page")),
        )

    def _when(self, value: str | None, key: str) -> datetime | None:
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.checker.add(("settings", key), "not an ISO 8601 date and time")
            return None
        if moment.tzinfo is None:
            self.checker.add(("settings", key), "give a time zone, e.g. 2026-01-31T23:59:00Z")
            return None
        return moment


# Many files ---------------------------------------------------------------------

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class LoadResult:
    definitions: dict[str, Definition]
    modules: dict[str, Source]
    sources: dict[str, Source]
    problems: list[Problem]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        else:
            files.append(path)
    return files


def load_definitions(paths: Iterable[Path], library: Iterable[Path] = ()) -> LoadResult:
    """Check and build the definitions in `paths`; modules may also come from `library`."""
    problems: list[Problem] = []
    sources: dict[str, Source] = {}
    requested: list[str] = []
    for path in expand_paths(paths):
        source, found = read_source(path)
        problems.extend(found)
        if source is None:
            continue
        if not source.id:
            problems.extend(
                _schema_problems(source)
                or [Problem(source.file, 1, "id", "the definition has no id")]
            )
            continue
        if source.id in sources:
            problems.append(
                Problem(
                    source.file,
                    source.line(("id",)),
                    "id",
                    f"id {source.id!r} is also used by {sources[source.id].file}",
                )
            )
            continue
        sources[source.id] = source
        requested.append(source.id)
    modules = dict(sources)
    for path in expand_paths(library):
        if path.resolve() in {Path(s.file).resolve() for s in sources.values()}:
            continue
        source, _ = read_source(path)
        if source is not None and source.id and source.id not in modules:
            modules[source.id] = source
    definitions: dict[str, Definition] = {}
    for survey_id in requested:
        definition, found = check_and_build(sources[survey_id], modules)
        # A module's problem is found again through every survey that includes it.
        problems.extend(p for p in found if p not in problems)
        if definition is not None:
            definitions[survey_id] = definition
    return LoadResult(definitions, modules, sources, problems)
