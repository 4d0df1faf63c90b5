"""A streaming writer of Stata data files (.dta, format 118) whose memory does not grow
with the rows.

pyreadstat needs a whole data frame, so a million-row survey would sit in memory at once.
A .dta file declares each string variable's width (str1 to str2045, or strL for longer
text) before the data, so rows are read once into a temporary spool file
(app.results.spool) while string widths and sizes are measured; then every section's
offset is known, the header is written, and the spool is streamed into the data in
bounded slices. strL texts belong in a section after the data, so they go to a second
temporary file on the way and are copied after the data.

What is written, following Stata's description of the dta format, release 118 (Stata 14
and later, UTF-8 throughout, little-endian): the header (variable and row counts, file
label, time stamp); the map of section offsets; variable types (double for numbers and
dates, str# up to 2,045 bytes, strL beyond); names; an empty sort list; display formats
(%td for dates); value label names; variable labels; no characteristics; the data, one
fixed-width record per row; the strL texts (one null-terminated text per non-empty
cell); value labels (integer codes).

Missing numbers and dates are written as Stata's system missing (.); a missing text is
the empty string. Dates are Stata dates (days since 1 January 1960). Labels are cut to
80 characters, as Stata shows them.
"""

from __future__ import annotations

import re
import shutil
import struct
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.results.spool import (
    BATCH_BYTES,
    BATCH_ROWS,
    DATE,
    NUMERIC,
    STRING,
    Conversion,
    cut_utf8,
    read_batches,
    spool_rows,
)

RELEASE = 118
MAX_VARIABLES = 32767
MAX_STR = 2045  # bytes; longer texts are strL
MAX_STRL = 2_000_000_000  # bytes a strL holds
NAME_MAX = 32  # characters
LABEL_MAX = 80  # characters, for variable, file and value labels
VALUE_LABEL_BYTES = 32000
TYPE_STRL, TYPE_DOUBLE = 32768, 65526
NAME_FIELD, FORMAT_FIELD, LABEL_FIELD = 129, 57, 321  # bytes, null-terminated
GSO_HEADER = 3 + 4 + 8 + 1 + 4  # "GSO", v, o, type, length
GSO_TEXT = 130  # a null-terminated text
MISSING = 2.0 ** 1023  # system missing, ".": the smallest of Stata's missing doubles
LARGEST = float(np.nextafter(MISSING, 0))  # the largest double Stata keeps as a number
CODE_MIN, CODE_MAX = -2147483647, 2147483620  # integers a value label may name
COPY_BYTES = 1 << 16  # strL texts are copied after the data in pieces of this size
STATA_EPOCH = date(1960, 1, 1)
CONVERSION = Conversion(MAX_STRL, STATA_EPOCH, 1.0, LARGEST)
FORMAT_NUMBER, FORMAT_DATE, FORMAT_TEXT = "%10.0g", "%td", "%-9s"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
RESERVED = frozenset({"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in",
                      "int", "long", "_n", "_N", "_pi", "_pred", "_rc", "_skip", "strL",
                      "using", "with", "_weight"}
                     | {f"str{width}" for width in range(1, MAX_STR + 1)})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Target = str | Path | IO[bytes]


@dataclass(frozen=True)
class DtaVariable:
    """One column; value labels name integer codes of a numeric variable."""

    name: str
    label: str = ""
    type: str = NUMERIC  # numeric | string | date
    value_labels: Mapping[int, str] = field(default_factory=dict)


def valid_name(name: str) -> bool:
    """A Stata name: a letter or _, then letters, digits and _, at most 32, not reserved."""
    return bool(_NAME.match(name)) and len(name) <= NAME_MAX and name not in RESERVED


def write_dta(variables: Sequence[DtaVariable], rows: Iterable[Sequence[Any]],
              target: Target, *, file_label: str = "",
              created: datetime | None = None) -> int:
    """Write `rows` (one value per variable, in order; read once) and return their count."""
    _check(variables)
    with ExitStack() as stack:
        spool = stack.enter_context(tempfile.TemporaryFile(prefix="dta-spool-"))
        measures = spool_rows(variables, rows, spool, CONVERSION, batch_bytes=BATCH_BYTES,
                              batch_rows=BATCH_ROWS)
        spool.seek(0)
        layout = _Layout(variables, measures.widths)
        strls_size = sum(measures.text_bytes[i] + measures.filled[i] * (GSO_HEADER + 1)
                         for i, column in enumerate(layout.columns) if column.kind == TYPE_STRL)
        texts = stack.enter_context(tempfile.TemporaryFile(prefix="dta-strl-"))
        out = (stack.enter_context(open(target, "wb")) if isinstance(target, str | Path)
               else target)
        labels = _value_labels(variables)
        head = _head(layout, measures.rows, file_label, created or datetime.now())
        data_at = len(head) + MAP_SIZE
        data_size = len(b"<data>") + layout.row_width * measures.rows + len(b"</data>")
        strls_at = data_at + data_size
        labels_at = strls_at + len(b"<strls>") + strls_size + len(b"</strls>")
        end_at = labels_at + len(labels)
        offsets = [0, head.index(_MAP_TAGS), *_section_offsets(head), data_at,
                   strls_at, labels_at, end_at, end_at + len(b"</stata_dta>")]
        out.write(_with_map(head, offsets))
        out.write(b"<data>")
        _write_data(layout, read_batches(spool), out, texts)
        out.write(b"</data><strls>")
        if texts.tell() != strls_size:
            raise RuntimeError("strL texts differ from what was measured")
        texts.seek(0)
        shutil.copyfileobj(texts, out, COPY_BYTES)
        out.write(b"</strls>" + labels + b"</stata_dta>")
    return measures.rows


def _check(variables: Sequence[DtaVariable]) -> None:
    if len(variables) > MAX_VARIABLES:
        raise ValueError(f"Stata files hold at most {MAX_VARIABLES} variables")
    seen: set[str] = set()
    for var in variables:
        if not valid_name(var.name):
            raise ValueError(f"{var.name!r} is not a valid Stata variable name")
        if var.name in seen:
            raise ValueError(f"variable name {var.name!r} is used twice")
        if var.type not in (NUMERIC, STRING, DATE):
            raise ValueError(f"{var.name}: unknown type {var.type!r}")
        if var.value_labels and var.type != NUMERIC:
            raise ValueError(f"{var.name}: only numeric variables have value labels")
        for code in var.value_labels:
            if int(code) != code or not CODE_MIN <= code <= CODE_MAX:
                raise ValueError(f"{var.name}: value label code {code!r} is not an integer "
                                 "Stata can label")
        seen.add(var.name)


# Header ----------------------------------------------------------------------------------


@dataclass
class _Column:
    var: DtaVariable
    kind: int  # Stata type: 1..2045 (str#), TYPE_STRL or TYPE_DOUBLE
    size: int  # bytes in a row record
    offset: int  # in the row record
    number: int  # 1-based, as strL references count variables


class _Layout:
    """Each variable's Stata type and place in the fixed-width row record."""

    def __init__(self, variables: Sequence[DtaVariable], widths: list[int]) -> None:
        self.columns: list[_Column] = []
        offset = 0
        for number, (var, width) in enumerate(zip(variables, widths, strict=True), start=1):
            if var.type != STRING:
                kind, size = TYPE_DOUBLE, 8
            elif width > MAX_STR:
                kind, size = TYPE_STRL, 8
            else:
                kind = size = max(1, width)
            self.columns.append(_Column(var, kind, size, offset, number))
            offset += size
        self.row_width = offset


def _field(text: bytes, size: int) -> bytes:
    """`text` null-padded to a fixed field of `size` bytes (keeping a final null)."""
    return text[:size - 1].ljust(size, b"\0")


def _label(text: str) -> bytes:
    return text[:LABEL_MAX].encode("utf-8")


def _tag(name: str, content: bytes) -> bytes:
    return f"<{name}>".encode() + content + f"</{name}>".encode()


_MAP_TAGS = b"<map></map>"
MAP_SIZE = 8 * 14  # the map's fourteen offsets
_SECTIONS = ("variable_types", "varnames", "sortlist", "formats", "value_label_names",
             "variable_labels", "characteristics")


def _head(layout: _Layout, rows: int, file_label: str, created: datetime) -> bytes:
    """Everything before the data, with the map left out (see :func:`_with_map`)."""
    columns = layout.columns
    count = len(columns)
    stamp = (f"{created.day:02d} {MONTHS[created.month - 1]} {created.year:04d} "
             f"{created.hour:02d}:{created.minute:02d}").encode("ascii")
    label = _label(file_label)
    header = _tag("header", b"".join([
        _tag("release", str(RELEASE).encode()), _tag("byteorder", b"LSF"),
        _tag("K", struct.pack("<H", count)), _tag("N", struct.pack("<Q", rows)),
        _tag("label", struct.pack("<H", len(label)) + label),
        _tag("timestamp", struct.pack("<B", len(stamp)) + stamp)]))

    def format_of(column: _Column) -> str:
        if column.var.type == DATE:
            return FORMAT_DATE
        return FORMAT_NUMBER if column.var.type == NUMERIC else FORMAT_TEXT

    sections = [
        _tag("variable_types", struct.pack(f"<{count}H", *(c.kind for c in columns))),
        _tag("varnames", b"".join(_field(c.var.name.encode("utf-8"), NAME_FIELD)
                                  for c in columns)),
        _tag("sortlist", b"\0\0" * (count + 1)),
        _tag("formats", b"".join(_field(format_of(c).encode("ascii"), FORMAT_FIELD)
                                 for c in columns)),
        _tag("value_label_names", b"".join(
            _field(c.var.name.encode("utf-8") if c.var.value_labels else b"", NAME_FIELD)
            for c in columns)),
        _tag("variable_labels", b"".join(_field(_label(c.var.label), LABEL_FIELD)
                                         for c in columns)),
        _tag("characteristics", b""),
    ]
    return b"<stata_dta>" + header + _MAP_TAGS + b"".join(sections)


def _section_offsets(head: bytes) -> list[int]:
    """Where each section from variable types to characteristics starts, map included."""
    return [head.index(f"<{name}>".encode()) + MAP_SIZE for name in _SECTIONS]


def _with_map(head: bytes, offsets: list[int]) -> bytes:
    at = head.index(_MAP_TAGS) + len(b"<map>")
    return head[:at] + struct.pack("<14Q", *offsets) + head[at:]


def _value_labels(variables: Sequence[DtaVariable]) -> bytes:
    """One value label table per labelled variable, named after it."""
    tables = []
    for var in variables:
        if not var.value_labels:
            continue
        codes = sorted(var.value_labels)
        texts = [cut_utf8(var.value_labels[code][:LABEL_MAX], VALUE_LABEL_BYTES - 1) + b"\0"
                 for code in codes]
        starts = np.cumsum([0, *map(len, texts)])[:-1].tolist()
        text = b"".join(texts)
        table = (struct.pack("<2i", len(codes), len(text))
                 + struct.pack(f"<{len(codes)}i", *starts)
                 + struct.pack(f"<{len(codes)}i", *(int(code) for code in codes)) + text)
        tables.append(_tag("lbl", struct.pack("<i", len(table))
                           + _field(var.name.encode("utf-8"), NAME_FIELD) + b"\0" * 3 + table))
    return _tag("value_labels", b"".join(tables))


# Data ------------------------------------------------------------------------------------


def _write_data(layout: _Layout, batches: Iterable[list[Any]], out: IO[bytes],
                texts: IO[bytes]) -> None:
    """Fixed-width row records in slices of about BATCH_BYTES; strL texts go to `texts`."""
    slice_rows = max(1, BATCH_BYTES // max(1, layout.row_width))
    first = 1  # Stata numbers observations from 1
    for columns in batches:
        rows = len(columns[0]) if columns else 0
        for start in range(0, rows, slice_rows):
            stop = min(rows, start + slice_rows)
            out.write(_records(layout, columns, start, stop, first + start, texts).data)
        first += rows


def _records(layout: _Layout, columns: list[Any], start: int, stop: int, first: int,
             texts: IO[bytes]) -> np.ndarray:
    """Row records of observations first.. (numbered from 1); their strL texts, in
    observation then variable order, go to `texts`."""
    rows = stop - start
    record = np.empty((rows, layout.row_width), np.uint8)
    strls: list[tuple[int, int, bytes]] = []
    for column, data in zip(layout.columns, columns, strict=True):
        at, size = column.offset, column.size
        if column.kind == TYPE_DOUBLE:
            numbers = np.where(np.isnan(data[start:stop]), MISSING, data[start:stop])
            record[:, at:at + 8] = numbers.astype("<f8").view(np.uint8).reshape(rows, 8)
        elif column.kind == TYPE_STRL:
            # A (variable, observation) reference in 2 and 6 bytes; (0, 0) is "".
            references = np.zeros(rows, "<u8")
            for index, text in enumerate(data[start:stop]):
                if text:
                    references[index] = column.number | (first + index) << 16
                    strls.append((first + index, column.number, text))
            record[:, at:at + 8] = references.view(np.uint8).reshape(rows, 8)
        else:  # numpy pads fixed-width bytes with nulls, as str# is stored
            block = np.array(data[start:stop], dtype=f"S{size}")
            record[:, at:at + size] = block.view(np.uint8).reshape(rows, size)
    for observation, number, text in sorted(strls, key=lambda entry: entry[:2]):
        texts.write(b"GSO" + struct.pack("<IQBI", number, observation, GSO_TEXT, len(text) + 1)
                    + text + b"\0")
    return record
