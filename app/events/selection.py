"""Fair selection of citizens' panels (sortition) from a pool of registrants.

A panel of ``k`` registrants must respect quotas (a minimum and maximum number of
members per category value, e.g. ``gender=female`` between 24 and 26) and,
optionally, take at most one person per household. Many panels satisfy the
quotas; the question is how to choose among them so that the lottery is as fair
as possible to the people who registered.

* :func:`leximin` computes the LEXIMIN distribution over panels (Flanigan et al.,
  Nature 2021): nobody's chance of selection can be raised without lowering the
  chance of someone who already has a smaller or equal chance.
* :func:`draw_panel` draws the panel from that distribution with a published seed.
* :func:`replace_dropouts` fills places left by drop-outs, reproducibly.
* :func:`legacy_draw` / :func:`legacy_probabilities` implement the older greedy
  stratified draw, kept as the baseline that LEXIMIN is compared against.
* :func:`check_feasible` explains infeasible quotas: which ones conflict, and the
  nearest set of quotas that can be met.
* :func:`read_sortition_csv` reads the Sortition Foundation stratification app's
  ``respondents.csv`` / ``categories.csv`` pair.

Quotas only constrain the (category, value) pairs they name; a registrant whose
value in a category has no quota is unconstrained in that category. Pure Python
plus numpy/scipy (HiGHS via ``linprog``/``milp``): no Flask, no database.
"""

from __future__ import annotations

import csv
import warnings
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

# A type whose dual weight exceeds this is treated as a bottleneck and fixed.
_DUAL_POSITIVE = 1e-7
# A priced panel must beat the master LP's bound by this much to count as new.
_PRICING_TOLERANCE = 1e-7
# Fixed probabilities are imposed minus this slack so rounding never makes the LP infeasible.
_FIX_SLACK = 1e-9
# Weight of the stabilisation centre when smoothing duals for pricing.
_SMOOTHING = 0.7
# At most this many parked compositions are recalled per round.
_RECALLED = 20
# Extra columns per pricing round from one-for-one swaps.
_NEIGHBOURS = 10
# Relative optimality gap asked of HiGHS when pricing panels.
_MIP_GAP = 1e-7
# Tighter than HiGHS's 1e-7 default so reported probabilities match the optimum closely.
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
# Compositions weighted below this count as unused by the LP's lottery.
_WEIGHT_FLOOR = 1e-12
# Restarts of the legacy greedy draw before it gives up.
_LEGACY_ATTEMPTS = 200


@dataclass(frozen=True)
class Quota:
    """Between ``minimum`` and ``maximum`` panel members must have ``category == value``."""

    category: str
    value: str
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Registrant:
    """One person in the pool: an id, one value per category, an optional household id."""

    id: str
    features: Mapping[str, str] = field(hash=False)
    household: str | None = None


@dataclass(frozen=True)
class Infeasible:
    """Quotas that cannot all be met: the conflicting ones and the nearest feasible relaxation.

    ``relaxed`` lists every quota in the original order; those in ``conflicts`` come
    back with the minimum lowered and/or the maximum raised by the smallest total
    amount that makes a panel possible.
    """

    conflicts: list[Quota]
    relaxed: list[Quota]


@dataclass(frozen=True)
class Distribution:
    """A lottery over panels: ``weights[i]`` is the chance of ``panels[i]``.

    ``probabilities`` are the exact marginals of that lottery (sum of the weights of
    the panels containing the person) and ``minimum`` their smallest value.
    ``iterations`` counts master-LP solves; ``capped`` is true when
    ``max_iterations`` stopped the computation early, in which case the lottery is
    valid but people not yet fixed only got the best minimum found so far.
    Panels are sorted (by their sorted ids) so the published lottery is canonical.
    """

    panels: list[frozenset[str]]
    weights: list[float]
    probabilities: dict[str, float]
    minimum: float
    iterations: int
    capped: bool = False


class InfeasibleQuotas(ValueError):
    """No panel satisfies the quotas; ``infeasible`` says which quotas conflict."""

    def __init__(self, infeasible: Infeasible) -> None:
        self.infeasible = infeasible
        described = ", ".join(
            f"{q.category}={q.value} [{q.minimum}, {q.maximum}]" for q in infeasible.conflicts
        )
        super().__init__(f"no panel meets the quotas; conflicting: {described or 'none'}")


class SelectionFailed(RuntimeError):
    """The legacy greedy draw kept running into dead ends."""


class IterationCapWarning(RuntimeWarning):
    """LEXIMIN stopped at ``max_iterations``: the result is valid but not fully optimal."""


class _Problem:
    """The pool, quotas and panel size compiled into sparse matrices for HiGHS."""

    def __init__(
        self,
        pool: Sequence[Registrant],
        quotas: Sequence[Quota],
        k: int,
        one_per_household: bool,
    ) -> None:
        self.ids = [registrant.id for registrant in pool]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("registrant ids must be unique")
        keys = [(q.category, q.value) for q in quotas]
        if len(set(keys)) != len(keys):
            raise ValueError("each (category, value) may have only one quota")
        if any(q.minimum < 0 or q.maximum < 0 for q in quotas):
            raise ValueError("quota bounds must be non-negative")
        if not 0 < k <= len(pool):
            raise ValueError(f"panel size {k} must be between 1 and the pool size {len(pool)}")
        self.k = k
        self.quotas = list(quotas)
        self.n = len(pool)
        self.index = {rid: i for i, rid in enumerate(self.ids)}
        self.members = np.array(
            [[r.features.get(q.category) == q.value for q in quotas] for r in pool],
            dtype=bool,
        ).reshape(self.n, len(quotas))
        self.quota_matrix = sparse.csr_array(self.members.T.astype(float))
        self.minimum = np.array([q.minimum for q in quotas], dtype=float)
        self.maximum = np.array([q.maximum for q in quotas], dtype=float)
        groups: dict[str, list[int]] = defaultdict(list)
        if one_per_household:
            for i, registrant in enumerate(pool):
                if registrant.household is not None:
                    groups[registrant.household].append(i)
        self.households = [members for members in groups.values() if len(members) > 1]
        self.household_of = np.full(self.n, -1)
        for h, members in enumerate(self.households):
            self.household_of[members] = h
        rows = [i for i, members in enumerate(self.households) for _ in members]
        cols = [m for members in self.households for m in members]
        self.household_matrix = sparse.csr_array(
            (np.ones(len(cols)), (rows, cols)), shape=(len(self.households), self.n)
        )
        self.constraints = self._constraints(self.minimum, self.maximum)
        # Registrants with the same quota memberships and no shared household are
        # interchangeable: the LEXIMIN optimum (unique) gives them equal chances, so
        # LEXIMIN works on these "types" and their member counts.
        type_of: dict[object, int] = {}
        keys: list[object] = [
            ("household", i) if self.household_of[i] >= 0 else self.members[i].tobytes()
            for i in range(self.n)
        ]
        self.type_of = np.array([type_of.setdefault(key, len(type_of)) for key in keys])
        self.type_members = [np.flatnonzero(self.type_of == t) for t in range(len(type_of))]
        self.type_sizes = np.array([len(m) for m in self.type_members], dtype=float)
        firsts = [int(m[0]) for m in self.type_members]
        self.type_quotas = self.members[firsts].astype(float)
        # Household of each one-person type (-1 when none): for cheap swap checks.
        self.type_household = self.household_of[firsts]
        type_households = sparse.csr_array(
            (np.ones(len(cols)), (rows, self.type_of[cols])),
            shape=(len(self.households), len(firsts)),
        )
        self.type_constraints = [
            LinearConstraint(np.ones((1, len(firsts))), self.k, self.k),
            LinearConstraint(
                sparse.csr_array(self.members[firsts].T.astype(float)), self.minimum, self.maximum
            ),
        ]
        if self.households:
            self.type_constraints.append(LinearConstraint(type_households, -np.inf, 1))

    def _constraints(self, minimum: np.ndarray, maximum: np.ndarray) -> list[LinearConstraint]:
        constraints = [LinearConstraint(np.ones((1, self.n)), self.k, self.k)]
        if self.quotas:
            constraints.append(LinearConstraint(self.quota_matrix, minimum, maximum))
        if self.households:
            constraints.append(LinearConstraint(self.household_matrix, -np.inf, 1))
        return constraints

    def find_panel(
        self,
        weights: np.ndarray,
        forced: Collection[int] = (),
        excluded: Collection[int] = (),
    ) -> np.ndarray | None:
        """The feasible panel with the largest total weight (sorted indices), or None."""
        lower = np.zeros(self.n)
        upper = np.ones(self.n)
        lower[list(forced)] = 1
        upper[list(excluded)] = 0
        result = milp(
            -np.asarray(weights, dtype=float),
            integrality=np.ones(self.n),
            bounds=Bounds(lower, upper),
            constraints=self.constraints,
            options={"mip_rel_gap": _MIP_GAP},
        )
        if result.x is None:
            return None
        panel = np.flatnonzero(result.x > 0.5)
        if not self.satisfies(panel):
            raise RuntimeError("HiGHS returned a panel that breaks the constraints")
        return panel

    def satisfies(self, panel: np.ndarray) -> bool:
        counts = self.members[panel].sum(axis=0)
        if len(panel) != self.k or np.any(counts < self.minimum) or np.any(counts > self.maximum):
            return False
        households = self.household_of[panel]
        households = households[households >= 0]
        return len(np.unique(households)) == len(households)

    def explain(self, forced: Collection[int] = (), excluded: Collection[int] = ()) -> Infeasible:
        """Minimise total quota widening (integer slacks) that makes a panel possible."""
        q = len(self.quotas)
        x_lower = np.zeros(self.n)
        x_upper = np.ones(self.n)
        x_lower[list(forced)] = 1
        x_upper[list(excluded)] = 0
        identity = sparse.identity(q, format="csr")
        zero_q = sparse.csr_array((q, q))
        constraints = [
            # count + lowered_by >= minimum, count - raised_by <= maximum
            LinearConstraint(
                sparse.hstack([self.quota_matrix, identity, zero_q]), self.minimum, np.inf
            ),
            LinearConstraint(
                sparse.hstack([self.quota_matrix, zero_q, -identity]), -np.inf, self.maximum
            ),
            LinearConstraint(
                sparse.hstack([np.ones((1, self.n)), sparse.csr_array((1, 2 * q))]), self.k, self.k
            ),
        ]
        if self.households:
            padded = sparse.hstack(
                [self.household_matrix, sparse.csr_array((len(self.households), 2 * q))]
            )
            constraints.append(LinearConstraint(padded, -np.inf, 1))
        result = milp(
            np.concatenate([np.zeros(self.n), np.ones(2 * q)]),
            integrality=np.ones(self.n + 2 * q),
            bounds=Bounds(
                np.concatenate([x_lower, np.zeros(2 * q)]),
                np.concatenate([x_upper, np.full(2 * q, np.inf)]),
            ),
            constraints=constraints,
        )
        if result.x is None:
            raise ValueError(
                "no panel of this size exists even without quotas "
                "(too few registrants or households left)"
            )
        lowered = np.rint(result.x[self.n : self.n + q]).astype(int)
        raised = np.rint(result.x[self.n + q :]).astype(int)
        conflicts: list[Quota] = []
        relaxed: list[Quota] = []
        for quota, down, up in zip(self.quotas, lowered, raised, strict=True):
            if down or up:
                conflicts.append(quota)
                quota = Quota(
                    quota.category, quota.value, quota.minimum - int(down), quota.maximum + int(up)
                )
            relaxed.append(quota)
        return Infeasible(conflicts=conflicts, relaxed=relaxed)


def check_feasible(
    pool: Sequence[Registrant],
    quotas: Sequence[Quota],
    k: int,
    *,
    one_per_household: bool = False,
) -> Infeasible | None:
    """None when some panel of size ``k`` meets every quota, else what conflicts.

    The explanation comes from a second MILP that may lower each minimum and raise
    each maximum by an integer slack and minimises the total slack: quotas with a
    positive slack are the conflicting ones, and the shifted bounds are the nearest
    feasible relaxation. Raises ValueError when no quota change could help (``k``
    exceeds the pool, or the number of households under ``one_per_household``).
    """
    problem = _Problem(pool, quotas, k, one_per_household)
    if problem.find_panel(np.zeros(problem.n)) is not None:
        return None
    return problem.explain()


def leximin(
    pool: Sequence[Registrant],
    quotas: Sequence[Quota],
    k: int,
    *,
    one_per_household: bool = False,
    max_iterations: int = 500,
) -> Distribution:
    """The LEXIMIN lottery over quota-respecting panels, by column generation.

    Procedure (Flanigan, Gölz, Gupta, Hennig & Procaccia, Nature 596, 2021), run on
    *types*: people with the same quota memberships and no shared household are
    interchangeable, and the LEXIMIN optimum is unique, so they get equal chances.
    A panel is then described by its composition c (c_t members of type t, N_t
    people in the type), and the chance of each member of t is E[c_t] / N_t. With
    no interchangeable people this is exactly the per-person formulation.

    1. Start from one feasible composition (a zero-objective MILP; if there is none,
       raise :class:`InfeasibleQuotas` with :func:`check_feasible`'s explanation),
       plus a few that together seat every type that can be seated at all.
    2. Keep a set F of types whose probability p_t is fixed. For the compositions
       found so far, solve (``linprog``, HiGHS) the dual of "maximise z such that
       every unfixed type gets at least z and every fixed type at least p_t":
       minimise ŷ - Σ_{t∈F} p_t·y_t subject to Σ_t y_t·c_t/N_t <= ŷ for every
       composition c, Σ_{t∉F} y_t = 1, y >= 0. This is one iteration.
    3. Pricing: find the feasible composition maximising Σ_t y_t·c_t/N_t (``milp``
       with integer 0 <= c_t <= N_t, which are binary for one-person types, quota
       rows, size == k, household rows <= 1). It is also the best panel for the
       per-person dual weights y_t/N_t. If it beats ŷ by more than 1e-7, add it
       (with up to 10 improving one-for-one swaps of it) and go back to 2: the
       restricted LP was not yet optimal. To converge faster, pricing first uses a
       smoothed dual (0.7 x the dual with the best upper bound this round + 0.3 x
       the LP's) and, for compositions set aside earlier, a plain numpy check;
       only the exact MILP at the LP's own dual can end a round.
    4. Otherwise the dual is optimal over all panels, so its objective z* is the
       highest minimum the unfixed people can get. By complementary slackness every
       unfixed type with y_t > 1e-7 has probability exactly z* in every optimal
       lottery: fix it at z*. At least one type is fixed per round since
       Σ y_t = 1. Compositions the current lottery does not use are set aside
       (recalled in 3 when useful) to keep the LP small. Repeat from 2 until every
       type is fixed.
    5. Solve the primal over the collected compositions for weights meeting every
       fixed p_t (minimising total shortfall, which is ~0).
    6. Turn the composition lottery into explicit panels: lay the compositions end
       to end on [0, 1); inside each, every type's c_t seats are shared out among
       its members (largest remaining need first, McNaughton's wrap-around, exact
       rational arithmetic), so each member's total time equals p_t. Every instant
       is one panel with the composition's counts, hence within the quotas; equal
       panels are merged and the exact marginals of the result are reported.

    Fixed values are imposed with a 1e-9 slack, so floating-point noise can only
    make the result marginally less than optimal, never invalid. After
    ``max_iterations`` master LPs the types still unfixed get the restricted LP's
    minimum (achievable with the compositions at hand), ``capped`` is set and an
    :class:`IterationCapWarning` is issued. The first round settles the minimum;
    large pools (thousands of people, hundreds of types) need many rounds, each
    costing a few hundred iterations, so expect the cap to bind there.
    """
    problem = _Problem(pool, quotas, k, one_per_household)
    first = _price(problem, np.zeros(len(problem.type_members)))
    if first is None:
        raise InfeasibleQuotas(problem.explain())
    compositions = _cover(problem, first)
    seen = {c.tobytes() for c in compositions}
    parked: list[np.ndarray] = []
    fixed = np.full(len(problem.type_members), np.nan)
    iterations = 0
    capped = False
    centre: np.ndarray | None = None
    best_bound = np.inf
    while np.isnan(fixed).any():
        duals, bound, value, usage = _solve_master(problem, compositions, fixed)
        unfixed = np.isnan(fixed)
        if iterations >= max_iterations:
            fixed[unfixed] = np.clip(value, 0.0, 1.0)
            capped = True
            warnings.warn(
                f"LEXIMIN stopped after {max_iterations} iterations; "
                f"{int(problem.type_sizes[unfixed].sum())} people got the best minimum so far",
                IterationCapWarning,
                stacklevel=2,
            )
            break
        iterations += 1
        if parked:
            gains = np.array(parked) / problem.type_sizes @ duals - bound
            best = [int(i) for i in np.argsort(-gains)[:_RECALLED] if gains[i] > _PRICING_TOLERANCE]
            if best:
                compositions.extend(parked[i] for i in best)
                recalled = set(best)
                parked = [c for i, c in enumerate(parked) if i not in recalled]
                continue
        # Wentges smoothing: price at a mix of the best dual seen in this round and the
        # LP's dual, which damps the oscillation that makes column generation tail
        # off; only pricing at the LP's own dual can prove the round finished.
        smoothing = _SMOOTHING if centre is not None else 0.0
        while True:
            probe = duals if smoothing == 0 else smoothing * centre + (1 - smoothing) * duals
            candidate = _price(problem, probe / problem.type_sizes)
            if candidate is None:
                raise RuntimeError("pricing found no panel although one exists")
            shares = candidate / problem.type_sizes
            upper_bound = probe @ shares - np.nansum(fixed * probe)
            if upper_bound < best_bound:
                best_bound, centre = upper_bound, probe
            if duals @ shares > bound + _PRICING_TOLERANCE and candidate.tobytes() not in seen:
                extra = _neighbours(
                    problem,
                    candidate,
                    duals / problem.type_sizes,
                    bound + _PRICING_TOLERANCE,
                )
                for column in [candidate, *extra]:
                    if column.tobytes() not in seen:
                        compositions.append(column)
                        seen.add(column.tobytes())
                break
            if smoothing == 0:
                tight = unfixed & (duals > _DUAL_POSITIVE)
                if not tight.any():
                    tight[np.flatnonzero(unfixed)[np.argmax(duals[unfixed])]] = True
                fixed[tight] = np.clip(value, 0.0, 1.0)
                centre, best_bound = None, np.inf
                # Keep the LP small: park the compositions this round's lottery did not
                # use; they come back (without a MILP) when later duals favour them.
                used = usage > _WEIGHT_FLOOR
                parked.extend(c for c, u in zip(compositions, used, strict=True) if not u)
                compositions = [c for c, u in zip(compositions, used, strict=True) if u]
                break
            smoothing = 0.0

    weights = _final_weights(problem, compositions, fixed)
    merged: dict[tuple[str, ...], float] = defaultdict(float)
    for panel, weight in _realise(problem, compositions, weights):
        if not problem.satisfies(panel):
            raise RuntimeError("a realised panel breaks the constraints")
        merged[tuple(sorted(problem.ids[i] for i in panel))] += weight
    total = sum(merged.values())
    ordered = sorted(merged.items())
    probabilities = dict.fromkeys(problem.ids, 0.0)
    for members, weight in ordered:
        for rid in members:
            probabilities[rid] += weight / total
    return Distribution(
        panels=[frozenset(members) for members, _ in ordered],
        weights=[weight / total for _, weight in ordered],
        probabilities=probabilities,
        minimum=min(probabilities.values()),
        iterations=iterations,
        capped=capped,
    )


def _price(
    problem: _Problem, values: np.ndarray, upper: np.ndarray | None = None
) -> np.ndarray | None:
    """The feasible composition with the largest Σ_t values_t·c_t, or None."""
    result = milp(
        -values,
        integrality=np.ones(len(values)),
        bounds=Bounds(0, problem.type_sizes if upper is None else upper),
        constraints=problem.type_constraints,
        options={"mip_rel_gap": _MIP_GAP},
    )
    if result.x is None:
        return None
    return np.rint(result.x).astype(np.int64)


def _neighbours(
    problem: _Problem, composition: np.ndarray, values: np.ndarray, threshold: float
) -> list[np.ndarray]:
    """Up to _NEIGHBOURS feasible one-for-one swaps of ``composition`` worth > threshold.

    Checking every swap of a seated type for another is a few numpy operations,
    far cheaper than a MILP, and gives the master LP several useful columns per
    round instead of one.
    """
    seated = np.flatnonzero(composition > 0)
    room = composition < problem.type_sizes
    counts = composition @ problem.type_quotas
    after = counts[None, None, :] - problem.type_quotas[seated][:, None, :] + problem.type_quotas
    ok = np.all((after >= problem.minimum) & (after <= problem.maximum), axis=2)
    ok &= room[None, :]
    ok[np.arange(len(seated)), seated] = False
    households = problem.type_household
    if problem.households:
        taken = set(households[seated].tolist()) - {-1}
        clash = np.isin(households, list(taken)) & (households >= 0)
        # Swapping out the household's own member frees its place again.
        ok &= ~clash[None, :] | (households[None, :] == households[seated][:, None])
    gains = composition @ values - values[seated][:, None] + values[None, :]
    gains[~ok] = -np.inf
    order = np.argsort(-gains, axis=None)[:_NEIGHBOURS]
    found = []
    for flat in order:
        out, into = np.unravel_index(flat, gains.shape)
        if gains[out, into] <= threshold:
            break
        swapped = composition.copy()
        swapped[seated[out]] -= 1
        swapped[into] += 1
        found.append(swapped)
    return found


def _cover(problem: _Problem, first: np.ndarray) -> list[np.ndarray]:
    """Compositions that together include every type that can be on a panel at all.

    Each MILP seats as many not-yet-covered types as it can (one member each), so
    a handful replace the hundreds of pricing rounds that would otherwise add one
    uncovered type at a time while the LEXIMIN minimum is stuck at zero.
    """
    compositions = [first]
    covered = first > 0
    while not covered.all():
        upper = np.where(covered, problem.type_sizes, 1.0)
        found = _price(problem, (~covered).astype(float), upper)
        if found is None or not (found[~covered] > 0).any():
            break
        compositions.append(found)
        covered |= found > 0
    return compositions


def _shares(problem: _Problem, compositions: list[np.ndarray]) -> sparse.csr_array:
    """The compositions-by-types matrix of c_t / N_t (each member's chance within a panel)."""
    return sparse.csr_array(np.array(compositions, dtype=float) / problem.type_sizes)


def _solve_master(
    problem: _Problem, compositions: list[np.ndarray], fixed: np.ndarray
) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Dual master LP over the compositions so far: (y, ŷ, objective z, primal weights)."""
    types = len(fixed)
    unfixed = np.isnan(fixed)
    cost = np.zeros(types + 1)
    cost[:types][~unfixed] = -(fixed[~unfixed] - _FIX_SLACK)
    cost[types] = 1.0
    upper = sparse.hstack(
        [_shares(problem, compositions), -np.ones((len(compositions), 1))], format="csr"
    )
    result = linprog(
        cost,
        A_ub=upper,
        b_ub=np.zeros(len(compositions)),
        A_eq=np.concatenate([unfixed.astype(float), [0.0]])[None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * types + [(None, None)],
        method="highs",
        options=_LP_OPTIONS,
    )
    if result.status != 0:
        raise RuntimeError(f"LEXIMIN master LP failed: {result.message}")
    primal = -result.ineqlin.marginals
    return result.x[:types], float(result.x[types]), float(result.fun), primal


def _final_weights(
    problem: _Problem, compositions: list[np.ndarray], fixed: np.ndarray
) -> np.ndarray:
    """Composition weights meeting the fixed probabilities, minimising any shortfall."""
    count = len(compositions)
    types = len(fixed)
    # shares·w + shortfall >= fixed, written as <= for linprog.
    upper = sparse.hstack(
        [-_shares(problem, compositions).T, -sparse.identity(types, format="csr")], format="csr"
    )
    result = linprog(
        np.concatenate([np.zeros(count), np.ones(types)]),
        A_ub=upper,
        b_ub=-fixed,
        A_eq=np.concatenate([np.ones(count), np.zeros(types)])[None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * (count + types),
        method="highs",
        options=_LP_OPTIONS,
    )
    if result.status != 0:
        raise RuntimeError(f"LEXIMIN final LP failed: {result.message}")
    return np.clip(result.x[:count], 0.0, None)


def _realise(
    problem: _Problem, compositions: list[np.ndarray], weights: np.ndarray
) -> list[tuple[np.ndarray, float]]:
    """Explicit panels and weights whose marginals are E[c_t]/N_t for every member.

    Time is counted in integer units (2**40 for the whole lottery) and shares as
    Fractions, so every instant has exactly c_t members of each type.
    """
    scale = 1 << 40
    units = [int(u) for u in np.floor(weights / weights.sum() * scale)]
    units[int(np.argmax(units))] += scale - sum(units)
    blocks = [(c, length) for c, length in zip(compositions, units, strict=True) if length > 0]
    pieces: list[list[tuple[Fraction, Fraction, int]]] = [[] for _ in blocks]
    for t, members in enumerate(problem.type_members):
        layout = _share_seats(t, members, blocks, greedy=True)
        if layout is None:
            layout = _share_seats(t, members, blocks, greedy=False)
            if layout is None:
                raise RuntimeError("could not share out the seats of a type")
        for block, block_pieces in enumerate(layout):
            pieces[block].extend(block_pieces)
    panels: list[tuple[np.ndarray, float]] = []
    for (_, length), block_pieces in zip(blocks, pieces, strict=True):
        cuts = sorted(
            {Fraction(0), Fraction(length)}
            | {p[0] for p in block_pieces}
            | {p[1] for p in block_pieces}
        )
        seated: list[list[int]] = [[] for _ in range(len(cuts) - 1)]
        for start, end, person in block_pieces:
            for slot in range(bisect_left(cuts, start), bisect_left(cuts, end)):
                seated[slot].append(person)
        for slot, people in enumerate(seated):
            width = cuts[slot + 1] - cuts[slot]
            panels.append((np.array(sorted(people), dtype=np.int64), float(width / scale)))
    return panels


def _share_seats(
    t: int,
    members: np.ndarray,
    blocks: list[tuple[np.ndarray, int]],
    *,
    greedy: bool,
) -> list[list[tuple[Fraction, Fraction, int]]] | None:
    """Seat intervals (start, end, person) per block for one type, or None on failure.

    Greedy gives the c seats of each block to the members with the largest remaining
    need (at most the block's length each), which keeps panels few; the fallback
    gives every member c/N of every block, which is always exact.
    """
    size = len(members)
    need = [Fraction(sum(int(c[t]) * length for c, length in blocks), size)] * size
    layout: list[list[tuple[Fraction, Fraction, int]]] = []
    for composition, length in blocks:
        seats = int(composition[t])
        block: list[tuple[Fraction, Fraction, int]] = []
        layout.append(block)
        if seats == 0:
            continue
        if greedy:
            capacity = Fraction(seats * length)
            shares: list[tuple[int, Fraction]] = []
            for r in sorted(range(size), key=lambda r: (-need[r], r)):
                amount = min(need[r], Fraction(length), capacity)
                if amount > 0:
                    shares.append((r, amount))
                    capacity -= amount
                if capacity == 0:
                    break
            if capacity:
                return None
        else:
            shares = [(r, Fraction(seats * length, size)) for r in range(size)]
        position = Fraction(0)
        for r, amount in shares:
            need[r] -= amount
            end = position + amount
            if end <= length:
                block.append((position, end, int(members[r])))
                position = end % length
            else:
                block.append((position, Fraction(length), int(members[r])))
                block.append((Fraction(0), end - length, int(members[r])))
                position = end - length
    if any(need):
        return None
    return layout


def draw_panel(distribution: Distribution, seed: int) -> frozenset[str]:
    """Draw one panel from a published lottery, reproducibly.

    To reproduce: ``u = numpy.random.default_rng(seed).random()``; walk
    ``distribution.panels`` in their listed (canonical, sorted) order adding up
    ``weights`` divided by their total; the drawn panel is the first one whose
    running total exceeds ``u``. Publish the distribution before the seed is
    chosen (e.g. from a public dice roll), since solver versions may find a
    different, equally optimal, lottery.
    """
    weights = np.asarray(distribution.weights, dtype=float)
    if len(weights) == 0:
        raise ValueError("the distribution has no panels")
    running = np.cumsum(weights / weights.sum())
    u = np.random.default_rng(seed).random()
    chosen = min(int(np.searchsorted(running, u, side="right")), len(weights) - 1)
    return distribution.panels[chosen]


def replace_dropouts(
    pool: Sequence[Registrant],
    quotas: Sequence[Quota],
    panel: Collection[str],
    dropouts: Collection[str],
    seed: int,
    *,
    one_per_household: bool = False,
) -> frozenset[str]:
    """Replace ``dropouts`` with people from the rest of the pool, keeping the quotas.

    Remaining panel members stay. The candidates (pool minus the original panel)
    are sorted by id and shuffled with ``numpy.random.default_rng(seed).permutation``;
    walking that order, a candidate is taken when the panel can still be completed
    within the quotas with them in it (a cheap count check, then a MILP), until
    every place is filled. The same inputs and seed always give the same panel.
    Raises :class:`InfeasibleQuotas` when no completion meets the quotas.
    """
    panel_ids = set(panel)
    dropout_ids = set(dropouts)
    if not dropout_ids <= panel_ids:
        raise ValueError("every drop-out must be on the panel")
    if not dropout_ids:
        return frozenset(panel_ids)
    problem = _Problem(pool, quotas, len(panel_ids), one_per_household)
    if not panel_ids <= problem.index.keys():
        raise ValueError("every panel member must be in the pool")
    kept = [problem.index[rid] for rid in sorted(panel_ids - dropout_ids)]
    out = [problem.index[rid] for rid in sorted(dropout_ids)]
    if problem.find_panel(np.zeros(problem.n), forced=kept, excluded=out) is None:
        raise InfeasibleQuotas(problem.explain(forced=kept, excluded=out))

    in_panel = {problem.index[rid] for rid in panel_ids}
    candidates = sorted(
        (rid for rid in problem.ids if problem.index[rid] not in in_panel),
    )
    order = np.random.default_rng(seed).permutation(len(candidates))
    chosen = list(kept)
    counts = problem.members[chosen].sum(axis=0).astype(int)
    used_households = {int(h) for h in problem.household_of[chosen] if h >= 0}
    category_of = [q.category for q in problem.quotas]
    for position in order:
        if len(chosen) == problem.k:
            break
        person = problem.index[candidates[position]]
        household = int(problem.household_of[person])
        if household >= 0 and household in used_households:
            continue
        after = counts + problem.members[person]
        if np.any(after > problem.maximum):
            continue
        slots = problem.k - len(chosen) - 1
        shortfall: dict[str, float] = defaultdict(float)
        for category, gap in zip(category_of, problem.minimum - after, strict=True):
            shortfall[category] += max(gap, 0.0)
        if any(gap > slots for gap in shortfall.values()):
            continue
        trial = [*chosen, person]
        if slots and problem.find_panel(np.zeros(problem.n), trial, out) is None:
            continue
        if not slots and not problem.satisfies(np.array(sorted(trial))):
            continue
        chosen = trial
        counts = after
        if household >= 0:
            used_households.add(household)
    if len(chosen) != problem.k:
        raise RuntimeError("replacement stopped short although a completion exists")
    return frozenset(problem.ids[i] for i in chosen)


class _LegacySampler:
    """The pool as arrays, built once so repeated legacy draws stay cheap."""

    def __init__(
        self,
        pool: Sequence[Registrant],
        quotas: Sequence[Quota],
        k: int,
        one_per_household: bool,
    ) -> None:
        self.problem = _Problem(pool, quotas, k, one_per_household)
        self.members_f = self.problem.members.astype(float)
        self.household_members = [np.array(m) for m in self.problem.households]

    def draw(self, rng: np.random.Generator) -> frozenset[str]:
        for _ in range(_LEGACY_ATTEMPTS):
            panel = self._attempt(rng)
            if panel is not None:
                return frozenset(self.problem.ids[i] for i in panel)
        raise SelectionFailed(f"legacy draw hit a dead end {_LEGACY_ATTEMPTS} times")

    def _attempt(self, rng: np.random.Generator) -> list[int] | None:
        problem = self.problem
        alive = np.ones(problem.n, dtype=bool)
        selected_counts = np.zeros(len(problem.quotas))
        panel: list[int] = []
        while len(panel) < problem.k:
            remaining = alive.astype(float) @ self.members_f
            needed = problem.minimum - selected_counts
            if np.any(needed > remaining) or alive.sum() < problem.k - len(panel):
                return None
            available = remaining > 0
            if available.any():
                ratio = np.where(available, needed / np.where(available, remaining, 1), -np.inf)
                best = np.flatnonzero(ratio >= ratio.max() - 1e-12)
                quota = best[rng.integers(len(best))]
                candidates = np.flatnonzero(alive & problem.members[:, quota])
            else:
                candidates = np.flatnonzero(alive)
            person = int(candidates[rng.integers(len(candidates))])
            panel.append(person)
            alive[person] = False
            selected_counts += self.members_f[person]
            household = problem.household_of[person]
            if household >= 0:
                alive[self.household_members[household]] = False
            for full in np.flatnonzero(selected_counts >= problem.maximum):
                alive &= ~problem.members[:, full]
        if np.any(selected_counts < problem.minimum):
            return None
        return panel


def legacy_draw(
    pool: Sequence[Registrant],
    quotas: Sequence[Quota],
    k: int,
    rng: np.random.Generator,
    *,
    one_per_household: bool = False,
) -> frozenset[str]:
    """One panel by the Sortition Foundation's former greedy stratified method.

    Repeatedly take the quota value whose unmet minimum is largest relative to the
    people still available with it ((minimum - selected) / remaining, ties broken
    at random), pick a random available person with that value, then remove people
    who could no longer be taken (their household, values now at their maximum).
    A dead end (a minimum that can no longer be met) restarts the draw, up to 200
    times before :class:`SelectionFailed`. Kept as a baseline: it is fast but can
    give some people much lower chances than necessary.
    """
    return _LegacySampler(pool, quotas, k, one_per_household).draw(rng)


def legacy_probabilities(
    pool: Sequence[Registrant],
    quotas: Sequence[Quota],
    k: int,
    *,
    draws: int = 2000,
    seed: int = 0,
    one_per_household: bool = False,
) -> dict[str, float]:
    """Each person's selection frequency over ``draws`` seeded legacy draws."""
    sampler = _LegacySampler(pool, quotas, k, one_per_household)
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(sampler.problem.ids, 0)
    for _ in range(draws):
        for rid in sampler.draw(rng):
            counts[rid] += 1
    return {rid: count / draws for rid, count in counts.items()}


def read_sortition_csv(
    respondents_csv: Path, categories_csv: Path
) -> tuple[list[Registrant], list[Quota]]:
    """Read the Sortition Foundation stratification app's input files.

    ``categories.csv`` has columns ``category,name,min,max`` (extra columns such as
    ``min_flex`` are ignored). ``respondents.csv`` has an id column (one named ``id``
    or ``nationbuilder_id``, else the first column) and one column per category;
    other columns are ignored, except an optional ``household`` column. A
    respondent value not listed for its category is an error, as in the app.
    """
    quotas: list[Quota] = []
    with Path(categories_csv).open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            cells = {
                key.strip().lower(): (value or "").strip() for key, value in row.items() if key
            }
            if not cells.get("category"):
                continue
            quotas.append(
                Quota(cells["category"], cells["name"], int(cells["min"]), int(cells["max"]))
            )
    allowed: dict[str, set[str]] = defaultdict(set)
    for quota in quotas:
        allowed[quota.category].add(quota.value)

    pool: list[Registrant] = []
    with Path(respondents_csv).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if not header:
            raise ValueError(f"{respondents_csv} has no header row")
        by_lower = {name.lower(): name for name in header}
        id_column = by_lower.get("id") or by_lower.get("nationbuilder_id") or header[0]
        missing = [category for category in allowed if category not in header]
        if missing:
            raise ValueError(f"{respondents_csv} lacks category columns: {', '.join(missing)}")
        household_column = by_lower.get("household")
        if household_column in allowed:
            household_column = None
        for line, raw in enumerate(reader, start=2):
            row = {(key or "").strip(): (value or "").strip() for key, value in raw.items()}
            features = {category: row[category] for category in allowed}
            for category, value in features.items():
                if value not in allowed[category]:
                    raise ValueError(
                        f"{respondents_csv} line {line}: {category}={value!r} has no quota"
                    )
            household = row.get(household_column) if household_column else None
            pool.append(Registrant(row[id_column], features, household or None))
    return pool, quotas
