"""Polis-style opinion groups: who votes alike, what sets each group apart, what all share.

Participants vote agree (+1), disagree (-1) or pass (0) on statements. Following the
published Polis method (PCA, k-means clusters, "repness", consensus), this module turns
those votes into groups and statement statistics a facilitator can read. It is pure
computation (numpy/scipy, no Flask, no database) so it can run in a worker or a notebook.

Pipeline (``compute_opinion_groups``):

1. Participants with fewer than ``min(7, n_statements)`` votes (passes count as votes)
   are left out of clustering: too little signal to place them.
2. Missing cells are filled with the statement's mean vote; columns are centred. A
   filled cell then centres to exactly 0, so the centred matrix keeps the sparsity of
   the votes and we never build the dense filled matrix. The two leading right singular
   vectors (dense SVD for small inputs, ``scipy.sparse.linalg.svds`` for big ones) are
   fitted on every participant's votes, as in Polis.
3. A clustered participant's coordinates are their centred row projected on those two
   axes, times ``sqrt(n_statements / n_votes)``: otherwise sparse voters, whose filled
   cells contribute nothing, crowd the centre.
4. k-means (k-means++ init, fixed seed, ``N_INIT`` restarts) for k = 2..5; the k with the
   highest mean silhouette wins (computed on a seeded subsample of at most 2,000 points),
   ties going to the smaller k. Groups are numbered by decreasing size.

Statement statistics (``statistics_for_labels``, also used by the pipeline). For a
statement and a set of participants: ``na`` agrees, ``nd`` disagrees, ``ns`` votes
(agree + disagree + pass). Exactly these formulas are implemented:

- ``pa = (na + 1) / (ns + 2)`` and ``pd = (nd + 1) / (ns + 2)``.
- ``prop_test(n_success, n) = 2 * sqrt(n + 1) * ((n_success + 1) / (n + 1) - 0.5)``.
- ``two_prop_test(s1, s2, n1, n2) = (p1 - p2) / sqrt(p * (1 - p) * (1/(n1+1) + 1/(n2+1)))``
  with ``p1 = (s1+1)/(n1+1)``, ``p2 = (s2+1)/(n2+1)``, ``p = (s1+s2+2)/(n1+n2+2)``;
  0 when ``p == 1`` (every vote on both sides is a success: no difference to test).
- Group g against everyone else labelled (``_out``): ``ra = pa / pa_out``,
  ``pat = prop_test(na, ns)``, ``rat = two_prop_test(na, na_out, ns, ns_out)``; the
  disagree side uses ``nd`` the same way (``rd``, ``pdt``, ``rdt``).
- Representative for g as "agree" when ``pat > Z_90`` and ``rat > Z_90`` (one-sided 90 %,
  ``Z_90 = 1.2816``), with ``metric = ra * rat * pa * pat``; likewise "disagree" with
  ``rd * rdt * pd * pdt``. (Both sides cannot pass at once: ``na + nd <= ns``.) Up to 5
  per group, by metric descending, then statement order.
- Consensus "agree": over all labelled participants, ``pa > 0.5`` and
  ``prop_test(na, ns) > Z_90``; ranked by ``pa * z`` descending, top 5. "disagree" alike.
- Group-informed consensus: ``prod over groups g of (na_g + 1) / (ns_g + 2)``.
- Divisive: ``spread = max_g pa_g - min_g pa_g``; statements with spread > 0, top 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from scipy.spatial.distance import cdist

Z_90 = 1.2816
MIN_VOTES = 7
TOP_N = 5
K_MIN, K_MAX = 2, 5
N_INIT = 10
MAX_ITER = 100
SILHOUETTE_SAMPLE = 2000
# Below this many cells a dense SVD is cheaper and exact; above, ARPACK on the sparse matrix.
DENSE_SVD_MAX_CELLS = 250_000
# A singular value this small relative to the first carries no direction (degenerate data).
RANK_TOLERANCE = 1e-10
_SPREAD_TOLERANCE = 1e-12

Direction = Literal["agree", "disagree"]


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """Votes as participants x statements.

    ``values`` is either a dense float array (NaN = no vote) or a scipy sparse matrix in
    which every stored entry is a vote: a pass is an explicit stored 0, an absent entry
    is no vote. ``from_votes`` builds the sparse form.
    """

    participant_ids: list[str]
    statement_ids: list[str]
    values: sp.csr_matrix | np.ndarray
    _votes: sp.csr_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = (len(self.participant_ids), len(self.statement_ids))
        if tuple(self.values.shape) != shape:
            raise ValueError(f"values has shape {self.values.shape}, ids give {shape}")
        for name, ids in (("participant", self.participant_ids), ("statement", self.statement_ids)):
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {name} ids")
        object.__setattr__(self, "_votes", _canonical(self.values))

    @classmethod
    def from_votes(cls, votes: Iterable[tuple[str, str, int]]) -> VoteMatrix:
        """Build from (participant_id, statement_id, vote) rows; a repeated vote: the last wins."""
        participants: dict[str, int] = {}
        statements: dict[str, int] = {}
        cells: dict[tuple[int, int], int] = {}
        for participant_id, statement_id, vote in votes:
            if vote not in (-1, 0, 1):
                raise ValueError(f"vote must be -1, 0 or 1, got {vote!r}")
            row = participants.setdefault(participant_id, len(participants))
            col = statements.setdefault(statement_id, len(statements))
            cells[row, col] = int(vote)
        keys = np.array(list(cells), dtype=np.int64).reshape(-1, 2)
        data = np.fromiter(cells.values(), dtype=float, count=len(cells))
        shape = (len(participants), len(statements))
        values = _csr(keys[:, 0], keys[:, 1], data, shape)
        return cls(list(participants), list(statements), values)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.participant_ids), len(self.statement_ids)

    def dense(self) -> np.ndarray:
        """The votes as a float array with NaN where no vote was cast."""
        out = np.full(self.shape, np.nan)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self._votes.indptr))
        out[rows, self._votes.indices] = self._votes.data
        return out


@dataclass(frozen=True)
class Repness:
    """A statement that sets a group apart, with the numbers behind the claim."""

    statement_id: str
    group: int
    direction: Direction
    n_success: int  # agrees (or disagrees) in the group
    n_trials: int  # votes in the group, passes included
    probability: float  # pa (or pd)
    ratio: float  # ra (or rd)
    z_within: float  # pat (or pdt)
    z_between: float  # rat (or rdt)
    metric: float


@dataclass(frozen=True)
class Consensus:
    statement_id: str
    probability: float  # pa (or pd) over all clustered participants
    z: float  # prop_test of that probability against 0.5


@dataclass(frozen=True)
class Divisive:
    statement_id: str
    spread: float  # max - min of the groups' pa


class StatementStatistics(NamedTuple):
    """Statement statistics for one group assignment; unpacks like a plain tuple."""

    repness: dict[int, list[Repness]]
    consensus_agree: list[Consensus]
    consensus_disagree: list[Consensus]
    group_informed_consensus: dict[str, float]
    divisive: list[Divisive]


@dataclass(frozen=True, eq=False)
class OpinionGroups:
    """Result of ``compute_opinion_groups``; rows of coordinates/labels follow ``clustered``."""

    clustered: list[str]
    left_out: list[str]
    coordinates: np.ndarray
    labels: np.ndarray
    k: int  # groups actually formed (1 when every clustered participant sits on one point)
    silhouette: float
    repness: dict[int, list[Repness]]
    consensus_agree: list[Consensus]
    consensus_disagree: list[Consensus]
    group_informed_consensus: dict[str, float]
    divisive: list[Divisive]


def prop_test(n_success: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Polis's one-proportion z against 0.5, with one pseudo-success and one pseudo-trial."""
    n_success, n = np.asarray(n_success, dtype=float), np.asarray(n, dtype=float)
    return 2 * np.sqrt(n + 1) * ((n_success + 1) / (n + 1) - 0.5)


def two_prop_test(
    s1: np.ndarray | float, s2: np.ndarray | float, n1: np.ndarray | float, n2: np.ndarray | float
) -> np.ndarray:
    """Polis's two-proportion z (pooled), one pseudo-success and pseudo-trial per side."""
    s1, s2, n1, n2 = (np.asarray(x, dtype=float) + 1 for x in (s1, s2, n1, n2))
    pooled = (s1 + s2) / (n1 + n2)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = s1 / n1 - s2 / n2
    return np.divide(diff, spread, out=np.zeros(np.broadcast(diff, spread).shape), where=spread > 0)


def compute_opinion_groups(
    matrix: VoteMatrix, *, seed: int = 0, k: int | None = None
) -> OpinionGroups:
    """Cluster participants and compute statement statistics; ``k`` fixes the group count.

    A fixed ``k`` (e.g. to match an imported snapshot) is capped at the number of distinct
    participant positions, since more groups than points cannot all be non-empty.
    """
    if k is not None and k < 1:
        raise ValueError("k must be at least 1")
    votes = matrix._votes
    n_statements = votes.shape[1]
    counts = np.diff(votes.indptr)
    keep = counts >= max(1, min(MIN_VOTES, n_statements))
    rows = np.flatnonzero(keep)
    coordinates = _project(votes, rows, seed)
    labels, chosen_k, silhouette = _cluster(coordinates, seed, k)
    stats = _statistics(votes, matrix.statement_ids, rows, labels)
    ids = matrix.participant_ids
    return OpinionGroups(
        clustered=[ids[i] for i in rows],
        left_out=[ids[i] for i in np.flatnonzero(~keep)],
        coordinates=coordinates,
        labels=labels,
        k=chosen_k,
        silhouette=silhouette,
        repness=stats.repness,
        consensus_agree=stats.consensus_agree,
        consensus_disagree=stats.consensus_disagree,
        group_informed_consensus=stats.group_informed_consensus,
        divisive=stats.divisive,
    )


def statistics_for_labels(matrix: VoteMatrix, labels: Mapping[str, int]) -> StatementStatistics:
    """Statement statistics for a given assignment (e.g. Polis's published group-ids).

    Only the labelled participants count, whatever their number of votes.
    """
    index = {pid: i for i, pid in enumerate(matrix.participant_ids)}
    unknown = [pid for pid in labels if pid not in index]
    if unknown:
        raise ValueError(f"labels name unknown participants: {unknown[:5]}")
    rows = np.fromiter((index[pid] for pid in labels), dtype=np.int64, count=len(labels))
    groups = np.fromiter((int(g) for g in labels.values()), dtype=np.int64, count=len(labels))
    return _statistics(matrix._votes, matrix.statement_ids, rows, groups)


def silhouette_score(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette; a point alone in its cluster scores 0, one cluster scores 0."""
    points = np.asarray(points, dtype=float)
    return _silhouette(cdist(points, points), np.asarray(labels))


# --- votes -------------------------------------------------------------------------------


def _csr(
    rows: np.ndarray, cols: np.ndarray, data: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """CSR from unique (row, col) cells, built directly so stored zeros (passes) survive."""
    order = np.lexsort((cols, rows))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=shape[0]))))
    return sp.csr_matrix(
        (data[order].astype(float), cols[order].astype(np.int64), indptr.astype(np.int64)),
        shape=shape,
    )


def _canonical(values: sp.spmatrix | sp.sparray | np.ndarray) -> sp.csr_matrix:
    """Sorted CSR of the votes cast (passes as stored zeros), checked to be -1, 0 or 1."""
    if sp.issparse(values):
        csr = sp.csr_matrix(values, dtype=float, copy=True)
        csr.sum_duplicates()
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        cols, data = csr.indices, csr.data
        present = ~np.isnan(data)
        rows, cols, data = rows[present], cols[present], data[present]
    else:
        dense = np.asarray(values, dtype=float)
        rows, cols = np.nonzero(~np.isnan(dense))
        data = dense[rows, cols]
    if not np.isin(data, (-1.0, 0.0, 1.0)).all():
        raise ValueError("votes must be -1, 0, 1 (or NaN / absent for no vote)")
    return _csr(rows, cols, data, values.shape)


def _indicator(votes: sp.csr_matrix, data: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix((data.astype(float), votes.indices, votes.indptr), shape=votes.shape)


# --- projection --------------------------------------------------------------------------


def _project(votes: sp.csr_matrix, rows: np.ndarray, seed: int) -> np.ndarray:
    """Sparsity-aware 2-D PCA coordinates of the participants in ``rows``."""
    n_statements = votes.shape[1]
    if rows.size == 0 or n_statements == 0:
        return np.zeros((rows.size, 2))
    cols = votes.indices
    counts = np.bincount(cols, minlength=n_statements)
    sums = np.bincount(cols, weights=votes.data, minlength=n_statements)
    means = np.divide(sums, counts, out=np.zeros(n_statements), where=counts > 0)
    centred = _indicator(votes, votes.data - means[cols])
    axes = _principal_axes(centred, seed)
    projected = np.asarray(centred[rows] @ axes)
    scale = np.sqrt(n_statements / np.diff(votes.indptr)[rows])
    return projected * scale[:, None]


def _principal_axes(centred: sp.csr_matrix, seed: int) -> np.ndarray:
    """Two leading right singular vectors as columns, sign-fixed; zero where rank runs out."""
    n, m = centred.shape
    axes = np.zeros((m, 2))
    if not np.any(centred.data):
        return axes
    if n * m <= DENSE_SVD_MAX_CELLS or min(n, m) <= 3:
        _, singular, vt = np.linalg.svd(centred.toarray(), full_matrices=False)
    else:
        start = np.random.default_rng(seed).standard_normal(min(n, m))
        _, singular, vt = svds(centred, k=2, v0=start)
        order = np.argsort(singular)[::-1]
        singular, vt = singular[order], vt[order]
    for i in range(min(2, len(singular))):
        if singular[i] <= RANK_TOLERANCE * singular[0]:
            break
        axis = vt[i]
        # SVD signs are arbitrary; fix them so the same votes always give the same picture.
        axes[:, i] = axis * np.sign(axis[np.argmax(np.abs(axis))])
    return axes


# --- clustering --------------------------------------------------------------------------


def _cluster(points: np.ndarray, seed: int, k: int | None) -> tuple[np.ndarray, int, float]:
    """Labels (numbered by decreasing group size), the k used, and its silhouette."""
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0, 0.0
    distinct = len(np.unique(np.round(points, 12), axis=0))
    sample = np.arange(n)
    if n > SILHOUETTE_SAMPLE:
        sample = np.sort(np.random.default_rng(seed).choice(n, SILHOUETTE_SAMPLE, replace=False))
    candidates = [min(k, distinct)] if k is not None else range(K_MIN, min(K_MAX, distinct) + 1)
    best: tuple[np.ndarray, int, float] = (np.zeros(n, dtype=np.int64), 1, 0.0)
    best_score = -np.inf
    distances = None
    for candidate in candidates:
        if candidate < 2:
            continue
        labels = _kmeans(points, candidate, np.random.default_rng((seed, candidate)))
        if distances is None:
            distances = cdist(points[sample], points[sample])
        score = _silhouette(distances, labels[sample])
        if score > best_score + 1e-12:  # ties go to the smaller k, tried first
            best, best_score = (labels, candidate, score), score
    labels, chosen, score = best
    return _by_size(labels, chosen), chosen, float(score)


def _by_size(labels: np.ndarray, k: int) -> np.ndarray:
    """Renumber groups by decreasing size (ties: earliest member first) for stable output."""
    sizes = np.bincount(labels, minlength=k)
    first = np.array([np.argmax(labels == g) for g in range(k)])
    order = sorted(range(k), key=lambda g: (-sizes[g], first[g]))
    mapping = np.empty(k, dtype=np.int64)
    mapping[order] = np.arange(k)
    return mapping[labels]


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Best of ``N_INIT`` Lloyd runs from k-means++ starts, by inertia."""
    best_labels, best_inertia = np.zeros(len(points), dtype=np.int64), np.inf
    for _ in range(N_INIT):
        labels, inertia = _lloyd(points, _kmeans_plus_plus(points, k, rng))
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def _kmeans_plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    n = len(points)
    centres = np.empty((k, points.shape[1]))
    centres[0] = points[rng.integers(n)]
    nearest = ((points - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        cumulative = np.cumsum(nearest)
        total = cumulative[-1]
        if total > 0:
            pick = int(np.searchsorted(cumulative, rng.random() * total, side="right"))
            pick = min(pick, n - 1)
        else:
            pick = int(rng.integers(n))
        centres[j] = points[pick]
        nearest = np.minimum(nearest, ((points - centres[j]) ** 2).sum(axis=1))
    return centres


def _lloyd(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, float]:
    k = len(centres)
    for _ in range(MAX_ITER):
        squared = _squared_distances(points, centres)
        labels = squared.argmin(axis=1)
        sizes = np.bincount(labels, minlength=k)
        moved = centres.copy()
        filled = sizes > 0
        for dim in range(points.shape[1]):
            sums = np.bincount(labels, weights=points[:, dim], minlength=k)
            moved[filled, dim] = sums[filled] / sizes[filled]
        if not filled.all():
            # An empty cluster restarts on the points worst served by their centre.
            worst = np.argsort(-squared[np.arange(len(points)), labels], kind="stable")
            moved[~filled] = points[worst[: int((~filled).sum())]]
        converged = np.allclose(moved, centres, rtol=0, atol=1e-10)
        centres = moved
        if converged:
            break
    squared = _squared_distances(points, centres)
    labels = squared.argmin(axis=1)
    return labels, float(squared[np.arange(len(points)), labels].sum())


def _squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(n, k) squared distances, summed per dimension: far faster than a 3-D broadcast."""
    squared = np.zeros((len(points), len(centres)))
    for dim in range(points.shape[1]):
        squared += (points[:, dim, None] - centres[None, :, dim]) ** 2
    return squared


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    present, inverse = np.unique(labels, return_inverse=True)
    m = len(labels)
    if present.size < 2:
        return 0.0
    onehot = np.zeros((m, present.size))
    onehot[np.arange(m), inverse] = 1.0
    sums = distances @ onehot
    sizes = onehot.sum(axis=0)
    own_size = sizes[inverse]
    within = sums[np.arange(m), inverse] / np.maximum(own_size - 1, 1)
    between_all = sums / sizes
    between_all[np.arange(m), inverse] = np.inf
    between = between_all.min(axis=1)
    denom = np.maximum(within, between)
    scores = np.divide(between - within, denom, out=np.zeros(m), where=(own_size > 1) & (denom > 0))
    return float(scores.mean())


# --- statement statistics ----------------------------------------------------------------


def _statistics(
    votes: sp.csr_matrix, statement_ids: list[str], rows: np.ndarray, labels: np.ndarray
) -> StatementStatistics:
    if rows.size == 0:
        return StatementStatistics({}, [], [], {}, [])
    groups, group_index = np.unique(labels, return_inverse=True)
    membership = sp.csr_matrix(
        (np.ones(rows.size), (group_index, np.arange(rows.size))), shape=(groups.size, rows.size)
    )

    def per_group(data: np.ndarray) -> np.ndarray:
        # Indicators are built on the full matrix, then rows picked: none of its data is 0.
        return np.asarray((membership @ _indicator(votes, data)[rows]).toarray())

    agree = per_group(votes.data == 1)
    disagree = per_group(votes.data == -1)
    seen = per_group(np.ones_like(votes.data))
    total_agree, total_disagree, total_seen = agree.sum(0), disagree.sum(0), seen.sum(0)

    repness: dict[int, list[Repness]] = {int(g): [] for g in groups}
    sides: tuple[tuple[Direction, np.ndarray, np.ndarray], ...] = (
        ("agree", agree, total_agree),
        ("disagree", disagree, total_disagree),
    )
    for direction, success, total in sides:
        success_out, seen_out = total - success, total_seen - seen
        probability = (success + 1) / (seen + 2)
        ratio = probability / ((success_out + 1) / (seen_out + 2))
        z_within = prop_test(success, seen)
        z_between = two_prop_test(success, success_out, seen, seen_out)
        metric = ratio * z_between * probability * z_within
        for gi, s in zip(*np.nonzero((z_within > Z_90) & (z_between > Z_90)), strict=True):
            repness[int(groups[gi])].append(
                Repness(
                    statement_id=statement_ids[s],
                    group=int(groups[gi]),
                    direction=direction,
                    n_success=int(success[gi, s]),
                    n_trials=int(seen[gi, s]),
                    probability=float(probability[gi, s]),
                    ratio=float(ratio[gi, s]),
                    z_within=float(z_within[gi, s]),
                    z_between=float(z_between[gi, s]),
                    metric=float(metric[gi, s]),
                )
            )
    order = {sid: i for i, sid in enumerate(statement_ids)}
    for group, found in repness.items():
        found.sort(key=lambda r: (-r.metric, order[r.statement_id]))
        repness[group] = found[:TOP_N]

    group_agree = (agree + 1) / (seen + 2)
    informed = np.prod(group_agree, axis=0)
    spread = group_agree.max(axis=0) - group_agree.min(axis=0)
    divisive_order = np.argsort(-spread, kind="stable")
    divisive = [
        Divisive(statement_ids[s], float(spread[s]))
        for s in divisive_order[:TOP_N]
        if spread[s] > _SPREAD_TOLERANCE
    ]
    return StatementStatistics(
        repness=repness,
        consensus_agree=_consensus(statement_ids, total_agree, total_seen),
        consensus_disagree=_consensus(statement_ids, total_disagree, total_seen),
        group_informed_consensus={
            sid: float(v) for sid, v in zip(statement_ids, informed, strict=True)
        },
        divisive=divisive,
    )


def _consensus(statement_ids: list[str], success: np.ndarray, seen: np.ndarray) -> list[Consensus]:
    probability = (success + 1) / (seen + 2)
    z = prop_test(success, seen)
    chosen = np.flatnonzero((probability > 0.5) & (z > Z_90))
    chosen = chosen[np.argsort(-(probability * z)[chosen], kind="stable")][:TOP_N]
    return [Consensus(statement_ids[s], float(probability[s]), float(z[s])) for s in chosen]
