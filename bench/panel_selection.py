"""Panel selection: LEXIMIN against the legacy greedy draw on one synthetic pool.

The pool is illustrative: 2,000 seeded synthetic registrants whose profile is
skewed the way volunteer pools usually are (older, more educated, more urban than
the population), six categories, quotas set around population shares for a panel
of 50, and ~10% of registrants sharing a household with one other (one per
household). The subject is LEXIMIN (exact probabilities, column generation with
HiGHS); the baseline, in the same run, is estimating the legacy method's
probabilities from repeated seeded draws. Both minimum probabilities are printed
with their ratio, and both times with theirs.

LEXIMIN is capped (``--max-iterations``, default 250, printed): on this pool its
first round, which settles the minimum probability, finishes within about 180
iterations, so the printed minimum is the optimum; chances above it are only
partly levelled when the cap is hit (about 70 s here; uncapped takes many minutes).

The legacy estimate is noisy: with ~50 selections per person in 2,000 draws the
smallest of 2,000 frequencies is biased low, so the minimum over profile averages
(people with identical features and no household are interchangeable for both
methods) is printed too, and is the fairer figure to compare.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.events.selection import (  # noqa: E402
    Quota,
    Registrant,
    legacy_probabilities,
    leximin,
)

PANEL = 50
POOL = 2000
# category -> value -> (population share, share among registrants)
CATEGORIES: dict[str, dict[str, tuple[float, float]]] = {
    "age_band": {
        "16-29": (0.19, 0.11),
        "30-44": (0.23, 0.20),
        "45-59": (0.26, 0.29),
        "60-74": (0.21, 0.31),
        "75+": (0.11, 0.09),
    },
    "gender": {"female": (0.51, 0.58), "male": (0.48, 0.40), "other": (0.01, 0.02)},
    "education": {"low": (0.25, 0.12), "medium": (0.45, 0.38), "high": (0.30, 0.50)},
    "urbanisation": {"city": (0.39, 0.52), "town": (0.31, 0.29), "rural": (0.30, 0.19)},
    "activity_limitation": {"yes": (0.25, 0.17), "no": (0.75, 0.83)},
    "migrant_background": {"yes": (0.12, 0.07), "no": (0.88, 0.93)},
}


def synthetic_pool(seed: int) -> tuple[list[Registrant], list[Quota]]:
    """Registrants drawn from the skewed shares; education leans younger-higher."""
    rng = np.random.default_rng(seed)
    pool: list[Registrant] = []
    for i in range(POOL):
        features: dict[str, str] = {}
        for category, values in CATEGORIES.items():
            names = list(values)
            shares = np.array([values[name][1] for name in names])
            if category == "education" and features["age_band"] in ("16-29", "30-44"):
                shares = shares * np.array([0.6, 1.0, 1.3])
            features[category] = names[rng.choice(len(names), p=shares / shares.sum())]
        household = f"h{i // 2}" if i < POOL // 10 else None
        pool.append(Registrant(f"r{i:04d}", features, household))
    quotas = []
    for category, values in CATEGORIES.items():
        for value, (population, _) in values.items():
            target = population * PANEL
            quotas.append(Quota(category, value, max(0, round(target) - 1), round(target) + 1))
    return pool, quotas


def profile_minimum(pool: list[Registrant], probabilities: dict[str, float]) -> float:
    """Smallest mean probability over groups of interchangeable people."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for registrant in pool:
        key = (
            (registrant.id,) if registrant.household else tuple(sorted(registrant.features.items()))
        )
        groups[key].append(probabilities[registrant.id])
    return min(float(np.mean(values)) for values in groups.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--max-iterations", type=int, default=250)
    args = parser.parse_args()

    pool, quotas = synthetic_pool(args.seed)
    print(
        f"pool {len(pool)} (illustrative, seed {args.seed}), {len(CATEGORIES)} categories, "
        f"{len(quotas)} quotas, panel {PANEL}, one per household, "
        f"max_iterations {args.max_iterations}"
    )

    start = time.perf_counter()
    distribution = leximin(
        pool, quotas, PANEL, one_per_household=True, max_iterations=args.max_iterations
    )
    leximin_seconds = time.perf_counter() - start

    start = time.perf_counter()
    legacy = legacy_probabilities(
        pool, quotas, PANEL, draws=args.draws, seed=args.seed, one_per_household=True
    )
    legacy_seconds = time.perf_counter() - start
    legacy_min = min(legacy.values())
    legacy_profile_min = profile_minimum(pool, legacy)
    leximin_profile_min = profile_minimum(pool, distribution.probabilities)

    print(
        f"leximin: {leximin_seconds:.1f} s, minimum probability {distribution.minimum:.5f} "
        f"(profile {leximin_profile_min:.5f}), {distribution.iterations} iterations"
        f"{' (CAPPED)' if distribution.capped else ''}, {len(distribution.panels)} panels"
    )
    never = sum(1 for value in legacy.values() if value == 0)
    print(
        f"legacy ({args.draws} draws): {legacy_seconds:.1f} s, estimated minimum "
        f"{legacy_min:.5f} (profile {legacy_profile_min:.5f}), "
        f"{never} registrants never drawn"
    )
    print(
        f"ratio minimum leximin/legacy: {ratio(distribution.minimum, legacy_min)} "
        f"(profile {ratio(leximin_profile_min, legacy_profile_min)})   "
        f"ratio time leximin/legacy: {leximin_seconds / legacy_seconds:.2f}"
    )


def ratio(subject: float, baseline: float) -> str:
    return f"{subject / baseline:.2f}" if baseline > 0 else "inf (legacy minimum is 0)"


if __name__ == "__main__":
    main()
