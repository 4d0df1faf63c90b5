"""Wide exports: one row per analysable response, one column per codebook variable.

Rows come from the database in batches of BATCH responses with their answers (one
query per batch), so CSV, XLSX and Parquet stream with flat memory whatever the
survey size. SPSS (.sav) and Stata (.dta) stream too, through app.results.sav_writer and
app.results.dta_writer (rows are spooled to a temporary file while string widths are
measured).

Respondents appear under a pseudonym: a hash of a per-installation secret and the
participant id, stable across exports (so files can be joined) but not reversible
without the secret. The secret is passed in, so this module needs no Flask globals.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from app.consent.services import excluded_from_analysis_query
from app.extensions import db
from app.results import codebook as cb
from app.results.codebook import Variable, codebook_rows, label_in
from app.results.exports import neutralise
from app.surveys.answers import AnswerRow
from app.surveys.models import Answer, Response, ResponseStatus, Survey, SurveyVersion
from app.surveys.question_types import ChoiceAnswer, MultipleAnswer, question_type
from app.surveys.services import definition_of

BATCH = 500
FIXED_COLUMNS = ["respondent", "language", "completed_at"]
WEIGHT = "weight"
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80

Target = str | Path | IO[bytes]
Row = dict[str, Any]


def pseudonym(secret: str, participant_id: str) -> str:
    return hashlib.sha256(f"{secret}{participant_id}".encode()).hexdigest()[:12]


def columns(variables: Iterable[Variable], weighted: bool = False) -> list[str]:
    return [*FIXED_COLUMNS, *(v.name for v in variables), *([WEIGHT] if weighted else [])]


def wide_rows(survey: Survey, version: SurveyVersion, *, secret: str,
              weights: Mapping[int, float] | None = None,
              variables: list[Variable] | None = None) -> Iterator[Row]:
    """Complete responses to `version` whose people still allow analysis, in id order.

    `weights` maps response ids to weights and adds a `weight` column.
    """
    for _response_id, row in rows_with_ids(survey, version, secret=secret, weights=weights,
                                           variables=variables):
        yield row


def analysable_query(version: SurveyVersion):
    """Complete responses to `version`, leaving out people who no longer allow analysis."""
    return select(Response.id, Response.participant_id, Response.language,
                  Response.completed_at).where(
        Response.survey_version_id == version.id, Response.status == ResponseStatus.COMPLETE,
        Response.participant_id.not_in(excluded_from_analysis_query()))


def row_count(version: SurveyVersion) -> int:
    """How many rows a wide export of `version` has now."""
    found = analysable_query(version).subquery()
    return int(db.session.scalar(select(func.count()).select_from(found)) or 0)


def rows_with_ids(survey: Survey, version: SurveyVersion, *, secret: str,
                  weights: Mapping[int, float] | None = None,
                  variables: list[Variable] | None = None, after: int = 0,
                  limit: int | None = None) -> Iterator[tuple[int, Row]]:
    """(response id, row) pairs of :func:`wide_rows`, from the first id above `after`,
    at most `limit` of them: what a paged reader (the API) needs to continue later."""
    if version.survey_id != survey.id:
        raise ValueError("version belongs to another survey")
    definition = definition_of(version)
    variables = codebook_of(version) if variables is None else variables
    questions = {q.id: q for q in definition.questions() if not q.contact}
    base = analysable_query(version)
    last_id, left = after, limit
    while left is None or left > 0:
        size = BATCH if left is None else min(BATCH, left)
        # Plain columns, not ORM objects, so nothing accumulates in the session.
        batch = db.session.execute(base.where(Response.id > last_id)
                                   .order_by(Response.id).limit(size)).all()
        if not batch:
            return
        last_id = batch[-1].id
        if left is not None:
            left -= len(batch)
        stored: dict[int, dict[str, list[AnswerRow]]] = defaultdict(lambda: defaultdict(list))
        for answer in db.session.execute(select(
                Answer.response_id, Answer.question, Answer.item, Answer.position,
                Answer.value_text, Answer.value_number, Answer.value_date).where(
                Answer.response_id.in_([r.id for r in batch]))):
            stored[answer.response_id][answer.question].append(AnswerRow(
                answer.question, answer.item, answer.position, answer.value_text,
                answer.value_number, answer.value_date))
        for response in batch:
            typed = {qid: question_type(questions[qid].type).from_rows(questions[qid], rows)
                     for qid, rows in stored[response.id].items() if qid in questions}
            row: Row = {
                "respondent": pseudonym(secret, response.participant_id),
                "language": response.language,
                "completed_at": response.completed_at.isoformat()
                if response.completed_at else None,
            }
            for var in variables:
                row[var.name] = _value(var, typed.get(var.question))
            if weights is not None:
                row[WEIGHT] = weights.get(response.id)
            yield response.id, row


def codebook_of(version: SurveyVersion) -> list[Variable]:
    return cb.codebook(version)


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _value(var: Variable, answer: Any) -> Any:
    if answer is None:
        return None
    source = var.source
    if source == cb.CODED:
        chosen = answer.get(var.item) if isinstance(answer, dict) else str(answer)
        return None if chosen is None else var.code_of(chosen)
    if source == cb.OTHER_TEXT:
        return answer.other if isinstance(answer, ChoiceAnswer | MultipleAnswer) else None
    if source == cb.INDICATOR:
        return int(var.item in answer.values)
    if source == cb.RANK:
        return answer.index(var.item) + 1 if var.item in answer else None
    if source == cb.RATING:
        return answer if isinstance(answer, int) else var.code_of(str(answer))
    if source == cb.NUMBER:
        return _number(answer)
    if source == cb.DATE:
        return answer.isoformat() if isinstance(answer, date) else str(answer)
    return str(answer)


# Writers --------------------------------------------------------------------------------


def _open(target: Target):
    """A binary file to write, and whether we opened (and so must close) it."""
    if isinstance(target, str | Path):
        return open(target, "wb"), True
    return target, False


def write_csv(variables: list[Variable], rows: Iterable[Row], target: Target, *,
              weighted: bool = False, for_spreadsheets: bool = True) -> None:
    """UTF-8 CSV; for spreadsheets with a BOM (so Excel reads UTF-8) and neutralised text."""
    binary, owned = _open(target)
    try:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig" if for_spreadsheets else "utf-8",
                                newline="")
        writer = csv.writer(text)
        names = columns(variables, weighted)
        writer.writerow(names)
        for row in rows:
            writer.writerow([_csv_cell(row.get(name), for_spreadsheets) for name in names])
        text.flush()
        text.detach()
    finally:
        if owned:
            binary.close()


def _csv_cell(value: Any, for_spreadsheets: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value) if for_spreadsheets else value
    return str(value)


def write_xlsx(variables: list[Variable], rows: Iterable[Row], target: Target, *,
               language: str, weighted: bool = False) -> None:
    """A write-only workbook (rows go to disk as they come) with a "codebook" sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    data = workbook.create_sheet("data")
    names = columns(variables, weighted)
    data.append(names)
    for row in rows:
        # openpyxl stores a string starting with "=" as a formula: neutralise text.
        data.append([neutralise(v) if isinstance(v, str) else v
                     for v in (row.get(name) for name in names)])
    sheet = workbook.create_sheet("codebook")
    for line in codebook_rows(variables, language):
        sheet.append([neutralise(cell) for cell in line])
    workbook.save(target)


def _frame(variables: list[Variable], rows: Iterable[Row], weighted: bool):
    import pandas as pd

    names = columns(variables, weighted)
    frame = pd.DataFrame.from_records(list(rows), columns=names)
    for var in variables:
        if var.type == "date":
            frame[var.name] = pd.to_datetime(frame[var.name]).dt.date.astype(object)
            frame[var.name] = frame[var.name].where(frame[var.name].notna(), None)
        elif var.type == "numeric":
            frame[var.name] = pd.to_numeric(frame[var.name]).astype("float64")
    if weighted:
        frame[WEIGHT] = pd.to_numeric(frame[WEIGHT]).astype("float64")
    return frame


def _statistical_labels(variables: list[Variable], language: str, weighted: bool):
    labels = {"respondent": "Pseudonymous respondent", "language": "Language answered in",
              "completed_at": "Completed (UTC)"}
    labels.update({v.name: label_in(v.label, language) for v in variables})
    if weighted:
        labels[WEIGHT] = "Weight"
    value_labels = {v.name: {float(code): label_in(text, language)
                             for code, text in v.value_labels.items()}
                    for v in variables if v.value_labels}
    return labels, value_labels


def write_sav(variables: list[Variable], rows: Iterable[Row], target: str | Path, *,
              language: str, weighted: bool = False) -> None:
    """SPSS .sav with variable and value labels and measurement levels, streamed.

    Names that SPSS would refuse are made valid (see `spss_names`); dates are SPSS dates.
    Rows pass through a temporary spool file, so memory stays flat whatever the count.
    """
    from app.results import sav_writer

    names = columns(variables, weighted)
    renamed = spss_names(names)
    labels, value_labels = _statistical_labels(variables, language, weighted)
    by_name = {v.name: v for v in variables}
    specs = []
    for name in names:
        var = by_name.get(name)
        if var is None:  # respondent, language, completed_at, weight
            kind = sav_writer.NUMERIC if name == WEIGHT else sav_writer.STRING
            specs.append(sav_writer.SavVariable(
                renamed[name], labels[name], kind,
                "scale" if name == WEIGHT else "nominal", decimals=4, width=10))
            continue
        specs.append(sav_writer.SavVariable(
            renamed[name], labels[name], var.type, var.measurement,
            value_labels.get(name, {}), decimals=0 if var.integer else 2))
    sav_writer.write_sav(specs, map(_picker(names), rows), target)


def _picker(names: list[str]) -> Callable[[Row], tuple[Any, ...]]:
    """Turn a row dict into a tuple in column order (missing keys give None), fast."""
    pick = operator.itemgetter(*names)

    def values(row: Row) -> tuple[Any, ...]:
        try:
            picked = pick(row)
        except KeyError:
            picked = tuple(row.get(name) for name in names)
        return picked if isinstance(picked, tuple) else (picked,)

    return values


def safe_names(names: Iterable[str], *, invalid: str, first: str, limit: int,
               size: Callable[[str], int] = len, fold: Callable[[str], str] = str,
               tidy: Callable[[str], str] = str, reserved: Iterable[str] = ()
               ) -> dict[str, str]:
    """Each name made valid and unique for a statistics package, kept as is when it is.

    Characters matching `invalid` become "_", "v" goes before a name whose start does not
    match `first`, names are cut to `limit` (measured by `size`) and passed through `tidy`,
    and a clash (compared after `fold`, also with `reserved` words) gets "_1", "_2"...
    """
    result: dict[str, str] = {}
    used = {fold(word) for word in reserved}

    def cut(text: str, room: int) -> str:
        while size(text) > room:
            text = text[:-1]
        return text

    for name in names:
        clean = re.sub(invalid, "_", name)
        if not re.match(first, clean):
            clean = "v" + clean
        candidate, counter = tidy(cut(clean, limit)), 1
        while fold(candidate) in used:
            suffix = f"_{counter}"
            candidate, counter = cut(clean, limit - size(suffix)) + suffix, counter + 1
        used.add(fold(candidate))
        result[name] = candidate
    return result


def spss_names(names: Iterable[str]) -> dict[str, str]:
    """SPSS names: a letter, then letters, digits and . _ $ # @; at most 64 bytes; not a
    keyword such as TO or BY; not ending in a full stop; unique ignoring case."""
    from app.results import sav_writer

    return safe_names(names, invalid=r"[^\w.$#@]", first=r"[^\W\d_]",
                      limit=sav_writer.NAME_MAX, size=lambda text: len(text.encode("utf-8")),
                      fold=str.upper, tidy=lambda text: re.sub(r"\.+$", "_", text),
                      reserved=sav_writer.RESERVED)


def stata_names(names: Iterable[str]) -> dict[str, str]:
    """Stata names: letters, digits and underscores, at most 32 characters, unique."""
    return safe_names(names, invalid=r"[^A-Za-z0-9_]", first=r"[A-Za-z_]",
                      limit=STATA_NAME_MAX)


def write_dta(variables: list[Variable], rows: Iterable[Row], target: str | Path, *,
              language: str, weighted: bool = False) -> None:
    """Stata .dta with names made Stata-safe and labels cut to 80 characters, streamed.

    Names are fixed as `stata_names` does, also avoiding Stata's reserved words; dates are
    Stata dates (%td); texts longer than 2,045 bytes are strL. Rows pass through a
    temporary spool file (app.results.dta_writer), so memory stays flat whatever the count.
    """
    from app.results import dta_writer

    names = columns(variables, weighted)
    renamed = safe_names(names, invalid=r"[^A-Za-z0-9_]", first=r"[A-Za-z_]",
                         limit=STATA_NAME_MAX, reserved=dta_writer.RESERVED)
    labels, value_labels = _statistical_labels(variables, language, weighted)
    types = {v.name: v.type for v in variables}
    specs = [dta_writer.DtaVariable(
        renamed[name], labels[name][:STATA_LABEL_MAX],
        types.get(name, dta_writer.NUMERIC if name == WEIGHT else dta_writer.STRING),
        {int(code): text[:STATA_LABEL_MAX] for code, text in value_labels.get(name, {}).items()})
        for name in names]
    dta_writer.write_dta(specs, map(_picker(names), rows), target)


def parquet_schema(variables: list[Variable], weighted: bool = False):
    """Arrow schema whose field metadata carries question texts and value labels as JSON."""
    import pyarrow as pa

    fields = [pa.field("respondent", pa.string()), pa.field("language", pa.string()),
              pa.field("completed_at", pa.string())]
    for var in variables:
        if var.type == "numeric":
            kind = pa.int64() if var.integer else pa.float64()
        elif var.type == "date":
            kind = pa.date32()
        else:
            kind = pa.string()
        metadata = {"label": json.dumps(var.label, ensure_ascii=False),
                    "measurement": var.measurement, "relevance": var.relevance,
                    "value_labels": json.dumps({str(c): t for c, t in var.value_labels.items()},
                                               ensure_ascii=False),
                    "values": json.dumps({str(c): v for c, v in var.values.items()},
                                         ensure_ascii=False)}
        fields.append(pa.field(var.name, kind, metadata=metadata))
    if weighted:
        fields.append(pa.field(WEIGHT, pa.float64()))
    return pa.schema(fields)


def write_parquet(variables: list[Variable], rows: Iterable[Row], target: Target, *,
                  weighted: bool = False) -> None:
    """Parquet, one row group per BATCH rows so memory stays flat."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(variables, weighted)
    dates = {v.name for v in variables if v.type == "date"}

    def table(batch: list[Row]):
        return pa.Table.from_pylist(
            [{k: date.fromisoformat(v) if k in dates and v else v for k, v in row.items()}
             for row in batch], schema=schema)

    with pq.ParquetWriter(target, schema) as writer:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_table(table(batch))
                batch = []
        if batch:
            writer.write_table(table(batch))


def _r_string(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'


def r_script(variables: list[Variable], csv_name: str, language: str) -> str:
    """An R script that reads the CSV and applies factor levels and variable labels."""
    lines = [
        "# Reads the export written beside this script; run it from that folder.",
        f"data <- read.csv({_r_string(csv_name)}, fileEncoding = \"UTF-8\", "
        "check.names = FALSE, stringsAsFactors = FALSE, na.strings = \"\")",
    ]
    for var in variables:
        column = f"data[[{_r_string(var.name)}]]"
        if var.value_labels and var.source == cb.CODED:
            codes = sorted(var.value_labels)
            levels = ", ".join(str(c) for c in codes)
            names = ", ".join(_r_string(label_in(var.value_labels[c], language)) for c in codes)
            lines.append(f"{column} <- factor({column}, levels = c({levels}), "
                         f"labels = c({names}))")
        elif var.type == "date":
            lines.append(f"{column} <- as.Date({column})")
        lines.append(f"attr({column}, \"label\") <- {_r_string(label_in(var.label, language))}")
    return "\n".join(lines) + "\n"


def write_r(variables: list[Variable], rows: Iterable[Row], target: str | Path, *,
            language: str, weighted: bool = False) -> Path:
    """A plain CSV (kept exact, without BOM) and `<target>.R` beside it; returns the script."""
    target = Path(target)
    write_csv(variables, rows, target, weighted=weighted, for_spreadsheets=False)
    script = target.with_suffix(".R")
    script.write_text(r_script(variables, target.name, language), encoding="utf-8")
    return script


ROW_FORMATS = ("csv", "xlsx", "sav", "dta", "parquet", "r")
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta",
            "parquet": ".parquet", "r": ".csv"}


def write(format_: str, variables: list[Variable], rows: Iterable[Row], target: str | Path,
          *, language: str, weighted: bool = False) -> Path | None:
    """Write rows in one of :data:`ROW_FORMATS`; returns the R script's path for "r"."""
    if format_ == "csv":
        write_csv(variables, rows, target, weighted=weighted)
    elif format_ == "xlsx":
        write_xlsx(variables, rows, target, language=language, weighted=weighted)
    elif format_ == "sav":
        write_sav(variables, rows, target, language=language, weighted=weighted)
    elif format_ == "dta":
        write_dta(variables, rows, target, language=language, weighted=weighted)
    elif format_ == "parquet":
        write_parquet(variables, rows, target, weighted=weighted)
    elif format_ == "r":
        return write_r(variables, rows, target, language=language, weighted=weighted)
    else:
        raise ValueError(f"unknown format {format_!r}")
    return None
