"""Opinion groups for 10,000 participants x 1,000 statements, against the PCA step alone.

Illustrative synthetic data, seeded: 4 planted groups on a 2 x 2 design (for or against
each of two themes, half the statements each); a participant votes on about 40 random
statements, agreeing with 80 % probability where their group leans agree, and 5 % of
participants vote on fewer than 7 statements (left out). The baseline is the naive PCA
step only: fill the missing cells with column means into a dense matrix, centre it, and
``scipy.sparse.linalg.svds(k=2)``. The ratio is what the whole pipeline (sparse PCA,
k-means for k = 2..5 with silhouette, statement statistics) costs next to just that.
Peak memory is traced with ``tracemalloc`` in one extra untimed run of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from scipy.special import comb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.consultations.opinion_groups import VoteMatrix, compute_opinion_groups
from bench._measure import peak_mib


def make_votes(
    participants: int, statements: int, per_person: int, seed: int
) -> tuple[VoteMatrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    theme = np.arange(statements) % 2
    groups = rng.integers(0, 4, size=participants)
    stance = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])  # group -> stance per theme
    votes: list[tuple[str, str, int]] = []
    for person, group in enumerate(groups):
        count = rng.integers(1, 7) if rng.random() < 0.05 else rng.poisson(per_person)
        chosen = rng.choice(statements, size=min(max(count, 1), statements), replace=False)
        likely = stance[group, theme[chosen]]
        draw = rng.random(chosen.size)
        cast = np.where(draw < 0.8, likely, np.where(draw < 0.9, 0, -likely))
        votes += [(f"p{person}", f"s{s}", int(v)) for s, v in zip(chosen, cast, strict=True)]
    return VoteMatrix.from_votes(votes), groups


def baseline_pca(matrix: VoteMatrix, seed: int) -> np.ndarray:
    """Fill with column means (dense), centre, svds(k=2): the naive PCA step only."""
    values = sp.csr_matrix(matrix.values)
    n, m = values.shape
    counts = np.bincount(values.indices, minlength=m)
    sums = np.bincount(values.indices, weights=values.data, minlength=m)
    means = np.divide(sums, counts, out=np.zeros(m), where=counts > 0)
    filled = np.repeat(means[None, :], n, axis=0)
    filled[np.repeat(np.arange(n), np.diff(values.indptr)), values.indices] = values.data
    filled -= filled.mean(axis=0)
    start = np.random.default_rng(seed).standard_normal(min(n, m))
    u, s, _ = svds(filled, k=2, v0=start)
    return u * s


def adjusted_rand_index(truth: np.ndarray, found: np.ndarray) -> float:
    table = np.zeros((truth.max() + 1, found.max() + 1))
    np.add.at(table, (truth, found), 1)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(1), 2).sum(), comb(table.sum(0), 2).sum()
    expected = rows * cols / comb(len(truth), 2)
    return float((pairs - expected) / ((rows + cols) / 2 - expected))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=1_000)
    parser.add_argument("--votes", type=int, default=40, help="mean votes per participant")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    matrix, planted = make_votes(args.participants, args.statements, args.votes, args.seed)
    print(
        f"illustrative data: {args.participants} x {args.statements}, "
        f"{matrix.values.nnz} votes, built in {time.perf_counter() - started:.1f} s"
    )

    ours, baseline = [], []
    result = None
    for _ in range(args.rounds):
        started = time.perf_counter()
        baseline_pca(matrix, args.seed)
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = compute_opinion_groups(matrix, seed=args.seed)
        ours.append(time.perf_counter() - started)
    assert result is not None

    ours_mem = peak_mib(lambda: compute_opinion_groups(matrix, seed=args.seed))
    base_mem = peak_mib(lambda: baseline_pca(matrix, args.seed))
    ours_median, base_median = statistics.median(ours), statistics.median(baseline)

    index = {pid: i for i, pid in enumerate(matrix.participant_ids)}
    truth = planted[[int(pid[1:]) for pid in result.clustered]]
    assert all(index[pid] == int(pid[1:]) for pid in result.clustered[:10])
    ari = adjusted_rand_index(truth, result.labels)
    sizes = np.bincount(result.labels).tolist()
    print(
        f"found k={result.k} (silhouette {result.silhouette:.2f}, sizes {sizes}), "
        f"{len(result.left_out)} left out, ARI vs planted {ari:.2f}"
    )
    print(
        f"compute_opinion_groups: {ours_median:.2f} s, peak {ours_mem:.0f} MiB   "
        f"baseline (dense fill + centre + svds k=2): {base_median:.2f} s, "
        f"peak {base_mem:.0f} MiB   ratio time {ours_median / base_median:.2f}, "
        f"memory {ours_mem / base_mem:.2f}"
    )


if __name__ == "__main__":
    main()
