"""Rows spooled once to a temporary file while string widths are measured.

Statistical file formats (SPSS .sav, Stata .dta) declare each string variable's width
in a header written before the data, and their only library writers need every row in
memory at once. The streaming writers read the rows once into a temporary file instead,
as compact pickled column batches (text as UTF-8 bytes, numbers and dates as float64
arrays with NaN for missing), measuring every string column on the way; then they write
the header and read the batches back one at a time. Batches aim at `batch_bytes` so
memory stays bounded whatever the row count or the width of the texts.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Protocol

import numpy as np

NUMERIC, STRING, DATE = "numeric", "string", "date"
BATCH_BYTES = 8 << 20  # target size of a spooled batch
BATCH_ROWS = 4096
FIRST_BATCH_ROWS = 256  # until the first batch shows how wide rows are


class Spooled(Protocol):
    """What the spool needs to know of a variable: its name (for errors) and type."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...  # numeric | string | date


@dataclass
class Measures:
    """What spooling learnt: row count and, per column, the longest text in bytes, the
    bytes of all its texts and how many of them are not empty (0 for other columns)."""

    rows: int = 0
    widths: list[int] = field(default_factory=list)
    text_bytes: list[int] = field(default_factory=list)
    filled: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Conversion:
    """How a format stores values: the longest text it keeps (bytes), dates as `day`
    units per day since `epoch`, and the largest magnitude of a number."""

    text_limit: int
    epoch: date
    day: float = 1.0
    largest: float = math.inf  # numbers of greater magnitude are refused


def cut_utf8(text: str, limit: int) -> bytes:
    """`text` in UTF-8, at most `limit` bytes, never splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return encoded
    return encoded[:limit].decode("utf-8", "ignore").encode("utf-8")


def spool_rows(variables: Sequence[Spooled], rows: Iterable[Sequence[Any]], spool: IO[bytes],
               conversion: Conversion, *, batch_bytes: int = BATCH_BYTES,
               batch_rows: int = BATCH_ROWS) -> Measures:
    """Pickle `rows` (one value per variable, read once) to `spool` as column batches."""
    count = len(variables)
    measures = Measures(0, [0] * count, [0] * count, [0] * count)
    batch: list[Sequence[Any]] = []
    size = min(FIRST_BATCH_ROWS, batch_rows)
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            size = _flush(variables, batch, spool, conversion, measures, batch_bytes,
                          batch_rows)
            batch = []
    if batch:
        _flush(variables, batch, spool, conversion, measures, batch_bytes, batch_rows)
    return measures


def read_batches(spool: IO[bytes]) -> Iterator[list[Any]]:
    """The spooled batches in order: per column a list of bytes or a float64 array."""
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _flush(variables: Sequence[Spooled], batch: list[Sequence[Any]], spool: IO[bytes],
           conversion: Conversion, measures: Measures, batch_bytes: int,
           batch_rows: int) -> int:
    """Spool one batch; return how many rows the next may hold to stay near batch_bytes."""
    if any(len(row) != len(variables) for row in batch):
        raise ValueError(f"every row needs {len(variables)} values")
    columns: list[Any] = []
    text_bytes = 0
    for index, (var, values) in enumerate(zip(variables, zip(*batch, strict=True),
                                              strict=True)):
        if var.type == STRING:
            encoded = [_text(value, conversion.text_limit) for value in values]
            lengths = list(map(len, encoded))
            measures.widths[index] = max(measures.widths[index], max(lengths))
            total = sum(lengths)
            measures.text_bytes[index] += total
            measures.filled[index] += len(lengths) - lengths.count(0)
            text_bytes += total
            columns.append(encoded)
        elif var.type == DATE:
            columns.append(np.array([_date(var, v, conversion) for v in values],
                                    dtype=np.float64))
        elif var.type == NUMERIC:
            columns.append(_numbers(var, values, conversion.largest))
        else:
            raise ValueError(f"{var.name}: unknown type {var.type!r}")
    pickle.dump(columns, spool, protocol=pickle.HIGHEST_PROTOCOL)
    measures.rows += len(batch)
    per_row = 8 * len(variables) + text_bytes / len(batch)
    return int(min(batch_rows, max(16, batch_bytes // per_row)))


def _text(value: Any, limit: int) -> bytes:
    if value is None:
        return b""
    return cut_utf8(value if isinstance(value, str) else str(value), limit)


def _numbers(var: Spooled, values: tuple[Any, ...], largest: float) -> np.ndarray:
    try:  # numpy turns None into NaN, the missing value
        numbers = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        numbers = np.array([_number(var, v) for v in values], dtype=np.float64)
    if largest < math.inf:
        with np.errstate(invalid="ignore"):
            beyond = np.abs(numbers) > largest
        if beyond.any():
            value = values[int(np.argmax(beyond))]
            raise ValueError(f"{var.name}: {value!r} is too large to be stored")
    return numbers


def _number(var: Spooled, value: Any) -> float:
    if value is None or value == "":
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{var.name}: {value!r} is not a number") from None


def as_date(var: Spooled, value: Any) -> date | None:
    """A date from a date, a datetime or an ISO string; None when there is none."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{var.name}: {value!r} is not an ISO date") from None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValueError(f"{var.name}: {value!r} is not a date")
    return value


def _date(var: Spooled, value: Any, conversion: Conversion) -> float:
    day = as_date(var, value)
    return math.nan if day is None else float((day - conversion.epoch).days * conversion.day)

