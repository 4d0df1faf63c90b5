"""Importing responses from CSV: paper questionnaires and other survey tools.

The file has the layout of our own wide CSV export (one column per codebook
variable, codes for coded choices), so an export can be imported again. Every row
is turned into the inputs a respondent's page would have sent and read by the
survey engine itself, so relevance, required questions, choice filters, bounds and
constraints are checked exactly as on the web. `parse` checks everything and
collects every problem; `apply` stores the rows only when there is none, all of
them or nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.audit.models import AuditEntry
from app.audit.services import record as audit
from app.consent import services as consent
from app.consent.models import ConsentChannel
from app.errors import DomainError
from app.extensions import db
from app.i18n import CODES as INTERFACE_LANGUAGES
from app.participants.models import Participant, new_participant_id
from app.results import codebook as cb
from app.results.codebook import Variable
from app.results.exports import FORMULA_STARTS
from app.results.wide import FIXED_COLUMNS, WEIGHT
from app.surveys import engine
from app.surveys.codes import code_hash, new_code
from app.surveys.definition import OTHER, Definition, Question
from app.surveys.models import Channel, Response, ResponseStatus, SurveyVersion
from app.surveys.question_types import FieldError, MultipleAnswer, question_type
from app.surveys.services import definition_of, save_answers
from app.timeutil import utcnow

# Storing takes some milliseconds a row (each gets its own consent record and audit
# entry), so a page request stays within 2,000 rows; the command line, which no
# request timeout cuts short, takes more.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2_000
CLI_MAX_BYTES = 50 * 1024 * 1024
CLI_MAX_ROWS = 50_000
DELIMITERS = (",", ";", "\t")
RESPONDENT, LANGUAGE, COMPLETED_AT = FIXED_COLUMNS
CONSENT_PREFIX = "consent."
AUDIT_ACTION = "responses.imported"
STORE_BATCH = 200

_YES = frozenset({"1", "yes", "y", "true", "ja", "oui", "sim"})
_NO = frozenset({"0", "no", "n", "false", "nein", "non", "não", "nao"})
_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class RowError:
    """One problem: the line in the file (the header is line 1), the column and value."""

    line: int | None
    column: str
    value: str
    message: Any  # a lazy string, shown in the reader's language


@dataclass
class ParsedRow:
    """A row that passed every check, as typed answers ready to store."""

    line: int
    language: str
    completed_at: datetime | None
    answers: engine.Answers
    granted: list[str]


@dataclass
class ImportReport:
    """What a file holds: the rows that can be stored and every problem found."""

    survey_slug: str
    version_id: int
    version_number: int
    file_name: str
    sha256: str
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    row_count: int = 0  # data rows read, blank lines left out
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors if e.line is not None})


class ImportRefused(DomainError):
    """`apply` was asked to store a file that has problems or lacks the consent statement."""


# Reading the file ---------------------------------------------------------------------------


def _read_text(source: str | bytes | IO, max_bytes: int) -> tuple[str | None, str, Any]:
    """The decoded text (None when it cannot be read), its sha256 and any problem."""
    if isinstance(source, str):
        data = source.encode("utf-8")
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > max_bytes:
        return None, digest, _l("The file is larger than %(size)s MB. Split it into smaller "
                                "files and import them one after the other.",
                                size=_megabytes(max_bytes))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, digest, _l("The file is not UTF-8 text. Save it as “CSV UTF-8” and "
                                "try again.")
    return text.lstrip("\ufeff"), digest, None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def guess_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line uses most (comma if none)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    """Each record with the file line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


# Checking -------------------------------------------------------------------------------------


@dataclass
class _Layout:
    """The survey version as columns: what each header name means."""

    definition: Definition
    variables: dict[str, Variable]  # by column key: the name, `name#2` when repeated
    questions: dict[str, Question]
    purposes: list[str]  # the consent purposes the survey asks, in the document's order
    required_purposes: set[str]
    calculated: set[str]  # columns recomputed on import, their cells not read

    def name_of(self, key: str) -> str:
        """The column's name in the file (a repeated name is keyed `name#2`)."""
        var = self.variables.get(key)
        return var.name if var is not None else key

    def question_of(self, input_name: str) -> Question | None:
        best = None
        for qid, question in self.questions.items():
            if (input_name == qid or input_name.startswith(qid + ".")) and (
                    best is None or len(qid) > len(best.id)):
                best = question
        return best


def _layout(version: SurveyVersion) -> _Layout:
    definition = definition_of(version)
    variables: dict[str, Variable] = {}
    for var in cb.codebook(version):
        variables[_key(var.name, lambda key: key in variables)] = var
    questions = {q.id: q for q in definition.questions()
                 if not q.contact and question_type(q.type).stores_answer}
    calculated = {name for name, v in variables.items()
                  if questions[v.question].type == "calculate"}
    purposes: list[str] = []
    required: set[str] = set()
    if definition.consent_document:
        document = consent.get_document(definition.consent_document)
        if document is not None:
            terms = consent.definition_of(consent.latest_version(document))
            purposes = [p.id for p in terms.purposes if p.id in definition.consent_purposes]
            required = {p.id for p in terms.purposes if p.required and p.id in purposes}
    return _Layout(definition, variables, questions, purposes, required, calculated)


def _key(name: str, taken) -> str:
    """`name`, or `name#2`, `name#3`... when the name is already taken, so a repeated
    header column is reported rather than silently merged."""
    key, number = name, 2
    while taken(key):
        key, number = f"{name}#{number}", number + 1
    return key


def expected_columns(version: SurveyVersion) -> list[str]:
    """The header of an import file: the same columns as the wide CSV export."""
    return [*FIXED_COLUMNS, *(v.name for v in cb.codebook(version))]


def parse(source: str | bytes | IO, version: SurveyVersion, *, file_name: str = "",
          delimiter: str | None = None, max_bytes: int = MAX_BYTES,
          max_rows: int = MAX_ROWS) -> ImportReport:
    """Check every row of a CSV file against `version`, collecting every problem."""
    text, digest, problem = _read_text(source, max_bytes)
    report = ImportReport(survey_slug=version.survey.slug, version_id=version.id,
                          version_number=version.number, file_name=file_name, sha256=digest)
    if text is None:
        report.errors.append(RowError(None, "", "", problem))
        return report
    if delimiter is not None and delimiter not in DELIMITERS:
        report.errors.append(RowError(None, "", delimiter, _l(
            "Use a comma, a semicolon or a tab to separate the columns.")))
        return report
    report.delimiter = delimiter or guess_delimiter(text)
    layout = _layout(version)
    try:
        records = list(_records(text, report.delimiter))
    except csv.Error as error:
        report.errors.append(RowError(None, "", "", _l(
            "The file cannot be read as CSV (%(reason)s).", reason=str(error))))
        return report
    if not records or not any(cell.strip() for cell in records[0][1]):
        report.errors.append(RowError(1, "", "", _l(
            "The file is empty: the first line must name the columns.")))
        return report
    header = [cell.strip() for cell in records[0][1]]
    report.columns = header
    keys: list[str] = []
    for name in header:
        keys.append(_key(name, keys.__contains__))
    if not _check_header(header, keys, layout, report):
        return report
    data = [(line, cells) for line, cells in records[1:] if any(c.strip() for c in cells)]
    report.row_count = len(data)
    if len(data) > max_rows:
        report.errors.append(RowError(None, "", "", _l(
            "The file has %(count)d rows; at most %(max)d can be imported at once. Split it "
            "into smaller files.", count=len(data), max=max_rows)))
        return report
    if not data:
        report.errors.append(RowError(None, "", "", _l("The file has no rows to import.")))
        return report
    _check_not_imported_before(version, digest, report)
    seen: dict[str, int] = {}
    now = utcnow()
    for line, cells in data:
        if len(cells) > len(header):
            report.errors.append(RowError(line, "", report.delimiter.join(cells[len(header):]),
                                          _l("This line has more cells than the header has "
                                             "columns.")))
            continue
        row = {key: (cells[i] if i < len(cells) else "").strip()
               for i, key in enumerate(keys)}
        parsed = _check_row(line, row, layout, report, seen, now)
        if parsed is not None:
            report.rows.append(parsed)
    return report


def _check_header(header: list[str], keys: list[str], layout: _Layout,
                  report: ImportReport) -> bool:
    """Unknown, repeated and missing columns; False when rows cannot be read."""
    known = {*FIXED_COLUMNS, *layout.variables}
    consent_columns = {CONSENT_PREFIX + p for p in layout.purposes}
    ok = True
    for index, (name, key) in enumerate(zip(header, keys, strict=True)):
        if not name:
            report.errors.append(RowError(1, "", "", _l(
                "Column %(number)d has no name.", number=index + 1)))
            ok = False
        elif key != name and key not in known:
            report.errors.append(RowError(1, name, name, _l(
                "This column appears more than once.")))
            ok = False
        elif name == WEIGHT or key in layout.calculated:
            report.ignored_columns.append(name)
        elif key not in known and key not in consent_columns:
            report.errors.append(RowError(1, name, name, _l(
                "This column is not a variable of version %(number)d of this survey. "
                "Compare the header with the codebook.", number=report.version_number)))
            ok = False
    present = set(keys)
    for key, var in layout.variables.items():
        question = layout.questions[var.question]
        if (question.required and key not in present and var.source != cb.OTHER_TEXT
                and key not in layout.calculated and not question.read_only):
            report.errors.append(RowError(1, var.name, "", _l(
                "This column is missing: the question is required.")))
            ok = False
    return ok


def _check_not_imported_before(version: SurveyVersion, digest: str,
                               report: ImportReport) -> None:
    for entry in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == AUDIT_ACTION,
            AuditEntry.subject == f"survey_version:{version.id}")):
        if (entry.details or {}).get("sha256") == digest:
            report.errors.append(RowError(None, "", "", _l(
                "This very file was already imported into this version on %(date)s.",
                date=entry.occurred_at.date().isoformat())))
            return


def _check_row(line: int, row: dict[str, str], layout: _Layout, report: ImportReport,
               seen: dict[str, int], now: datetime) -> ParsedRow | None:
    """One row: its fixed columns, consent, then every answer through the engine."""
    errors: list[RowError] = []

    def error(key: str, message: Any) -> None:
        errors.append(RowError(line, layout.name_of(key), row.get(key, ""), message))

    definition = layout.definition
    respondent = row.get(RESPONDENT, "")
    if respondent:
        if respondent in seen:
            error(RESPONDENT, _l("The same respondent is already on line %(line)d.",
                                 line=seen[respondent]))
        else:
            seen[respondent] = line
    language = row.get(LANGUAGE, "") or definition.default_language
    if language not in definition.languages and language not in INTERFACE_LANGUAGES:
        error(LANGUAGE, _l("Use one of the survey's languages: %(codes)s.",
                           codes=", ".join(definition.languages)))
    completed_at = None
    if row.get(COMPLETED_AT):
        completed_at = _moment(row[COMPLETED_AT])
        if completed_at is None:
            error(COMPLETED_AT, _l("Enter a date and time such as 2025-03-14 10:30 (UTC) or "
                                   "2025-03-14 10:30+01:00, or a date such as 2025-03-14."))
        elif completed_at > now:
            error(COMPLETED_AT, _l("This date is in the future."))
    granted: list[str] = []
    for purpose in layout.purposes:
        column = CONSENT_PREFIX + purpose
        answer = row.get(column, "").casefold()
        if answer in _NO:
            if purpose in layout.required_purposes:
                error(column, _l("Without this purpose there is no taking part: leave this "
                                 "row out of the file."))
        elif answer in _YES or answer == "":
            granted.append(purpose)
        else:
            error(column, _l("Enter 1 (agreed) or 0 (refused)."))

    form, broken = _form_of(row, layout, error)
    refused = frozenset(p for p in layout.purposes if p not in granted)
    shown = definition.without_purposes(refused)
    answers: engine.Answers = {}
    for page in shown.pages:
        if not engine.page_applies(page, engine.scope_of(shown, answers)):
            continue
        reading = engine.read_page(shown, page, form, answers)
        for problem in reading.errors:
            _engine_error(problem, layout, row, broken, error)
        answers = engine.merge_page(shown, page, answers, reading.values)
    answers = engine.prune(shown, answers)
    _check_not_applicable(row, layout, answers, broken, refused, error)
    report.errors.extend(errors)
    if errors:
        return None
    return ParsedRow(line=line, language=language, completed_at=completed_at,
                     answers=answers, granted=granted)


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _unneutralise(text: str) -> str:
    """Undo the quote our spreadsheet CSV puts before formula-like text."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _form_of(row: dict[str, str], layout: _Layout, error) -> tuple[MultiDict, set[str]]:
    """The inputs a respondent's page would have sent, and the questions whose cells
    could not be read (their engine messages would only repeat the problem)."""
    form = MultiDict()
    broken: set[str] = set()
    for name, cell in row.items():
        var = layout.variables.get(name)
        if var is None or not cell or name in layout.calculated:
            continue
        question = layout.questions[var.question]
        qid = question.id
        source = var.source
        if source in (cb.CODED, cb.RATING):
            value, problem = _choice_value(var, cell)
            if problem is not None:
                error(name, problem)
                broken.add(qid)
            elif question.type == "matrix":
                form[f"{qid}.{var.item}"] = value
            else:
                form[qid] = value
        elif source == cb.OTHER_TEXT:
            form[f"{qid}.{OTHER}"] = _unneutralise(cell)
        elif source == cb.INDICATOR:
            flag = cell.casefold()
            if _whole(flag) == 1 or flag in _YES - {"0"}:
                form.add(qid, var.item)
            elif var.item == OTHER and _whole(flag) is None and flag not in _NO:
                # The wide export can write the "please specify" text here: the two
                # columns share their name, and the text is written to both.
                form.add(qid, OTHER)
                form.setdefault(f"{qid}.{OTHER}", _unneutralise(cell))
            elif _whole(flag) != 0 and flag not in _NO:
                error(name, _l("Enter 1 when this answer was chosen and 0 or nothing when "
                               "it was not."))
                broken.add(qid)
        elif source == cb.RANK:
            position = _whole(cell)
            form[f"{qid}.{var.item}"] = str(position) if position is not None else cell
        elif source == cb.DATE:
            parts = _date_parts(cell)
            if parts is None:
                error(name, _l("Enter a date as year-month-day, for example 1960-03-27."))
                broken.add(qid)
            else:
                form[f"{qid}.year"], form[f"{qid}.month"], form[f"{qid}.day"] = parts
        elif source == cb.TEXT:
            form[qid] = _unneutralise(cell)
        else:
            form[qid] = cell
    return form, broken


def _whole(text: str) -> int | None:
    """An integer written as 3 or 3.0 (spreadsheets add the decimals), else None."""
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _choice_value(var: Variable, cell: str) -> tuple[str, Any]:
    """The stored value of a coded cell: a code, the value itself or a label if unique."""
    code = _whole(cell)
    if code is not None and code in var.values:
        return var.values[code], None
    if cell in var.values.values():
        return cell, None
    wanted = cell.casefold()
    matches = {var.values[code] for code, labels in var.value_labels.items()
               if code in var.values and any(text.strip().casefold() == wanted
                                             for text in labels.values())}
    if len(matches) == 1:
        return matches.pop(), None
    if len(matches) > 1:
        return "", _l("This label belongs to more than one answer: use the code instead.")
    codes = sorted(var.values)
    described = f"{codes[0]}\u2013{codes[-1]}" if codes == list(range(codes[0], codes[-1] + 1)) \
        else ", ".join(str(c) for c in codes)
    return "", _l("This is not one of the codes of this question (%(codes)s); see the "
                  "codebook.", codes=described)


def _date_parts(cell: str) -> tuple[str, str, str] | None:
    """Year, month and day of 1960-03-27, 27.03.1960 or 27/03/1960 (day first)."""
    text = cell.split("T", 1)[0].strip()
    found = _ISO_DAY.match(text)
    if found:
        return found.group(1), found.group(2), found.group(3)
    found = _DAY_FIRST.match(text)
    if found:
        return found.group(3), found.group(2), found.group(1)
    return None


def _engine_error(problem: FieldError, layout: _Layout, row: dict[str, str],
                  broken: set[str], error) -> None:
    """A message of the survey engine, placed on the column its input came from."""
    question = layout.question_of(problem.input_name)
    if question is not None and question.id in broken:
        return
    column = _column_for(problem.input_name, question, layout, row)
    error(column, problem.message)


def _column_for(input_name: str, question: Question | None, layout: _Layout,
                row: dict[str, str]) -> str:
    """The key of the column an engine input name comes from (best match in the file)."""
    if question is None:
        return input_name
    keys = [k for k, v in layout.variables.items() if v.question == question.id]
    if input_name.endswith(f"{OTHER}.text"):
        texts = [k for k in keys if layout.variables[k].source == cb.OTHER_TEXT]
        if texts:
            return texts[0]
    matching = [k for k in keys if k in row and (
        input_name == layout.variables[k].name
        or input_name.startswith(layout.variables[k].name + "."))]
    if matching:
        return max(matching, key=lambda k: len(layout.variables[k].name))
    in_file = [k for k in keys if k in row]
    filled = [k for k in in_file if row[k]]
    return (filled or in_file or keys or [question.id])[0]


def _check_not_applicable(row: dict[str, str], layout: _Layout, answers: engine.Answers,
                          broken: set[str], refused: frozenset[str], error) -> None:
    """A cell for a question this respondent was not asked must be empty."""
    for name, cell in row.items():
        var = layout.variables.get(name)
        if var is None or name in layout.calculated or not cell:
            continue
        question = layout.questions[var.question]
        if question.id in broken:
            continue
        if var.source == cb.INDICATOR and _whole(cell) == 0:
            continue
        answer = answers.get(question.id)
        if answer is None:
            if question.purpose in refused:
                error(name, _l("This respondent refused consent purpose “%(purpose)s”, which "
                               "this question needs: leave it empty.", purpose=question.purpose))
            elif question.read_only:
                error(name, _l("This question only shows information: leave it empty."))
            elif question.relevant is not None or _page_condition(layout, question):
                error(name, _l("This question was not asked of this respondent (asked only "
                               "when %(rule)s): leave it empty.",
                               rule=_page_condition(layout, question) or
                               question.relevant.source))  # type: ignore[union-attr]
        elif var.source == cb.OTHER_TEXT and not _chose_other(answer):
            error(name, _l("Fill this in only when the answer is “Other”."))


def _new_response(row: ParsedRow, version: SurveyVersion, now: datetime) -> Response:
    completed = row.completed_at or now
    return Response(version=version, participant=Participant(id=new_participant_id()),
                    channel=Channel.PAPER, status=ResponseStatus.COMPLETE,
                    language=row.language, languages=[row.language],
                    resume_code_hash=code_hash(new_code()), started_at=completed,
                    updated_at=now, completed_at=completed)


def _chose_other(answer: Any) -> bool:
    if isinstance(answer, MultipleAnswer):
        return OTHER in answer.values and answer.other is not None
    return getattr(answer, "other", None) is not None


def _page_condition(layout: _Layout, question: Question) -> str:
    page = layout.definition.page(question.page_id)
    return page.relevant.source if page.relevant is not None else ""


# Storing ------------------------------------------------------------------------------------


def apply(report: ImportReport, *, staff_id: int | None, consent_on_paper: bool,
          now: datetime | None = None) -> int:
    """Store every row of a clean report in the current transaction; the caller commits.

    Each row becomes a new participant, a paper consent record for the purposes the
    survey asks (against the current version of its consent document) and a
    complete response with channel "paper". Any failure rolls the whole import back.
    `staff_id` is the signed-in user, None on the command line.
    """
    if report.errors or not report.rows:
        raise ImportRefused(_l("Nothing was imported: correct the rejected rows first."))
    version = db.session.get(SurveyVersion, report.version_id)
    definition = definition_of(version)
    document = consent.get_document(definition.consent_document) \
        if definition.consent_document else None
    if document is not None and not consent_on_paper:
        raise ImportRefused(_l("Confirm that you hold a signed consent form for every "
                               "response."), field="consent_on_paper")
    now = now or utcnow()
    layout = _layout(version)
    who = "cli" if staff_id is None else str(staff_id)
    try:
        consent_version = consent.latest_version(document) if document is not None else None
        terms = consent.definition_of(consent_version) if consent_version is not None else None
        for start in range(0, len(report.rows), STORE_BATCH):
            rows = report.rows[start:start + STORE_BATCH]
            # Participants and responses of a batch go in with one flush.
            responses = [_new_response(row, version, now) for row in rows]
            db.session.add_all(responses)
            db.session.flush()
            for row, response in zip(rows, responses, strict=True):
                if consent_version is not None and terms is not None:
                    consent.give_consent(participant=response.participant,
                                         version=consent_version,
                                         language=terms.language_for(row.language),
                                         asked=layout.purposes, granted=row.granted,
                                         channel=ConsentChannel.PAPER, actor=f"staff:{who}")
                save_answers(response, definition, row.answers)
        audit(action=AUDIT_ACTION, actor="cli" if staff_id is None else f"user:{who}",
              subject=f"survey_version:{version.id}",
              details={"survey": report.survey_slug, "version": report.version_number,
                       "rows": len(report.rows), "file": report.file_name[:200],
                       "sha256": report.sha256})
        db.session.flush()
    except Exception:
        db.session.rollback()
        raise
    return len(report.rows)
