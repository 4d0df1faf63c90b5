"""A streaming writer of SPSS system files (.sav) whose memory does not grow with the rows.

pyreadstat needs a whole data frame, so a million-row survey would sit in memory at once.
The system file format puts each string variable's width in the dictionary, before the
data, so rows are read once into a temporary spool file (app.results.spool: compact
pickled column batches) while the widest value of every string variable is measured;
then the dictionary is written and the spool is streamed into the data section in
bounded slices.

What is written, following the published description of the format (PSPP "System File
Format"): the file header; one variable record per 8-byte slot (strings wider than 255
bytes as 255-byte segments, announced by the very long string record, subtype 14);
variable labels; value labels for numeric variables (record types 3 and 4); machine
integer (subtype 3, character code 65001) and floating point (subtype 4) records;
measurement level, display width and alignment (subtype 11); long variable names
(subtype 13); the character encoding "UTF-8" (subtype 20); then the cases with bytecode
compression (small integers, system-missing and blank string slots take one byte).

Missing numbers are written as system-missing. Dates are SPSS dates (seconds since
14 October 1582) shown as DATE11. Strings are UTF-8, cut at a character boundary to
32,767 bytes, the longest string SPSS holds; labels are cut like SPSS cuts them.
"""

from __future__ import annotations

import re
import struct
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.results.spool import DATE, NUMERIC, STRING, Conversion, cut_utf8, read_batches, spool_rows

MEASURES = {"unknown": 0, "nominal": 1, "ordinal": 2, "scale": 3}
MAX_STRING = 32767  # bytes, the widest string variable SPSS allows
SHORT_STRING = 255  # wider strings are split into segments
SEGMENT_DATA = 255  # bytes of a very long string held by each segment but the last
SEGMENT_WIDTH = 252  # width each segment but the last accounts for
NAME_MAX = 64  # bytes
VARIABLE_LABEL_MAX = 256  # bytes
VALUE_LABEL_MAX = 120  # bytes
RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR",
                      "TO", "WITH"})
FORMAT_A, FORMAT_F, FORMAT_DATE = 1, 5, 20
BIAS = 100
CODE_LITERAL, CODE_BLANKS, CODE_SYSMIS, CODE_END = 253, 254, 255, 252
SPACES = int.from_bytes(b" " * 8, "little")
SYSMIS = -np.finfo(np.float64).max
GREGORIAN_START = date(1582, 10, 14)
BATCH_BYTES = 8 << 20  # target size of a spooled batch and of a data slice
BATCH_ROWS = 4096
CONVERSION = Conversion(MAX_STRING, GREGORIAN_START, 86400.0)  # dates in seconds
_NAME = re.compile(r"[^\W\d_][\w.$#@]*\Z")

Target = str | Path | IO[bytes]


@dataclass(frozen=True)
class SavVariable:
    """One column: `decimals` and `width` make the F display format of numbers."""

    name: str
    label: str = ""
    type: str = NUMERIC  # numeric | string | date
    measure: str = "nominal"  # nominal | ordinal | scale | unknown
    value_labels: Mapping[float, str] = field(default_factory=dict)
    decimals: int = 2
    width: int = 8


def valid_name(name: str) -> bool:
    """An SPSS variable name: a letter, then letters, digits and . _ $ # @, not a keyword."""
    return (bool(_NAME.match(name)) and not name.endswith(".")
            and len(name.encode("utf-8")) <= NAME_MAX and name.upper() not in RESERVED)


def write_sav(variables: Sequence[SavVariable], rows: Iterable[Sequence[Any]],
              target: Target, *, file_label: str = "",
              created: datetime | None = None) -> int:
    """Write `rows` (one value per variable, in order; read once) and return their count."""
    _check(variables)
    with tempfile.TemporaryFile(prefix="sav-spool-") as spool:
        measures = spool_rows(variables, rows, spool, CONVERSION, batch_bytes=BATCH_BYTES,
                              batch_rows=BATCH_ROWS)
        spool.seek(0)
        layout = _layout(variables, measures.widths)
        with ExitStack() as stack:
            binary = (stack.enter_context(open(target, "wb"))
                      if isinstance(target, str | Path) else target)
            binary.write(_dictionary(layout, measures.rows, file_label,
                                     created or datetime.now()))
            _write_data(layout, read_batches(spool), binary)
    return measures.rows


def _check(variables: Sequence[SavVariable]) -> None:
    seen: set[str] = set()
    for var in variables:
        if not valid_name(var.name):
            raise ValueError(f"{var.name!r} is not a valid SPSS variable name")
        if var.name.upper() in seen:
            raise ValueError(f"variable name {var.name!r} is used twice")
        if var.type not in (NUMERIC, STRING, DATE):
            raise ValueError(f"{var.name}: unknown type {var.type!r}")
        if var.measure not in MEASURES:
            raise ValueError(f"{var.name}: unknown measurement level {var.measure!r}")
        seen.add(var.name.upper())


# Dictionary ------------------------------------------------------------------------------


@dataclass
class _Slot:
    """One variable record that is not a continuation: a variable or a segment of one."""

    short: str
    width: int  # 0 for numbers, else bytes of this segment
    offset: int  # first 8-byte element in the case


@dataclass
class _Column:
    var: SavVariable
    width: int  # 0 for numbers, else the string width in bytes
    slots: list[_Slot]
    offset: int
    elements: int


def _segments(width: int) -> list[int]:
    if width <= SHORT_STRING:
        return [width]
    count = (width + SEGMENT_WIDTH - 1) // SEGMENT_WIDTH
    return [SHORT_STRING] * (count - 1) + [width - (count - 1) * SEGMENT_WIDTH]


def _layout(variables: Sequence[SavVariable], widths: list[int]) -> list[_Column]:
    shorts: set[str] = set()

    def short_name(name: str) -> str:
        base = re.sub(r"[^A-Z0-9_]", "", name.upper()) or "V"
        if not base[0].isalpha():
            base = "V" + base
        candidate, counter = base[:8], 0
        while candidate in shorts or candidate in RESERVED:
            counter += 1
            suffix = f"_{counter}"
            candidate = base[:8 - len(suffix)] + suffix
        shorts.add(candidate)
        return candidate

    layout, offset = [], 0
    for var, longest in zip(variables, widths, strict=True):
        width = max(1, longest) if var.type == STRING else 0
        slots, start = [], offset
        for segment in ([0] if width == 0 else _segments(width)):
            slots.append(_Slot(short_name(var.name), segment, offset))
            offset += 1 if segment == 0 else (segment + 7) // 8
        layout.append(_Column(var, width, slots, start, offset - start))
    return layout


def _int32(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}i", *values)


def _padded(text: bytes, size: int) -> bytes:
    return text[:size].ljust(size, b" ")


def _format(kind: int, width: int, decimals: int = 0) -> int:
    return (kind << 16) | (width << 8) | decimals


def _dictionary(layout: list[_Column], cases: int, file_label: str,
                created: datetime) -> bytes:
    elements = sum(column.elements for column in layout)
    out = bytearray()
    out += b"$FL2" + _padded(b"@(#) SPSS DATA FILE ECHoS Engage", 60)
    out += _int32(2, elements, 1, 0, cases if cases < 2**31 else -1)
    out += struct.pack("<d", BIAS)
    out += _padded(created.strftime("%d %b %y").encode("ascii"), 9)
    out += _padded(created.strftime("%H:%M:%S").encode("ascii"), 8)
    out += _padded(cut_utf8(file_label, 64), 64) + b"\0" * 3
    for column in layout:
        out += _variable_records(column)
    for column in layout:
        if column.var.value_labels and column.width == 0:
            out += _value_labels(column)
    out += _extension(3, 4, _int32(20, 0, 0, -1, 1, 1, 2, 65001))
    out += _extension(4, 8, struct.pack("<3d", SYSMIS, np.finfo(np.float64).max,
                                        np.nextafter(SYSMIS, 0)))
    display = []
    for column in layout:
        measure = MEASURES[column.var.measure]
        alignment = 0 if column.width else 1
        shown = _display_width(column)
        display.extend([measure, shown, alignment] * len(column.slots))
    out += _extension(11, 4, _int32(*display))
    names = "\t".join(f"{c.slots[0].short}={c.var.name}" for c in layout)
    out += _extension(13, 1, names.encode("utf-8"))
    very_long = b"".join(f"{c.slots[0].short}={c.width:05d}".encode("ascii") + b"\0\t"
                         for c in layout if c.width > SHORT_STRING)
    if very_long:
        out += _extension(14, 1, very_long)
    out += _extension(20, 1, b"UTF-8")
    out += _int32(999, 0)
    return bytes(out)


def _display_width(column: _Column) -> int:
    if column.width:
        return max(8, min(column.width, 40))
    if column.var.type == DATE:
        return 11
    return max(8, column.var.width)


def _variable_records(column: _Column) -> bytes:
    var, out = column.var, bytearray()
    label = cut_utf8(var.label, VARIABLE_LABEL_MAX)
    for index, slot in enumerate(column.slots):
        if slot.width == 0:
            kind = (_format(FORMAT_DATE, 11) if var.type == DATE
                    else _format(FORMAT_F, var.width, var.decimals))
        else:
            kind = _format(FORMAT_A, slot.width)
        has_label = int(index == 0 and bool(label))
        out += _int32(2, slot.width, has_label, 0, kind, kind)
        out += _padded(slot.short.encode("ascii"), 8)
        if has_label:
            out += _int32(len(label)) + label + b"\0" * (-len(label) % 4)
        for _ in range(1, (slot.width + 7) // 8):  # continuation records of a long string
            out += _int32(2, -1, 0, 0, 0, 0) + b" " * 8
    return bytes(out)


def _value_labels(column: _Column) -> bytes:
    out = bytearray(_int32(3, len(column.var.value_labels)))
    for value, text in column.var.value_labels.items():
        label = cut_utf8(text, VALUE_LABEL_MAX)
        out += struct.pack("<dB", float(value), len(label)) + label
        out += b" " * (-(1 + len(label)) % 8)
    out += _int32(4, 1, column.offset + 1)
    return bytes(out)


def _extension(subtype: int, size: int, data: bytes) -> bytes:
    return _int32(7, subtype, size, len(data) // size) + data


# Pass 2: data ----------------------------------------------------------------------------


def _write_data(layout: list[_Column], batches: Iterable[list[Any]], out: IO[bytes]) -> None:
    """Cases with bytecode compression: one code per 8-byte element, grouped by eight,
    each group of codes followed by the elements that could not be coded."""
    elements = sum(column.elements for column in layout)
    slice_rows = max(1, BATCH_BYTES // (9 * max(1, elements)))
    carry_codes = np.empty(0, np.uint8)
    carry_values = np.empty(0, "<u8")
    wrote = False
    for columns in batches:
        rows = len(columns[0]) if columns else 0
        for start in range(0, rows, slice_rows):
            stop = min(rows, start + slice_rows)
            codes, values = _elements(layout, columns, start, stop, elements)
            codes = np.concatenate([carry_codes, codes.ravel()])
            values = np.concatenate([carry_values, values.ravel()])
            whole = len(codes) // 8 * 8
            out.write(_groups(codes[:whole], values[:whole]))
            carry_codes, carry_values = codes[whole:], values[whole:]
            wrote = True
    if wrote:
        tail = np.zeros(8 * (len(carry_codes) // 8 + 1), np.uint8)
        tail[:len(carry_codes)] = carry_codes
        tail[len(carry_codes)] = CODE_END
        out.write(_groups(tail, np.concatenate(
            [carry_values, np.zeros(len(tail) - len(carry_codes), "<u8")])))


def _elements(layout: list[_Column], columns: list[Any], start: int, stop: int,
              elements: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes and raw 8-byte elements of cases start..stop, one row per case."""
    rows = stop - start
    codes = np.empty((rows, elements), np.uint8)
    values = np.empty((rows, elements), "<u8")
    for column, data in zip(layout, columns, strict=True):
        at = column.offset
        if column.width == 0:
            numbers = data[start:stop]
            values[:, at] = numbers.view("<u8")
            code = np.full(rows, CODE_LITERAL, np.uint8)
            with np.errstate(invalid="ignore"):
                small = (numbers == np.floor(numbers)) & (numbers >= 1 - BIAS) & (
                    numbers <= 251 - BIAS)
            code[small] = (numbers[small] + BIAS).astype(np.uint8)
            code[np.isnan(numbers)] = CODE_SYSMIS
            codes[:, at] = code
        else:
            block = _string_block(column, data[start:stop])
            values[:, at:at + column.elements] = block
            codes[:, at:at + column.elements] = np.where(block == SPACES, CODE_BLANKS,
                                                         CODE_LITERAL)
    return codes, values


def _string_block(column: _Column, texts: list[bytes]) -> np.ndarray:
    """The strings as space-padded 8-byte elements, very long ones split into segments."""
    rows = len(texts)
    slots = column.slots
    span = SEGMENT_DATA * (len(slots) - 1) + slots[-1].width
    raw = np.array(texts, dtype=f"S{span}").view(np.uint8).reshape(rows, span)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=rows)
    raw[np.arange(span)[None, :] >= lengths[:, None]] = ord(" ")
    stored = np.full((rows, column.elements * 8), ord(" "), np.uint8)
    for index, slot in enumerate(slots):  # a short string is one slot at position 0
        at = (slot.offset - column.offset) * 8
        stored[:, at:at + slot.width] = raw[:, index * SEGMENT_DATA:
                                            index * SEGMENT_DATA + slot.width]
    return stored.view("<u8")


def _groups(codes: np.ndarray, values: np.ndarray) -> bytes:
    """Eight codes as one 8-byte unit, then that group's literal elements, for every group."""
    if not len(codes):
        return b""
    groups = len(codes) // 8
    literal = codes == CODE_LITERAL
    before = np.cumsum(literal)
    out = np.empty(groups + int(before[-1]), "<u8")
    group_of = np.arange(len(codes)) // 8
    out[group_of[literal] + before[literal]] = values[literal]
    literals_before_group = np.concatenate([[0], before[7::8][:-1]])
    out[np.arange(groups) + literals_before_group] = codes.view("<u8")
    return out.tobytes()
