"""Row-level exports of 1,000,000 responses x 30 questions: CSV, SPSS .sav and Stata .dta,
flat memory.

Illustrative synthetic rows, seeded, made by a generator (NOT read from the database, so
the figures are the writers' own): 12 coded single-choice questions with value labels
(2 to 7 options, about 5 % no answer), 8 five-point Likert items with labels, 6 numbers
(4 whole, 2 decimal) and 4 short free texts in several scripts (mostly left empty), plus
the pseudonym, language and completion time columns every export has.

For CSV (``wide.write_csv``), .sav (``wide.write_sav``) and .dta (``wide.write_dta``), the
last two streaming writers, at each ``--rows`` size: wall and CPU time, peak Python memory
(``tracemalloc``) and peak resident memory (VmHWM), each measured in a fresh subprocess so
peaks never mix; time and VmHWM in one run, tracemalloc (which slows Python down) in
another. Memory is flat when the peaks at the largest size are about those at the smallest.
The baselines in the same run are the former .sav and .dta paths: ``pyreadstat.write_sav``
and ``pyreadstat.write_dta`` from one pandas data frame of every row (each skipped, with a
message, where it would need more than ``--baseline-limit-gib``).
The time the generator alone takes is printed too: every export time includes it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.results import wide
from app.results.codebook import Variable

CHUNK = 10_000
TEXTS = ["Mehr Vorsorge auf dem Land", "Plus de dépistage, s'il vous plaît",
         "Καλύτερη ενημέρωση για τον καρκίνο", "نحتاج إلى مزيد من الدعم للمرضى",  # noqa: RUF001
         "Shorter waiting times", "Więcej informacji o badaniach", "🎗️ thank you"]
LANGUAGES = ["en", "de", "fr", "el", "ar", "pl"]
LIKERT = {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree",
          5: "Strongly agree"}


def variables() -> list[Variable]:
    rng = np.random.default_rng(7)
    common = {"relevance": "", "survey": "bench", "version": 1, "item": ""}
    out = []
    for i in range(1, 13):
        options = int(rng.integers(2, 8))
        out.append(Variable(
            name=f"choice{i}", question=f"choice{i}", label={"en": f"Coded question {i}"},
            type="numeric", measurement="nominal", source="coded", integer=True,
            value_labels={c: {"en": f"Option {c}"} for c in range(1, options + 1)},
            values={c: f"o{c}" for c in range(1, options + 1)}, **common))
    for i in range(1, 9):
        out.append(Variable(
            name=f"agree.{i}", question="agree", label={"en": f"Statement {i}"},
            type="numeric", measurement="ordinal", source="coded", integer=True,
            value_labels={c: {"en": t} for c, t in LIKERT.items()}, **common))
    for i in range(1, 7):
        out.append(Variable(
            name=f"number{i}", question=f"number{i}", label={"en": f"Number {i}"},
            type="numeric", measurement="scale", source="number", integer=i <= 4, **common))
    for i in range(1, 5):
        out.append(Variable(
            name=f"text{i}", question=f"text{i}", label={"en": f"Comment {i}"},
            type="string", measurement="nominal", source="text", **common))
    return out


EXPORTS = (("csv", "CSV (write_csv)"), ("sav", ".sav (write_sav, streaming)"),
           ("dta", ".dta (write_dta, streaming)"))
BASELINES = (("baseline", "sav", "baseline .sav: pyreadstat.write_sav from a whole data frame"),
             ("dta_baseline", "dta",
              "baseline .dta: pyreadstat.write_dta from a whole data frame"))


def _with_missing(values: list[Any], missing: np.ndarray) -> list[Any]:
    return [None if gap else value for value, gap in zip(values, missing, strict=True)]


def synthetic_rows(variables: list[Variable], count: int, seed: int = 0) -> Iterator[dict]:
    """Rows as wide.wide_rows yields them, built CHUNK at a time so memory stays small."""
    rng = np.random.default_rng(seed)
    names = wide.columns(variables)
    made = 0
    while made < count:
        n = min(CHUNK, count - made)
        columns: list[list[Any]] = [
            [f"{x:012x}" for x in rng.integers(0, 2**48, n).tolist()],
            [LANGUAGES[i] for i in rng.integers(0, len(LANGUAGES), n).tolist()],
            [f"2026-{m:02d}-{d:02d}T{h:02d}:{s % 60:02d}:{s // 60:02d}+00:00"
             for m, d, h, s in zip(*(rng.integers(1, top, n).tolist()
                                     for top in (12, 28, 24, 3600)), strict=True)],
        ]
        for var in variables:
            missing = rng.random(n) < 0.05
            if var.value_labels:
                values = rng.integers(1, max(var.value_labels) + 1, n).tolist()
            elif var.type == "string":
                values = [TEXTS[i] for i in rng.integers(0, len(TEXTS), n).tolist()]
                missing = rng.random(n) < 0.7
            elif var.integer:
                values = rng.integers(16, 90, n).tolist()
            else:
                values = np.round(rng.gamma(2.0, 40.0, n), 2).tolist()
            columns.append(_with_missing(values, missing))
        for values in zip(*columns, strict=True):
            yield dict(zip(names, values, strict=True))
        made += n


def former_write_sav(variables: list[Variable], rows, target: Path) -> None:
    """The previous wide.write_sav: pyreadstat from one data frame holding every row."""
    import pyreadstat

    frame = wide._frame(variables, rows, False)
    labels, value_labels = wide._statistical_labels(variables, "en", False)
    pyreadstat.write_sav(frame, str(target), column_labels=[labels[c] for c in frame.columns],
                         variable_value_labels=value_labels,
                         variable_measure={v.name: v.measurement for v in variables})


def former_write_dta(variables: list[Variable], rows, target: Path) -> None:
    """The previous wide.write_dta: pyreadstat from one data frame holding every row."""
    import pyreadstat

    frame = wide._frame(variables, rows, False)
    labels, value_labels = wide._statistical_labels(variables, "en", False)
    renamed = wide.stata_names(frame.columns)
    frame = frame.rename(columns=renamed)
    pyreadstat.write_dta(
        frame, str(target), column_labels=[labels[c][:wide.STATA_LABEL_MAX] for c in renamed],
        variable_value_labels={renamed[name]: {int(code): text[:wide.STATA_LABEL_MAX]
                                               for code, text in codes.items()}
                               for name, codes in value_labels.items()})


def _status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(kind: str, rows: int, traced: bool) -> dict[str, float]:
    """One measurement, in this (fresh) process; every writer's modules imported first."""
    import pandas  # noqa: F401
    import pyreadstat  # noqa: F401

    from app.results import dta_writer, sav_writer  # noqa: F401

    variables_ = variables()
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as folder:
        target = Path(folder) / f"out.{kind}"
        data = synthetic_rows(variables_, rows)
        start_rss = _status("VmRSS")
        if traced:
            tracemalloc.start()
        cpu = _cpu()
        started = time.perf_counter()
        if kind == "csv":
            wide.write_csv(variables_, data, target)
        elif kind == "sav":
            wide.write_sav(variables_, data, target, language="en")
        elif kind == "dta":
            wide.write_dta(variables_, data, target, language="en")
        elif kind == "baseline":
            former_write_sav(variables_, data, target)
        elif kind == "dta_baseline":
            former_write_dta(variables_, data, target)
        else:
            for _ in data:
                pass
        seconds = time.perf_counter() - started
        cpu = _cpu() - cpu
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
        size = target.stat().st_size if target.exists() else 0
    return {"seconds": seconds, "cpu": cpu, "traced": peak, "hwm": _status("VmHWM"),
            "start": start_rss, "size": size}


def measure(kind: str, rows: int) -> dict[str, float]:
    """Time and peak RSS in one fresh process, tracemalloc peak in another."""
    result: dict[str, float] = {}
    for traced in (False, True):
        command = [sys.executable, "-m", "bench.exports", "--child", kind, "--rows", str(rows)]
        if traced:
            command.append("--traced")
        output = subprocess.run(command, check=True, capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent.parent).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        if traced:
            result["traced"] = figures["traced"]
        else:
            result.update(figures)
    return result


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def line(name: str, rows: int, figures: dict[str, float]) -> str:
    return (f"{name}, {rows:,} rows: {figures['seconds']:.1f} s ({figures['cpu']:.1f} s CPU), "
            f"tracemalloc peak "
            f"{mib(figures['traced'])}, peak RSS {mib(figures['hwm'])} "
            f"(+{mib(figures['hwm'] - figures['start'])} over the process before the export)"
            + (f", file {mib(figures['size'])}" if figures.get("size") else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="100000,1000000",
                        help="comma-separated sizes, smallest first (default 100000,1000000)")
    parser.add_argument("--baseline-limit-gib", type=float, default=8.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.rows.split(","))
    if args.child:
        print(json.dumps(child(args.child, sizes[0], args.traced)))
        return

    print(f"illustrative synthetic rows from a seeded generator, not the database: "
          f"{len(variables())} questions (12 coded, 8 Likert, 6 numbers, 4 texts) "
          f"+ 3 fixed columns; each figure from a fresh process")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for rows in sizes:
        generator = measure("generator", rows)
        print(f"generator alone, {rows:,} rows: {generator['seconds']:.1f} s "
              f"({generator['cpu']:.1f} s CPU) "
              "(included in every export time below)")
        for kind, name in EXPORTS:
            results[kind, rows] = measure(kind, rows)
            print(line(name, rows, results[kind, rows]))
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        limit = min(args.baseline_limit_gib * 2**30, 0.8 * available)
        for baseline, subject, name in BASELINES:
            smaller = [r for r in sizes if (baseline, r) in results]
            estimate = 0.0
            if smaller:
                done = results[baseline, smaller[-1]]
                estimate = (done["hwm"] - done["start"]) * rows / smaller[-1]
            if estimate > limit:
                print(f"{name}, {rows:,} rows: skipped, it would need about {mib(estimate)} "
                      f"(limit {mib(limit)})")
                continue
            results[baseline, rows] = measure(baseline, rows)
            print(line(name, rows, results[baseline, rows]))
            ours, base = results[subject, rows], results[baseline, rows]
            print(f"  .{subject} / baseline at {rows:,} rows: time "
                  f"{ours['seconds'] / base['seconds']:.2f} (CPU {ours['cpu'] / base['cpu']:.2f}),"
                  f" tracemalloc peak {ours['traced'] / base['traced']:.3f}, RSS growth "
                  f"{(ours['hwm'] - ours['start']) / (base['hwm'] - base['start']):.3f}")

    if len(sizes) > 1:
        low, high = sizes[0], sizes[-1]
        print(f"flatness, peak at {high:,} / peak at {low:,} rows (1.0 = flat; "
              f"{high / low:.0f} would be proportional):")
        for kind in ("csv", "sav", "dta", "baseline", "dta_baseline"):
            if (kind, high) in results and (kind, low) in results:
                a, b = results[kind, low], results[kind, high]
                print(f"  {kind}: tracemalloc {b['traced'] / a['traced']:.2f}, peak RSS "
                      f"{b['hwm'] / a['hwm']:.2f}, RSS growth "
                      f"{(b['hwm'] - b['start']) / max(1, a['hwm'] - a['start']):.2f}, "
                      f"time {b['seconds'] / a['seconds']:.1f}, CPU {b['cpu'] / a['cpu']:.1f}")


if __name__ == "__main__":
    main()
