"""XLSForm interop: read an XLSForm workbook into a survey definition dict and write one back.

Partners draft surveys in XLSForm spreadsheets (ODK, KoboToolbox), so we accept them as input
and can hand our definitions (format: surveys/README.md) back as XLSForm. Workbooks are read
with pyxform's own reader so that we see cells exactly as other XLSForm tools do.

Design decisions:

* Everything without an XLSForm column (our extra question types and keys, inline choice
  lists, top-level keys such as ``settings``) is kept in ``echos::type``, ``echos::choices``
  and ``echos::options`` (JSON) columns, so ``read_xlsform(write_xlsform(d)) == d`` for any
  definition of README.md. Other XLSForm tools ignore these columns.
* Problems with a whole column are reported on row 1 (the header), and only when the column
  holds a value: blank template columns carry nothing that is lost.
* A nested group is flattened into its page. If it has its own ``relevant``, that condition
  is and-ed into the ``relevant`` of each of its questions and a problem says so.
* In ``choice_filter`` the XLSForm ``name`` of a choice is our ``choice.value``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pyxform.xls2json_backends import xlsx_to_dict

__all__ = ["XLSFormError", "XLSFormProblem", "read_xlsform", "write_xlsform"]

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
HEADER_ROW = 1
ECHOS_TYPE, ECHOS_CHOICES, ECHOS_OPTIONS = "echos::type", "echos::choices", "echos::options"
INLINE, BUILTIN = "inline", "builtin"  # echos::choices markers for generated choice lists
PLACEHOLDER = "include"  # echos::type of a group row standing for a page without an id

NATIVE_LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "pt": "Português",
    "ar": "العربية",
}
LANGUAGE_CODES_BY_NAME = {name.casefold(): code for code, name in NATIVE_LANGUAGE_NAMES.items()}
LANGUAGE_CODES_BY_NAME |= {"german": "de", "french": "fr", "portuguese": "pt", "arabic": "ar"}
YES_NO_LABELS = {
    "en": ("Yes", "No"),
    "de": ("Ja", "Nein"),
    "fr": ("Oui", "Non"),
    "pt": ("Sim", "Não"),
    "ar": ("نعم", "لا"),
}

SUPPORTED_FUNCTIONS = frozenset(
    {"selected", "count-selected", "if", "string-length", "number", "round", "sum", "min", "max"}
    | {"coalesce", "true", "false", "not"}
)
OPERATOR_WORDS = frozenset({"and", "or", "div", "mod"})
TRUE_WORDS = frozenset({"yes", "true", "true()", "1"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0"})

TRANSLATABLE_COLUMNS = ("label", "hint", "constraint_message")
BOOL_KEYS = ("required", "read_only")
PLAIN_COLUMNS = frozenset(
    {"type", "name", "relevant", "constraint", "calculation", "choice_filter", "appearance"}
    | set(BOOL_KEYS)
    | {ECHOS_TYPE, ECHOS_CHOICES, ECHOS_OPTIONS}
)
GROUP_COLUMNS = frozenset({"type", "name", "label", "relevant", "appearance"})
GROUP_COLUMNS |= {ECHOS_TYPE, ECHOS_OPTIONS}
SELECT_TYPES = ("select_one", "select_multiple", "rank")
NATIVE_TYPES = frozenset({"integer", "decimal", "text", "date", "note", "calculate"})
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "likert", "matrix", "ranking"})
FILTERABLE_TYPES = frozenset({"single_choice", "multiple_choice"})
EXPORT_BASE = {
    "single_choice": "select_one",
    "multiple_choice": "select_multiple",
    "likert": "select_one",
    "matrix": "select_one",
    "yes_no": "select_one",
    "ranking": "rank",
    "long_text": "text",
    "rating": "integer",
} | {name: name for name in NATIVE_TYPES}
TYPE_ALIASES = {"int": "integer", "string": "text", "select_all_that_apply": "select_multiple"}
SELECT_PHRASES = {"select one ": "select_one ", "select all that apply ": "select_multiple "}
RESERVED_CHOICE_COLUMNS = frozenset(
    {"list_name", "name", "label", "value", "hint", "image", "audio", "video", "big-image"}
)

FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LANGUAGE_COLUMN_RE = re.compile(r"(.*?)\s*\(([^()]+)\)")
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]+)*")
# String literals and ${...} references; expression rewriting only touches the text between.
LITERAL_RE = re.compile(r"""'[^']*'|"[^"]*"|\$\{[^}]*\}""")
NAME_TOKEN_RE = re.compile(r"(?<![\w.$@/:-])[A-Za-z_][\w.-]*")
FUNCTION_RE = re.compile(r"(?<![\w.$@/:-])([A-Za-z_][\w.:-]*)\s*\(")


class XLSFormError(ValueError):
    """The file cannot be read as an XLSForm workbook at all."""


@dataclass(frozen=True)
class XLSFormProblem:
    """Something in the workbook that was skipped because we cannot represent it."""

    sheet: str  # 'survey' | 'choices' | 'settings'
    row: int | None  # 1-based spreadsheet row as shown in Excel (header is row 1)
    message: str


# --------------------------------------------------------------------------- shared helpers


def _normalise_id(text: str) -> str:
    """Survey ids are lower-case letters, digits and hyphens (they are also file names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "survey"


def _cellable(value: Any) -> bool:
    """True if pyxform reads this string back unchanged (it strips, and drops empty cells)."""
    return (
        isinstance(value, str)
        and value != ""
        and value == value.strip()
        and "\xa0" not in value
        and "\r" not in value
        and not ILLEGAL_CHARACTERS_RE.search(value)
    )


def _encode(value: Any) -> Any:
    """Make YAML values JSON-safe; dates are tagged so that they come back as dates."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(text := next(iter(value.values())), str):
            if "$datetime" in value:
                return datetime.fromisoformat(text)
            if "$date" in value:
                return date.fromisoformat(text)
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _dump_options(options: dict[str, Any]) -> str:
    # pyxform turns no-break spaces into spaces, so keep them escaped inside the JSON.
    return json.dumps(_encode(options), ensure_ascii=False).replace("\xa0", "\\u00a0")


def _map_code(expression: str, func: Callable[[str], str]) -> str:
    """Apply func to the parts of an expression outside string literals and ${} references."""
    parts, position = [], 0
    for match in LITERAL_RE.finditer(expression):
        parts += [func(expression[position : match.start()]), match.group()]
        position = match.end()
    parts.append(func(expression[position:]))
    return "".join(parts)


def _rename_tokens(expression: str, rename: Callable[[str], str]) -> str:
    """Rename bare identifiers (not function names) in the code parts of an expression."""

    def in_code(code: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if code[match.end() :].lstrip().startswith("("):
                return match.group()
            return rename(match.group())

        return NAME_TOKEN_RE.sub(replace, code)

    return _map_code(expression, in_code)


def _unsupported_functions(expression: str) -> list[str]:
    found: list[str] = []

    def collect(code: str) -> str:
        for name in FUNCTION_RE.findall(code):
            if name not in SUPPORTED_FUNCTIONS and name not in OPERATOR_WORDS | set(found):
                found.append(name)
        return code

    _map_code(expression, collect)
    return found


def _filter_to_xlsform(expression: str) -> str:
    """`choice.country = ${country}` -> `country = ${country}` (XLSForm's bare column names)."""

    def rename(token: str) -> str:
        if token.startswith("choice.") and FIELD_NAME_RE.fullmatch(token[7:]):
            return "name" if token[7:] == "value" else token[7:]
        return token

    return _rename_tokens(expression, rename)


def _filter_from_xlsform(expression: str, columns: Iterable[str]) -> str:
    """Prefix bare choice-sheet column names with `choice.`, the reverse of the above."""
    names = set(columns) - OPERATOR_WORDS

    def rename(token: str) -> str:
        if token == "name":
            return "choice.value"
        return f"choice.{token}" if token in names else token

    return _rename_tokens(expression, rename)


def _filter_fields(expression: str) -> list[str]:
    fields: list[str] = []

    def collect(token: str) -> str:
        if token.startswith("choice.") and FIELD_NAME_RE.fullmatch(token[7:]):
            fields.append(token[7:])
        return token

    _rename_tokens(expression, collect)
    return fields


def _is_field_column(name: str) -> bool:
    return bool(FIELD_NAME_RE.fullmatch(name)) and name not in RESERVED_CHOICE_COLUMNS


def _infer_type(base: str, appearance: str | None) -> str | None:
    """Our question type for an XLSForm type without an echos::type column."""
    if base == "select_one":
        return "likert" if appearance == "likert" else "single_choice"
    if base == "select_multiple":
        return "multiple_choice"
    if base == "text" and appearance == "multiline":
        return "long_text"
    return base if base in NATIVE_TYPES else None


def _valid_items(items: Any) -> bool:
    """A choice list we can put in the choices sheet (each value needs a non-empty name)."""
    return (
        isinstance(items, list)
        and bool(items)
        and all(
            isinstance(item, dict) and "value" in item and _cellable(str(item["value"]))
            for item in items
        )
    )


# --------------------------------------------------------------------------- reading


def _language_code(text: str) -> str | None:
    """'English (en)' -> 'en'; also accepts a bare code or a known language name."""
    text = text.strip()
    if match := LANGUAGE_COLUMN_RE.fullmatch(text):
        return match.group(2).strip() or None
    if LANGUAGE_CODE_RE.fullmatch(text):
        return text
    return LANGUAGE_CODES_BY_NAME.get(text.casefold())


def _header(book: dict[str, Any], sheet: str) -> list[str]:
    headers = book.get(f"{sheet}_header") or [{}]
    return list(headers[0])


def _load_book(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise XLSFormError(f"{path.name}: file not found")
    try:
        book = xlsx_to_dict(path)
    except Exception as err:  # pyxform and openpyxl raise many types for damaged files
        raise XLSFormError(f"{path.name} cannot be read as an .xlsx workbook: {err}") from err
    if book.get(SURVEY) is None:
        raise XLSFormError(f"{path.name} has no 'survey' sheet, so it is not an XLSForm")
    return book


@dataclass
class _Frame:
    """An open group while walking the survey sheet."""

    row: int
    page: dict[str, Any] | None  # None for a nested group
    relevant: str | None = None


@dataclass
class _Reader:
    book: dict[str, Any]
    fallback_id: str
    problems: list[XLSFormProblem] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    default_language: str = "en"
    # sheet -> translatable column -> (prefix, language code; "" = plain, None = unknown)
    columns: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    choice_lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    choice_columns: list[str] = field(default_factory=list)
    used_lists: set[str] = field(default_factory=set)
    generated_lists: set[str] = field(default_factory=set)

    def problem(self, sheet: str, row: int | None, message: str) -> None:
        self.problems.append(XLSFormProblem(sheet, row, message))

    def definition(self) -> dict[str, Any]:
        settings = (self.book.get(SETTINGS) or [{}])[0]
        self.read_languages(settings)
        self.read_choices()
        pages = self.read_pages()
        for name in self.generated_lists - self.used_lists:
            self.choice_lists.pop(name, None)
        definition = self.read_settings(settings)
        if self.choice_lists:
            definition["choice_lists"] = self.choice_lists
        definition["pages"] = pages
        options = self.options(settings, SETTINGS, 2)
        return definition | options

    # -- languages and column classification

    def read_languages(self, settings: dict[str, str]) -> None:
        default = None
        if text := settings.get("default_language"):
            default = _language_code(text)
            if default is None:
                self.problem(SETTINGS, 2, f"default_language '{text}' has no language code")
        found: list[str] = []
        allowed = {SURVEY: TRANSLATABLE_COLUMNS, CHOICES: ("label",), SETTINGS: ("form_title",)}
        for sheet, prefixes in allowed.items():
            mapping: dict[str, tuple[str, str | None]] = {}
            for column in _header(self.book, sheet):
                prefix, separator, language = column.partition("::")
                prefix = prefix.strip().lower()
                if prefix not in prefixes:
                    continue
                if not separator:
                    mapping[column] = (prefix, "")
                    found.append("")
                    continue
                code = _language_code(language)
                mapping[column] = (prefix, code)
                if code is None:
                    if self.has_values(sheet, column):
                        self.problem(
                            sheet,
                            HEADER_ROW,
                            f"column '{column}' names no language code; write it as "
                            "'Language (code)'. Its values were ignored",
                        )
                    continue
                found.append(code)
            self.columns[sheet] = mapping
        # Languages in order of first column; "" (a plain column) is the default language.
        self.default_language = default or next((code for code in found if code), "en")
        found = [code or self.default_language for code in found]
        self.languages = list(dict.fromkeys([*found, self.default_language]))

    def has_values(self, sheet: str, column: str) -> bool:
        return any(column in row for row in self.book.get(sheet) or [])

    def texts(self, sheet: str, row: dict[str, str], prefix: str) -> dict[str, str] | None:
        """Translatable text from `prefix::Language (code)` columns; plain = default language."""
        texts: dict[str, str] = {}
        plain = None
        for column, (column_prefix, code) in self.columns[sheet].items():
            if column_prefix != prefix or column not in row or code is None:
                continue
            if code:
                texts[code] = row[column]
            else:
                plain = row[column]
        if plain is not None:
            texts.setdefault(self.default_language, plain)
        return texts or None

    def report_columns(self, sheet: str, supported: Callable[[str], bool]) -> None:
        for column in _header(self.book, sheet):
            if column in self.columns[sheet] or supported(column):
                continue
            if self.has_values(sheet, column):
                self.problem(
                    sheet,
                    HEADER_ROW,
                    f"column '{column}' is not supported; its values were ignored",
                )

    def options(self, row: dict[str, str], sheet: str, row_number: int) -> dict[str, Any]:
        text = row.get(ECHOS_OPTIONS)
        if not text:
            return {}
        try:
            options = _decode(json.loads(text))
        except ValueError:
            options = None
        if not isinstance(options, dict):
            self.problem(sheet, row_number, f"{ECHOS_OPTIONS} is not a JSON object; ignored")
            return {}
        return options

    # -- settings and choices

    def read_settings(self, settings: dict[str, str]) -> dict[str, Any]:
        self.report_columns(
            SETTINGS, lambda c: c in {"form_id", "version", "default_language", ECHOS_OPTIONS}
        )
        raw_id = settings.get("form_id") or self.fallback_id
        version = 1
        if text := settings.get("version"):
            if text.isascii() and text.isdigit():
                version = int(text)
            else:
                self.problem(SETTINGS, 2, f"version '{text}' is not a whole number; using 1")
        title: dict[str, str] = {}
        plain = None
        for column, (_, code) in self.columns[SETTINGS].items():
            if column in settings and code:
                title[code] = settings[column]
            elif column in settings and code == "":
                plain = settings[column]
        if plain is not None:
            # A plain form_title is the default-language title, or the title in every language.
            if title:
                title.setdefault(self.default_language, plain)
            else:
                title = dict.fromkeys(self.languages, plain)
        survey_id = _normalise_id(raw_id)
        return {
            "id": survey_id,
            "kind": "survey",
            "version": version,
            "default_language": self.default_language,
            "languages": list(self.languages),
            "title": title or dict.fromkeys(self.languages, survey_id),
        }

    def read_choices(self) -> None:
        header = _header(self.book, CHOICES)
        self.choice_columns = [column for column in header if _is_field_column(column)]
        self.report_columns(
            CHOICES,
            lambda c: c in {"list_name", "name", ECHOS_OPTIONS} or c in self.choice_columns,
        )
        for index, row in enumerate(self.book.get(CHOICES) or []):
            number = index + 2
            if not row:
                continue
            list_name, name = row.get("list_name"), row.get("name")
            if not list_name or not name:
                missing = "list_name" if not list_name else "name"
                self.problem(CHOICES, number, f"choice has no {missing}; skipped")
                continue
            item: dict[str, Any] = {"value": name}
            if (label := self.texts(CHOICES, row, "label")) is not None:
                item["label"] = label
            item |= {column: row[column] for column in self.choice_columns if column in row}
            item |= self.options(row, CHOICES, number)
            self.choice_lists.setdefault(list_name, []).append(item)

    # -- survey sheet

    def read_pages(self) -> list[dict[str, Any]]:
        self.report_columns(SURVEY, lambda column: column in PLAIN_COLUMNS)
        pages: list[dict[str, Any]] = []
        stack: list[_Frame] = []
        skip_depth = 0  # > 0 while inside a skipped repeat
        for index, row in enumerate(self.book[SURVEY]):
            number = index + 2
            if not row:
                continue
            raw_type = row.get("type", "")
            tokens = raw_type.split()
            keyword = " ".join(tokens[:2]).replace("_", " ").lower() if tokens else ""
            if skip_depth:
                if keyword in {"begin group", "begin repeat"}:
                    skip_depth += 1
                elif keyword in {"end group", "end repeat"}:
                    skip_depth -= 1
                continue
            if not tokens:
                self.problem(SURVEY, number, "row has no type; skipped")
            elif keyword == "begin repeat":
                self.problem(
                    SURVEY, number, "type 'begin repeat' is not supported; the repeat was skipped"
                )
                skip_depth = 1
            elif keyword == "begin group":
                stack.append(self.begin_group(row, number, nested=bool(stack)))
            elif keyword in {"end group", "end repeat"}:
                if not stack or keyword == "end repeat":
                    self.problem(SURVEY, number, f"'{keyword}' without a matching begin; ignored")
                elif (frame := stack.pop()).page is not None:
                    pages.append(frame.page)
            elif (question := self.question(row, number)) is not None:
                conditions = [frame.relevant for frame in stack if frame.relevant]
                if conditions:
                    conditions += [question["relevant"]] if "relevant" in question else []
                    question["relevant"] = (
                        conditions[0]
                        if len(conditions) == 1
                        else " and ".join(f"({condition})" for condition in conditions)
                    )
                if stack and stack[0].page is not None:
                    stack[0].page.setdefault("questions", []).append(question)
                else:
                    page = {"id": f"page_{question['id']}", "questions": [question]}
                    if "label" in question:
                        page["title"] = copy.deepcopy(question["label"])
                    pages.append(page)
        if stack:
            self.problem(SURVEY, stack[0].row, "'begin group' is never closed by 'end group'")
            pages.append(stack[0].page)  # type: ignore[arg-type]
        return pages

    def checked_expression(self, row: dict[str, str], key: str, number: int) -> str | None:
        """The expression in column `key`, or None (reported) if it uses unknown functions."""
        expression = row.get(key)
        if not expression:
            return None
        unsupported = _unsupported_functions(expression)
        for name in unsupported:
            self.problem(
                SURVEY, number, f"function '{name}()' in {key} is not supported; {key} was dropped"
            )
        return None if unsupported else expression

    def begin_group(self, row: dict[str, str], number: int, *, nested: bool) -> _Frame:
        name = row.get("name")
        relevant = self.checked_expression(row, "relevant", number)
        translatable = self.columns[SURVEY]
        for column in row:
            known = column in PLAIN_COLUMNS or column in translatable
            is_label = translatable.get(column, ("", None))[0] == "label"
            if known and column not in GROUP_COLUMNS and not is_label:
                self.problem(SURVEY, number, f"column '{column}' is ignored on a group")
        if nested:
            if relevant:
                self.problem(
                    SURVEY,
                    number,
                    f"nested group '{name}' was merged into its page; its relevant was "
                    "added to the relevant of each of its questions",
                )
            return _Frame(number, None, relevant)
        appearance = row.get("appearance")
        if appearance and appearance != "field-list":
            self.problem(SURVEY, number, f"appearance '{appearance}' on a group is not supported")
        options = self.options(row, SURVEY, number)
        if row.get(ECHOS_TYPE) == PLACEHOLDER:
            return _Frame(number, options)
        if not name:
            name = f"page_{number}"
            self.problem(SURVEY, number, f"group has no name; it was called '{name}'")
        page: dict[str, Any] = {"id": name}
        if (title := self.texts(SURVEY, row, "label")) is not None:
            page["title"] = title
        if relevant:
            page["relevant"] = relevant
        page["questions"] = []
        return _Frame(number, page | options)

    def question(self, row: dict[str, str], number: int) -> dict[str, Any] | None:
        raw_type = row["type"]
        canonical = raw_type
        for phrase, replacement in SELECT_PHRASES.items():
            if raw_type.lower().startswith(phrase):
                canonical = replacement + raw_type[len(phrase) :]
        tokens = canonical.split()
        base = TYPE_ALIASES.get(tokens[0].lower(), tokens[0].lower())
        arguments = tokens[1:]
        appearance = row.get("appearance")
        qtype = row.get(ECHOS_TYPE) or _infer_type(base, appearance)
        if qtype is None:
            self.problem(SURVEY, number, f"type '{raw_type}' is not supported; skipped")
            return None
        name = row.get("name")
        if not name:
            self.problem(SURVEY, number, f"'{raw_type}' question has no name; skipped")
            return None
        question: dict[str, Any] = {"id": name, "type": qtype}
        or_other = False
        if base in SELECT_TYPES:
            list_name = arguments[0] if arguments else None
            or_other = arguments[1:] == ["or_other"] and base != "rank"
            if arguments[1 + or_other :] or not list_name:
                self.problem(SURVEY, number, f"type '{raw_type}' is not understood; skipped")
                return None
            if list_name not in self.choice_lists:
                self.problem(
                    SURVEY,
                    number,
                    f"choice list '{list_name}' is not in the choices sheet; question skipped",
                )
                return None
            marker = row.get(ECHOS_CHOICES)
            if marker in {INLINE, BUILTIN}:
                self.generated_lists.add(list_name)
                if marker == INLINE:
                    question["choices"] = copy.deepcopy(self.choice_lists[list_name])
            else:
                self.used_lists.add(list_name)
                question["choices"] = list_name
        elif len(tokens) > 1:
            self.problem(SURVEY, number, f"type '{raw_type}' is not understood; skipped")
            return None
        if or_other:
            question["other"] = True
        for key in TRANSLATABLE_COLUMNS:
            if (text := self.texts(SURVEY, row, key)) is not None:
                question[key] = text
        for key in BOOL_KEYS:
            if value := row.get(key):
                if value.lower() in TRUE_WORDS | FALSE_WORDS:
                    question[key] = value.lower() in TRUE_WORDS
                else:
                    self.problem(
                        SURVEY, number, f"{key} '{value}' is not supported (only yes/no); ignored"
                    )
        for key in ("relevant", "constraint"):
            if expression := self.checked_expression(row, key, number):
                question[key] = expression
        if "calculation" in row:
            if qtype != "calculate":
                self.problem(SURVEY, number, "calculation is only supported on calculate rows")
            elif expression := self.checked_expression(row, "calculation", number):
                question["calculation"] = expression
        if qtype == "calculate" and "calculation" not in question:
            self.problem(SURVEY, number, "calculate row has no usable calculation; skipped")
            return None
        if "choice_filter" in row:
            if qtype not in FILTERABLE_TYPES:
                self.problem(SURVEY, number, "choice_filter is only supported on select rows")
            elif expression := self.checked_expression(row, "choice_filter", number):
                question["choice_filter"] = _filter_from_xlsform(expression, self.choice_columns)
        if appearance and not self.apply_appearance(question, base, appearance):
            self.problem(SURVEY, number, f"appearance '{appearance}' is not supported; ignored")
        return question | self.options(row, SURVEY, number)

    @staticmethod
    def apply_appearance(question: dict[str, Any], base: str, appearance: str) -> bool:
        """Map the appearances we understand; False if this one has no equivalent."""
        qtype = question["type"]
        if (base, appearance, qtype) in {
            ("select_one", "likert", "likert"),
            ("text", "multiline", "long_text"),
        }:
            return True
        if (base, appearance, qtype) == ("select_one", "minimal", "single_choice"):
            question["appearance"] = "dropdown"
            return True
        return False


def read_xlsform(
    path: str | Path, *, survey_id: str | None = None
) -> tuple[dict, list[XLSFormProblem]]:
    """Convert an XLSForm workbook into a survey definition dict plus what was skipped.

    Unsupported rows, columns and functions are reported, never raised; only a file that is
    not an XLSForm workbook at all raises XLSFormError.
    """
    path = Path(path)
    reader = _Reader(_load_book(path), fallback_id=survey_id or path.stem)
    return reader.definition(), reader.problems


# --------------------------------------------------------------------------- writing


@dataclass
class _Writer:
    definition: dict[str, Any]
    languages: list[str] = field(default_factory=list)
    language_columns: dict[str, str] = field(default_factory=dict)
    named_lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    generated_lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    yes_no_name: str | None = None
    choice_columns: list[str] = field(default_factory=list)
    survey_rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        languages = self.definition.get("languages")
        if not isinstance(languages, list):
            languages = [self.definition.get("default_language", "en")]
        for code in languages:
            if _cellable(code) and "(" not in code and ")" not in code:
                self.languages.append(code)
                name = NATIVE_LANGUAGE_NAMES.get(code, code)
                self.language_columns[code] = f"{name} ({code})"
        lists = self.definition.get("choice_lists")
        # All or nothing: unusable lists make the whole mapping go to echos::options.
        if isinstance(lists, dict) and all(
            _cellable(name) and _valid_items(items) for name, items in lists.items()
        ):
            self.named_lists = dict(lists)

    def text_cells(self, prefix: str, value: Any) -> dict[str, str] | None:
        """Per-language columns for a translatable text, or None if cells would alter it."""
        if not isinstance(value, dict) or not value:
            return None
        if not all(code in self.language_columns and _cellable(t) for code, t in value.items()):
            return None
        return {f"{prefix}::{self.language_columns[code]}": text for code, text in value.items()}

    def unique_list_name(self, wanted: str) -> str:
        name, counter = wanted, 1
        while name in self.named_lists or name in self.generated_lists:
            counter += 1
            name = f"{wanted}_{counter}"
        return name

    def questions(self) -> Iterable[dict[str, Any]]:
        pages = self.definition.get("pages")
        for page in pages if isinstance(pages, list) else []:
            if isinstance(page, dict) and isinstance(page.get("questions"), list):
                yield from (q for q in page["questions"] if isinstance(q, dict))

    def collect_choice_columns(self) -> None:
        """Every extra choice field and every `choice.x` a filter uses needs a column."""
        lists = list(self.named_lists.values())
        lists += [q["choices"] for q in self.questions() if _valid_items(q.get("choices"))]
        for items in lists:
            for item in items:
                for key, value in item.items():
                    if key != "value" and _is_field_column(key) and _cellable(value):
                        self.add_choice_column(key)
        for question in self.questions():
            if isinstance(expression := question.get("choice_filter"), str):
                for name in _filter_fields(expression):
                    if _is_field_column(name):
                        self.add_choice_column(name)

    def add_choice_column(self, name: str) -> None:
        if name not in self.choice_columns:
            self.choice_columns.append(name)

    # -- rows

    def page_rows(self, number: int, page: Any) -> None:
        rest = dict(page) if isinstance(page, dict) else {"page": page}
        row: dict[str, Any] = {"type": "begin group"}
        if _cellable(rest.get("id")):
            row["name"] = rest.pop("id")
            questions = rest.pop("questions") if isinstance(rest.get("questions"), list) else []
            if (cells := self.text_cells("label", rest.get("title"))) is not None:
                row |= cells
                del rest["title"]
            if _cellable(rest.get("relevant")):
                row["relevant"] = rest.pop("relevant")
        else:  # e.g. an unresolved `include:`: kept whole in echos::options
            row |= {"name": f"page_{number}", ECHOS_TYPE: PLACEHOLDER}
            questions = []
        row["appearance"] = "field-list"
        if rest:
            row[ECHOS_OPTIONS] = _dump_options(rest)
        self.survey_rows.append(row)
        self.survey_rows += [self.question_row(q) for q in questions if isinstance(q, dict)]
        self.survey_rows.append({"type": "end group"})

    def choices_for(self, choices: Any, question_id: str) -> tuple[str | None, str | None]:
        """(list name, echos::choices marker) for a question's `choices`, or (None, None)."""
        if isinstance(choices, str) and choices in self.named_lists:
            return choices, None
        if _valid_items(choices):
            name = self.unique_list_name(f"{question_id}_choices")
            self.generated_lists[name] = choices
            return name, INLINE
        return None, None

    def yes_no_list(self) -> str:
        """A translated yes/no list so that other XLSForm tools can show yes_no questions."""
        if self.yes_no_name is None:
            self.yes_no_name = self.unique_list_name("yes_no")
            labels = {code: YES_NO_LABELS.get(code, YES_NO_LABELS["en"]) for code in self.languages}
            self.generated_lists[self.yes_no_name] = [
                {"value": value, "label": {code: pair[i] for code, pair in labels.items()}}
                for i, value in enumerate(("yes", "no"))
            ]
        return self.yes_no_name

    def question_row(self, question: dict[str, Any]) -> dict[str, Any]:
        rest = dict(question)
        qtype = rest.pop("type", None)
        name = rest.pop("id", "")
        row: dict[str, Any] = {"name": name}
        base = EXPORT_BASE.get(qtype, "text")  # type: ignore[arg-type]
        list_name = appearance = None
        if qtype in CHOICE_TYPES:
            list_name, marker = self.choices_for(rest.get("choices"), str(name))
            if list_name is None:
                base = "text"  # unusable choices stay in echos::options
            else:
                del rest["choices"]
                if marker:
                    row[ECHOS_CHOICES] = marker
        elif qtype == "yes_no":
            list_name, row[ECHOS_CHOICES] = self.yes_no_list(), BUILTIN
        # pyxform rejects or_other together with a choice_filter; echos::options keeps it then.
        or_other = base in SELECT_TYPES[:2] and rest.get("other") is True
        or_other = or_other and "choice_filter" not in rest
        if or_other:
            del rest["other"]
        if qtype == "single_choice" and base == "select_one":
            if rest.get("appearance") == "dropdown":
                del rest["appearance"]
                appearance = "minimal"
        elif qtype == "likert" and base == "select_one":
            appearance = "likert"
        elif qtype == "long_text":
            appearance = "multiline"
        row["type"] = " ".join(p for p in (base, list_name, "or_other" if or_other else "") if p)
        if appearance:
            row["appearance"] = appearance
        if _infer_type(base, appearance) != qtype:
            row[ECHOS_TYPE] = qtype
        for key in TRANSLATABLE_COLUMNS:
            if (cells := self.text_cells(key, rest.get(key))) is not None:
                row |= cells
                del rest[key]
        for key in BOOL_KEYS:
            if isinstance(rest.get(key), bool):
                row[key] = "yes" if rest.pop(key) else "no"
        keys = ["relevant", "constraint"]
        keys += ["calculation"] if qtype == "calculate" else []
        for key in keys:
            if _cellable(rest.get(key)):
                row[key] = rest.pop(key)
        expression = rest.get("choice_filter")
        if qtype in FILTERABLE_TYPES and base != "text" and _cellable(expression):
            exported = _filter_to_xlsform(expression)
            # Only use the column if reading it back gives the same expression.
            if _filter_from_xlsform(exported, self.choice_columns) == expression:
                row["choice_filter"] = exported
                del rest["choice_filter"]
        if rest:
            row[ECHOS_OPTIONS] = _dump_options(rest)
        return row

    def choice_row(self, list_name: str, item: dict[str, Any]) -> dict[str, Any]:
        rest = dict(item)
        row: dict[str, Any] = {"list_name": list_name, "name": str(item["value"])}
        if _cellable(item["value"]):
            del rest["value"]
        if (cells := self.text_cells("label", rest.get("label"))) is not None:
            row |= cells
            del rest["label"]
        for key in list(rest):
            if key in self.choice_columns and _cellable(rest[key]):
                row[key] = rest.pop(key)
        if rest:
            row[ECHOS_OPTIONS] = _dump_options(rest)
        return row

    def settings_row(self) -> dict[str, Any]:
        rest = dict(self.definition)
        row: dict[str, Any] = {}
        default = rest.get("default_language")
        # pyxform fails on form_title::<language> columns, so only the default-language title
        # is a column; a title that differs between languages is kept in echos::options.
        title = rest.get("title")
        if isinstance(title, dict) and _cellable(title.get(default)):
            row["form_title"] = title[default]
            if title == dict.fromkeys(self.languages, title[default]):
                del rest["title"]
        survey_id = rest.get("id")
        if _cellable(survey_id) and _normalise_id(survey_id) == survey_id:
            row["form_id"] = rest.pop("id")
        else:
            row["form_id"] = _normalise_id(str(survey_id or "survey"))
        version = rest.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
            row["version"] = rest.pop("version")
        if rest.get("kind") == "survey":
            del rest["kind"]
        if isinstance(default, str) and default in self.language_columns:
            row["default_language"] = self.language_columns[rest.pop("default_language")]
            # The reader takes the languages from the label columns, written in this order.
            if rest.get("languages") == self.languages:
                del rest["languages"]
        if self.named_lists:
            del rest["choice_lists"]
        if isinstance(rest.get("pages"), list):
            del rest["pages"]
        if rest:
            row[ECHOS_OPTIONS] = _dump_options(rest)
        return row

    # -- workbook

    def workbook(self) -> Workbook:
        self.collect_choice_columns()
        pages = self.definition.get("pages")
        for number, page in enumerate(pages if isinstance(pages, list) else [], start=1):
            self.page_rows(number, page)
        choice_rows = [
            self.choice_row(name, item)
            for lists in (self.named_lists, self.generated_lists)
            for name, items in lists.items()
            for item in items
        ]
        labels = {
            prefix: [f"{prefix}::{name}" for name in self.language_columns.values()]
            for prefix in TRANSLATABLE_COLUMNS
        }
        survey_columns = [
            "type",
            "name",
            *labels["label"],
            *labels["hint"],
            "required",
            "relevant",
            "constraint",
            *labels["constraint_message"],
            "calculation",
            "choice_filter",
            "appearance",
            "read_only",
            ECHOS_TYPE,
            ECHOS_CHOICES,
            ECHOS_OPTIONS,
        ]
        choice_columns = ["list_name", "name", *labels["label"], *self.choice_columns]
        settings_columns = [
            "form_title",
            "form_id",
            "version",
            "default_language",
            ECHOS_OPTIONS,
        ]
        workbook = Workbook()
        sheets = (
            (SURVEY, survey_columns, self.survey_rows, labels["label"]),
            (CHOICES, [*choice_columns, ECHOS_OPTIONS], choice_rows, choice_columns),
            (SETTINGS, settings_columns, [self.settings_row()], ["form_id"]),
        )
        for index, (title, columns, rows, always) in enumerate(sheets):
            sheet = workbook.active if index == 0 else workbook.create_sheet()
            sheet.title = title
            used = [c for c in columns if c in always or any(c in row for row in rows)]
            _write_sheet(sheet, used, rows)
        return workbook


def _write_sheet(sheet: Any, columns: list[str], rows: list[dict[str, Any]]) -> None:
    for number, values in enumerate([{c: c for c in columns}, *rows], start=1):
        for column_number, column in enumerate(columns, start=1):
            value = values.get(column)
            if value is None:
                continue
            cell = sheet.cell(row=number, column=column_number, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # keep texts such as "=x" from becoming formulas


def write_xlsform(definition: dict, path: str | Path) -> None:
    """Write a definition as an XLSForm workbook (one group per page).

    Anything XLSForm cannot express goes to echos::* columns so that read_xlsform restores it.
    """
    _Writer(definition).workbook().save(Path(path))
