"""Representativeness, raking and weighted results for 1,000,000 respondents x 30 questions.

Illustrative synthetic data, seeded, NOT real statistics: six raking variables (2 to 6
categories) with made-up population margins, and a latent "keenness to take part" that
tilts who answers, so the sample is off the margins the way open engagement is; 24 more
questions (2 to 7 categories, about 5 % no answer) lean on the same latent trait.

Timed, median of ``--rounds``: representativeness for the six variables (shares, Wilson
CIs, binomial tests, goodness of fit, R-indicator), raking to the six margins (also with
trimming bounds), and weighted distributions with CIs for all 30 questions. The baseline
is the ``ipfn`` package raking the same data to the same margins: its dataframe mode on
the respondents (on a 100,000-row subsample if the full data would take over 5 minutes;
the output says so), and its numpy mode on the 6-way cross-table. Peak memory is traced
with ``tracemalloc`` in one extra untimed run of each.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.results.codebook import CODED, Variable
from app.results.statistics import (
    goodness_of_fit,
    kish_design_effect,
    r_indicator,
    rake,
    representation,
    weighted_distribution,
)
from app.results.tables import Dataset, grouping, question_tables
from bench._measure import peak_mib, timed

RAKING = {  # name: illustrative population shares (made up)
    "age band": [0.11, 0.16, 0.17, 0.18, 0.17, 0.21],
    "sex": [0.49, 0.51],
    "region": [0.28, 0.22, 0.19, 0.17, 0.14],
    "education": [0.22, 0.41, 0.25, 0.12],
    "employment": [0.55, 0.08, 0.37],
    "tenure": [0.52, 0.18, 0.24, 0.06],
}
POPULATION = 5_000_000  # illustrative, for the R-indicator's population counts
DF_LIMIT_SECONDS = 300.0
SUBSAMPLE = 100_000


def draw(rng: np.random.Generator, shares: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    """One categorical answer per row: log shares shifted by tilt x latent, then sampled."""
    logits = np.log(shares)[None, :] + tilt
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cumulative[:, -1]
    return np.minimum((u[:, None] > cumulative).sum(axis=1), len(shares) - 1).astype(np.int8)


def make_data(n: int, questions: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keen = rng.standard_normal(n)
    columns = []
    for shares in RAKING.values():
        k = len(shares)
        slope = np.linspace(-1.0, 1.0, k) * rng.choice([-1, 1])
        columns.append(draw(rng, np.array(shares), keen[:, None] * slope + 0.4 * slope))
    for _ in range(questions - len(RAKING)):
        k = int(rng.integers(2, 8))
        answers = draw(rng, rng.dirichlet(np.full(k, 4.0)), keen[:, None] * rng.normal(0, 0.5, k))
        answers[rng.random(n) < 0.05] = -1  # no answer
        columns.append(answers)
    return np.asfortranarray(np.column_stack(columns))  # one column per question, as stored


def representativeness(data: np.ndarray) -> list[Any]:
    out = []
    for j, (name, shares) in enumerate(RAKING.items()):
        counts = np.bincount(data[:, j], minlength=len(shares))
        sample = {f"{name} {k}": int(c) for k, c in enumerate(counts)}
        benchmark = {f"{name} {k}": s for k, s in enumerate(shares)}
        population = {key: s * POPULATION for key, s in benchmark.items()}
        out.append(
            (
                representation(sample, benchmark),
                goodness_of_fit(sample, benchmark),
                r_indicator(sample, population),
            )
        )
    return out


def distributions(data: np.ndarray, weights: np.ndarray) -> list[Any]:
    return [
        weighted_distribution(data[:, j], weights, range(int(data[:, j].max()) + 1))
        for j in range(data.shape[1])
    ]


def dataset(data: np.ndarray, weights: np.ndarray) -> Dataset:
    """The same answers as the tables module stores them: codes from 1, NaN for none."""
    variables, columns = [], {}
    for j in range(data.shape[1]):
        name = f"q{j + 1}"
        codes = range(1, int(data[:, j].max()) + 2)
        variables.append(Variable(
            name=name, question=name, item="", label={"en": name}, type="numeric",
            measurement="ordinal" if j % 2 else "nominal", source=CODED, relevance="",
            survey="bench", version=1, value_labels={c: {"en": f"answer {c}"} for c in codes},
            values={c: str(c) for c in codes}, integer=True))
        column = data[:, j].astype(float) + 1
        column[data[:, j] < 0] = np.nan
        columns[name] = column
    return Dataset(variables, columns, weights)


def tables_by_group(data: Dataset) -> list[Any]:
    """Every question's weighted table, compared across age bands (tests, Holm, k=10)."""
    return question_tables(data, k=10, language="en", by=grouping(data, ["q1"], "en"))


def ipfn_dataframe(data: np.ndarray, margins: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """ipfn's dataframe mode on the respondents: one row each, weight column starts at 1."""
    import pandas as pd
    from ipfn.ipfn import ipfn

    names = [f"v{j}" for j in range(len(margins))]
    frame = pd.DataFrame(data[:, : len(margins)], columns=names)
    frame["row"] = np.arange(len(frame))
    frame["total"] = 1.0
    scale = len(frame)
    aggregates = [
        pd.Series(m * scale, index=pd.Index(range(m.size), name=name))
        for name, m in zip(names, margins, strict=True)
    ]
    fitter = ipfn(
        frame,
        aggregates,
        [[name] for name in names],
        convergence_rate=1e-10,
        max_iteration=1000,
        rate_tolerance=0,
        verbose=2,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        fitted, _, log = fitter.iteration()
    weights = np.empty(len(frame))
    weights[fitted["row"].to_numpy()] = fitted["total"].to_numpy()
    return weights, len(log)


def ipfn_numpy(data: np.ndarray, margins: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """ipfn's numpy mode on the 6-way cross-table of counts, expanded back to rows."""
    from ipfn.ipfn import ipfn

    shape = tuple(m.size for m in margins)
    cell = np.ravel_multi_index(tuple(data[:, : len(margins)].T.astype(np.intp)), shape)
    seed = np.bincount(cell, minlength=int(np.prod(shape))).astype(float).reshape(shape)
    fitter = ipfn(
        seed.copy(),  # ipfn fits a float array in place
        [m * len(data) for m in margins],
        [[j] for j in range(len(margins))],
        convergence_rate=1e-10,
        max_iteration=1000,
        rate_tolerance=0,
        verbose=2,
    )
    with contextlib.redirect_stdout(io.StringIO()):
        fitted, _, log = fitter.iteration()
    per_cell = np.divide(fitted, seed, out=np.zeros(shape), where=seed > 0).ravel()
    return per_cell[cell], len(log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    data = make_data(args.respondents, args.questions, args.seed)
    margins = [np.array(s) for s in RAKING.values()]
    raking = data[:, : len(margins)]
    print(
        f"illustrative data: {args.respondents} respondents x {args.questions} questions "
        f"({len(margins)} raking variables, {np.prod([m.size for m in margins])} cells), "
        f"built in {time.perf_counter() - started:.1f} s"
    )

    rep_time, reps = timed(lambda: representativeness(data), args.rounds)
    rep_mem = peak_mib(lambda: representativeness(data))
    flagged = sum(row.under_represented for rows, _, _ in reps for row in rows)
    worst_v = max(fit.cramers_v for _, fit, _ in reps)
    cvs = ", ".join(f"{ind.cv:.2f}" for _, _, ind in reps)
    print(
        f"representativeness, 6 variables: {rep_time * 1000:.1f} ms, peak {rep_mem:.1f} MiB   "
        f"({flagged} categories under-represented, largest Cramér's V {worst_v:.3f}, "
        f"R-indicator CVs {cvs})"
    )

    rake_time, raked = timed(lambda: rake(raking, margins), args.rounds)
    rake_mem = peak_mib(lambda: rake(raking, margins))
    w = raked.weights
    print(
        f"rake to 6 margins: {rake_time:.3f} s, peak {rake_mem:.0f} MiB   "
        f"({raked.iterations} sweeps, converged {raked.converged}, max margin error "
        f"{raked.max_margin_error:.1e}, weights {w.min() / w.mean():.2f}-"
        f"{w.max() / w.mean():.2f} x mean, Kish deff {kish_design_effect(w):.2f})"
    )
    bounds = (0.3, 3.0)
    trim_time, trimmed = timed(lambda: rake(raking, margins, bounds=bounds), args.rounds)
    tw = trimmed.weights
    print(
        f"rake with bounds {bounds}: {trim_time:.3f} s   ({trimmed.iterations} sweeps, bounds "
        f"met {trimmed.bounds_met}, weights {tw.min() / tw.mean():.2f}-{tw.max() / tw.mean():.2f}"
        f" x mean, Kish deff {kish_design_effect(tw):.2f})"
    )

    dist_time, dists = timed(lambda: distributions(data, w), args.rounds)
    dist_mem = peak_mib(lambda: distributions(data, w))
    widest = max(s.ci_high - s.ci_low for d in dists for s in d)
    print(
        f"weighted distributions with CIs, {args.questions} questions: {dist_time:.3f} s, "
        f"peak {dist_mem:.0f} MiB   (widest 95 % CI {widest * 100:.2f} points)"
    )

    frame = dataset(data, w)
    tables_time, tables = timed(lambda: tables_by_group(frame), args.rounds)
    tables_mem = peak_mib(lambda: tables_by_group(frame))
    tested = sum(t.comparison is not None and t.comparison.test is not None for t in tables)
    print(
        f"question tables, {len(tables)} questions weighted and by age band (suppression, "
        f"chi-square / Kruskal-Wallis, Holm): {tables_time:.3f} s, peak {tables_mem:.0f} MiB   "
        f"({tested} tests)"
    )
    print(
        f"representativeness + raking + weighted distributions + tables: "
        f"{rep_time + rake_time + dist_time + tables_time:.2f} s (target under 10 s)"
    )

    # Baseline: ipfn on the same data and margins.
    probe = raking[: min(len(raking), 20_000)]
    started = time.perf_counter()
    _, probe_iterations = ipfn_dataframe(probe, margins)
    per_row_iteration = (time.perf_counter() - started) / probe_iterations / len(probe)
    estimate = per_row_iteration * len(raking) * (raked.iterations + 2)
    if estimate <= DF_LIMIT_SECONDS:
        rows, note = raking, "full data"
    else:
        pick = np.random.default_rng(args.seed).choice(len(raking), SUBSAMPLE, replace=False)
        rows = raking[np.sort(pick)]
        note = f"{SUBSAMPLE}-row subsample: full data estimated at {estimate:.0f} s"
    started = time.perf_counter()
    df_weights, df_iterations = ipfn_dataframe(rows, margins)
    df_time = time.perf_counter() - started
    df_mem = peak_mib(lambda: ipfn_dataframe(rows, margins))
    ours_same = rake(rows, margins)
    df_gap = np.max(np.abs(df_weights / ours_same.weights - 1))
    ours_rows_time, _ = timed(lambda: rake(rows, margins), args.rounds)
    ours_rows_mem = peak_mib(lambda: rake(rows, margins))
    print(
        f"ipfn dataframe mode ({note}, {len(rows)} rows): {df_time:.1f} s, peak {df_mem:.0f} "
        f"MiB, {df_iterations} iterations, weights within {df_gap:.1e} of ours   "
        f"rake on the same rows: {ours_rows_time:.3f} s, peak {ours_rows_mem:.0f} MiB   "
        f"ratio time {ours_rows_time / df_time:.4f}, memory {ours_rows_mem / df_mem:.2f}"
    )

    np_time, (np_weights, np_iterations) = timed(lambda: ipfn_numpy(raking, margins), args.rounds)
    np_mem = peak_mib(lambda: ipfn_numpy(raking, margins))
    np_gap = np.max(np.abs(np_weights / w - 1))
    print(
        f"ipfn numpy mode (6-way cross-table of all {len(raking)} rows, built and expanded "
        f"in the timing): {np_time:.3f} s, peak {np_mem:.0f} MiB, {np_iterations} iterations, "
        f"weights within {np_gap:.1e} of ours   rake: {rake_time:.3f} s, peak {rake_mem:.0f} MiB"
        f"   ratio time {rake_time / np_time:.2f}, memory {rake_mem / np_mem:.2f}"
    )


if __name__ == "__main__":
    main()
