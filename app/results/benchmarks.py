"""Population benchmarks: the shares a sample is compared with, from Eurostat or any table.

Two inputs are read:

* **Eurostat SDMX-CSV**, as the Eurostat data browser downloads it (``DATAFLOW``,
  ``LAST UPDATE``, one column per dimension such as ``freq``, ``unit``, ``sex``, ``age``,
  ``geo``, then ``TIME_PERIOD``, ``OBS_VALUE``, ``OBS_FLAG``). Eurostat's codes are
  turned into the survey's categories by a mapping file in ``surveys/benchmarks/``
  (format in its README): which survey question, which dimension, fixed filters on the
  other dimensions, and which codes add up to each survey category.
* **Plain CSV** with the columns ``variable, category, country`` and ``share`` or
  ``count``, plus ``source`` and ``year``.

Every benchmark keeps its source and year, so pages can say where a figure comes from.
Plain functions: no Flask; the caller commits.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from sqlalchemy import delete, select

from app.extensions import db
from app.results.models import Benchmark

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "surveys" / "benchmarks"
SDMX_REQUIRED = ("geo", "TIME_PERIOD", "OBS_VALUE")
PLAIN_REQUIRED = ("variable", "category", "country", "source", "year")
# Eurostat writes Greece as EL and the United Kingdom as UK; the platform uses ISO codes.
EUROSTAT_TO_ISO = {"EL": "GR", "UK": "GB"}


class BenchmarkError(ValueError):
    """Bad input, with the file and line so it can be fixed."""


@dataclass(frozen=True)
class Mapping:
    id: str
    source: str
    dataflow: str
    variable: str
    dimension: str
    filters: dict[str, str]
    categories: dict[str, list[str]]


@dataclass
class Row:
    variable: str
    category: str
    geography: str
    year: int
    source: str
    count: float | None = None
    share: float | None = None


def load_mapping(path: Path) -> Mapping:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    try:
        return Mapping(id=str(data["id"]), source=str(data["source"]),
                       dataflow=str(data["dataflow"]).upper(), variable=str(data["variable"]),
                       dimension=str(data["dimension"]),
                       filters={str(k): str(v) for k, v in (data.get("filters") or {}).items()},
                       categories={str(k): [str(c) for c in v]
                                   for k, v in data["categories"].items()})
    except (KeyError, TypeError, AttributeError) as error:
        raise BenchmarkError(f"{path}: missing or malformed field {error}") from error


def mappings(folder: Path = MAPPINGS_DIR) -> list[Mapping]:
    return [load_mapping(p) for p in sorted(folder.glob("*.yaml"))]


def _rows(text: str, name: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise BenchmarkError(f"{name}: the file is empty")
    return [f.strip() for f in reader.fieldnames], [
        {k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def is_sdmx(text: str) -> bool:
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return "OBS_VALUE" in header.split(",")


def _dataflow(row: dict[str, str]) -> str:
    """'ESTAT:DEMO_PJANGROUP(1.0)' -> 'DEMO_PJANGROUP'."""
    value = row.get("DATAFLOW", "")
    return value.split(":", 1)[-1].split("(", 1)[0].upper()


def read_sdmx(text: str, mapping: Mapping, name: str = "input") -> list[Row]:
    """Sum Eurostat observations into the survey's categories, per country and year."""
    header, rows = _rows(text, name)
    missing = [c for c in (*SDMX_REQUIRED, mapping.dimension, *mapping.filters)
               if c not in header]
    if missing:
        raise BenchmarkError(f"{name}: missing column(s) {', '.join(missing)}")
    category_of = {code: category for category, codes in mapping.categories.items()
                   for code in codes}
    counts: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    seen: dict[tuple[str, int], set[str]] = defaultdict(set)
    for line, row in enumerate(rows, start=2):
        if "DATAFLOW" in row and _dataflow(row) != mapping.dataflow:
            raise BenchmarkError(f"{name}, line {line}: dataflow {_dataflow(row)!r} is not "
                                 f"{mapping.dataflow!r} of mapping {mapping.id!r}")
        if any(row.get(k) != v for k, v in mapping.filters.items()):
            continue
        category = category_of.get(row[mapping.dimension])
        if category is None:
            continue
        if not row["OBS_VALUE"]:
            continue  # Eurostat leaves confidential or missing values empty
        try:
            value = float(row["OBS_VALUE"])
            year = int(row["TIME_PERIOD"][:4])
        except ValueError as error:
            raise BenchmarkError(f"{name}, line {line}: {error}") from error
        geo = EUROSTAT_TO_ISO.get(row["geo"], row["geo"])
        counts[geo, year][category] += value
        seen[geo, year].add(row[mapping.dimension])
    out = []
    needed = {code for codes in mapping.categories.values() for code in codes}
    for (geo, year), by_category in sorted(counts.items()):
        incomplete = needed - seen[geo, year]
        if incomplete:
            continue  # a country with gaps would give wrong shares; leave it out
        total = sum(by_category.values())
        for category in mapping.categories:
            count = by_category.get(category, 0.0)
            out.append(Row(mapping.variable, category, geo, year, mapping.source,
                           count=count, share=count / total if total else None))
    if not out:
        raise BenchmarkError(f"{name}: no complete country matched mapping {mapping.id!r}")
    return out


def read_plain(text: str, name: str = "input") -> list[Row]:
    """variable, category, country, share or count, source, year; shares from counts."""
    header, rows = _rows(text, name)
    missing = [c for c in PLAIN_REQUIRED if c not in header]
    if "share" not in header and "count" not in header:
        missing.append("share or count")
    if missing:
        raise BenchmarkError(f"{name}: missing column(s) {', '.join(missing)}")
    out = []
    for line, row in enumerate(rows, start=2):
        try:
            share = float(row["share"]) if row.get("share") else None
            count = float(row["count"]) if row.get("count") else None
            year = int(row["year"])
        except ValueError as error:
            raise BenchmarkError(f"{name}, line {line}: {error}") from error
        if share is None and count is None:
            raise BenchmarkError(f"{name}, line {line}: give a share or a count")
        if share is not None and not 0 <= share <= 1:
            raise BenchmarkError(f"{name}, line {line}: share {share} is not between 0 and 1")
        if not row["variable"] or not row["category"] or not row["country"]:
            raise BenchmarkError(f"{name}, line {line}: variable, category and country "
                                 "are needed")
        out.append(Row(row["variable"], row["category"], row["country"].upper(), year,
                       row["source"], count=count, share=share))
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for row in out:
        groups[row.variable, row.geography, row.year, row.source].append(row)
    for group in groups.values():
        if all(r.share is None for r in group):
            total = sum(r.count or 0 for r in group)
            for r in group:
                r.share = (r.count or 0) / total if total else None
    return out


def read_file(path: Path, mapping: Mapping | None = None) -> list[Row]:
    """Either format; Eurostat files find their mapping by dataflow when none is given."""
    text = path.read_text(encoding="utf-8-sig")
    if not is_sdmx(text):
        return read_plain(text, path.name)
    if mapping is None:
        _header, rows = _rows(text, path.name)
        flow = _dataflow(rows[0]) if rows else ""
        candidates = [m for m in mappings() if m.dataflow == flow]
        if len(candidates) != 1:
            raise BenchmarkError(f"{path.name}: dataflow {flow!r} has "
                                 f"{len(candidates)} mappings in {MAPPINGS_DIR}; name one "
                                 "with --mapping")
        mapping = candidates[0]
    return read_sdmx(text, mapping, path.name)


def store(rows: list[Row]) -> int:
    """Replace benchmarks with the same variable, geography, year and source."""
    for key in {(r.variable, r.geography, r.year, r.source) for r in rows}:
        db.session.execute(delete(Benchmark).where(
            Benchmark.variable == key[0], Benchmark.geography == key[1],
            Benchmark.year == key[2], Benchmark.source == key[3]))
    db.session.add_all(Benchmark(variable=r.variable, category=r.category,
                                 geography=r.geography, year=r.year, source=r.source,
                                 count=r.count, share=r.share) for r in rows)
    db.session.flush()
    return len(rows)


def shares_for(variable: str, geography: str) -> tuple[dict[str, float], str, int] | None:
    """The latest benchmark for a variable in a country: {category: share}, source, year."""
    latest = db.session.scalar(select(Benchmark).where(
        Benchmark.variable == variable, Benchmark.geography == geography)
        .order_by(Benchmark.year.desc(), Benchmark.id.desc()).limit(1))
    if latest is None:
        return None
    rows = db.session.scalars(select(Benchmark).where(
        Benchmark.variable == variable, Benchmark.geography == geography,
        Benchmark.year == latest.year, Benchmark.source == latest.source))
    return ({r.category: r.share for r in rows if r.share is not None}, latest.source,
            latest.year)
