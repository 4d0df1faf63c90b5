"""Opinion groups: planted groups are found, and statement statistics match hand sums.

Expected numbers are worked out by hand in the tests (the formulas are the ones in the
module docstring), never taken from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import comb

from app.consultations.opinion_groups import (
    VoteMatrix,
    compute_opinion_groups,
    silhouette_score,
    statistics_for_labels,
)

NAN = math.nan


def adjusted_rand_index(truth: list[int], found: list[int]) -> float:
    """Hubert-Arabie ARI from the contingency table of the two labelings."""
    _, t = np.unique(truth, return_inverse=True)
    _, f = np.unique(found, return_inverse=True)
    table = np.zeros((t.max() + 1, f.max() + 1))
    np.add.at(table, (t, f), 1)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(1), 2).sum(), comb(table.sum(0), 2).sum()
    expected = rows * cols / comb(len(truth), 2)
    return float((pairs - expected) / ((rows + cols) / 2 - expected))


def planted_votes(seed: int = 11) -> tuple[list[tuple[str, str, int]], dict[str, int], list[int]]:
    """3 groups x 60 people, 40 statements; own set agreed 85 %, others' disagreed 85 %."""
    rng = np.random.default_rng(seed)
    owner = [s % 3 for s in range(40)]
    votes, truth = [], {}
    for group in range(3):
        for person in range(60):
            pid = f"g{group}-{person}"
            truth[pid] = group
            for s in range(40):
                if rng.random() < 0.30:
                    continue
                likely = 1 if owner[s] == group else -1
                votes.append((pid, f"s{s}", likely if rng.random() < 0.85 else -likely))
    return votes, truth, owner


def test_planted_groups_are_recovered() -> None:
    votes, truth, owner = planted_votes()
    result = compute_opinion_groups(VoteMatrix.from_votes(votes), seed=0)

    assert result.k == 3
    assert result.left_out == []
    assert result.coordinates.shape == (180, 2)
    found = [int(label) for label in result.labels]
    assert adjusted_rand_index([truth[p] for p in result.clustered], found) >= 0.9
    assert result.silhouette > 0.5

    for group, found_repness in result.repness.items():
        members = [truth[p] for p, label in zip(result.clustered, found, strict=True)]
        members = [m for m, label in zip(members, found, strict=True) if label == group]
        planted = max(set(members), key=members.count)
        assert 0 < len(found_repness) <= 5
        metrics = [r.metric for r in found_repness]
        assert metrics == sorted(metrics, reverse=True)
        for rep in found_repness:
            own = owner[int(rep.statement_id[1:])] == planted
            assert own == (rep.direction == "agree")
    # Each statement is agreed by one group and rejected by two: divisive, never consensus.
    assert len(result.divisive) == 5
    assert result.consensus_agree == []


def test_same_seed_same_groups_and_dense_input_agrees() -> None:
    votes, _, _ = planted_votes(seed=3)
    sparse = VoteMatrix.from_votes(votes)
    dense = VoteMatrix(sparse.participant_ids, sparse.statement_ids, sparse.dense())
    first, second = compute_opinion_groups(sparse, seed=5), compute_opinion_groups(dense, seed=5)
    assert np.allclose(first.coordinates, second.coordinates)
    assert np.array_equal(first.labels, second.labels)
    assert first.repness == second.repness


# Two fixed groups of three. Columns s1..s4; NaN = no vote.
HAND_VOTES = np.array(
    [
        [1, 1, 1, -1],  # p1  group 0
        [1, 1, 1, -1],  # p2  group 0
        [1, 1, 0, -1],  # p3  group 0
        [-1, 1, 1, -1],  # p4  group 1
        [-1, 1, 1, -1],  # p5  group 1
        [-1, 1, NAN, 0],  # p6  group 1
    ]
)
HAND_LABELS = {"p1": 0, "p2": 0, "p3": 0, "p4": 1, "p5": 1, "p6": 1}


def hand_matrix() -> VoteMatrix:
    return VoteMatrix(["p1", "p2", "p3", "p4", "p5", "p6"], ["s1", "s2", "s3", "s4"], HAND_VOTES)


def test_statistics_match_hand_calculation() -> None:
    stats = statistics_for_labels(hand_matrix(), HAND_LABELS)
    repness, consensus_agree, consensus_disagree, informed, divisive = stats

    # s1, group 0 "agree": na = 3, ns = 3; outside: na_out = 0, ns_out = 3.
    pa = (3 + 1) / (3 + 2)  # 0.8
    pa_out = (0 + 1) / (3 + 2)  # 0.2
    ra = pa / pa_out  # 4.0
    pat = 2 * math.sqrt(3 + 1) * ((3 + 1) / (3 + 1) - 0.5)  # 2.0
    # two-prop: p1 = 4/4, p2 = 1/4, pooled = (3 + 0 + 2) / (3 + 3 + 2) = 5/8
    rat = (4 / 4 - 1 / 4) / math.sqrt(5 / 8 * 3 / 8 * (1 / 4 + 1 / 4))  # 2.19089
    assert (pa, pa_out, ra, pat) == pytest.approx((0.8, 0.2, 4.0, 2.0))
    assert rat == pytest.approx(2.19089, abs=1e-5)
    metric = ra * rat * pa * pat  # 14.0217
    assert metric == pytest.approx(14.0217, abs=1e-4)

    # Group 0's other candidates fail a test by hand:
    #  s2 agree: same 3/3 outside, pooled p = 1, rat = 0.
    #  s3 agree: na = 2, ns = 3, pat = 2 * 2 * (3/4 - 0.5) = 1.0 < 1.2816.
    #  s4 disagree: nd = 3/3 in, 2/3 out, rdt = (1 - 3/4) / sqrt(7/8 * 1/8 * 1/2) = 1.069.
    assert (2 * 2 * (3 / 4 - 0.5), (1 - 3 / 4) / math.sqrt(7 / 8 * 1 / 8 * 1 / 2)) == (
        pytest.approx(1.0),
        pytest.approx(1.0690, abs=1e-4),
    )
    [rep0] = repness[0]
    assert (rep0.statement_id, rep0.group, rep0.direction) == ("s1", 0, "agree")
    assert (rep0.n_success, rep0.n_trials) == (3, 3)
    assert (rep0.probability, rep0.ratio, rep0.z_within, rep0.z_between, rep0.metric) == (
        pytest.approx(pa),
        pytest.approx(ra),
        pytest.approx(pat),
        pytest.approx(rat),
        pytest.approx(metric),
    )

    # s1, group 1 "disagree": nd = 3, ns = 3 against 0 of 3 outside: the mirror image.
    pd = (3 + 1) / (3 + 2)  # 0.8
    rd = pd / ((0 + 1) / (3 + 2))  # 4.0
    # Group 1's s3 agree: na = 2, ns = 2 -> pat = 2 * sqrt(3) * (3/3 - 0.5) = 1.732, but
    # rat = (3/3 - 3/4) / sqrt(6/7 * 1/7 * (1/3 + 1/4)) = 0.935 < 1.2816: not representative.
    rat_s3 = (3 / 3 - 3 / 4) / math.sqrt(6 / 7 * 1 / 7 * (1 / 3 + 1 / 4))
    assert rat_s3 == pytest.approx(0.9354, abs=1e-4)
    assert rat_s3 < 1.2816
    [rep1] = repness[1]
    assert (rep1.statement_id, rep1.direction, rep1.n_success, rep1.n_trials) == (
        "s1",
        "disagree",
        3,
        3,
    )
    assert (rep1.probability, rep1.ratio, rep1.z_within, rep1.z_between, rep1.metric) == (
        pytest.approx(pd),
        pytest.approx(rd),
        pytest.approx(2.0),
        pytest.approx(2.19089, abs=1e-5),
        pytest.approx(rd * 2.19089 * pd * 2.0, abs=1e-4),
    )

    # Consensus over all six. s2: na = 6, ns = 6 -> pa = 7/8, z = 2 * sqrt(7) * (7/7 - 0.5).
    # s3: na = 4, ns = 5 (p3 passed, p6 did not vote) -> pa = 5/7, z = 2 * sqrt(6) * (5/6 - 0.5).
    # s1: pa = 4/8 = 0.5, not above one half. Ranked by pa * z: 2.315 before 1.166.
    assert [c.statement_id for c in consensus_agree] == ["s2", "s3"]
    assert [(c.probability, c.z) for c in consensus_agree] == [
        (pytest.approx(7 / 8), pytest.approx(math.sqrt(7))),
        (pytest.approx(5 / 7), pytest.approx(2 * math.sqrt(6) * (5 / 6 - 0.5))),
    ]
    # s4: nd = 5, ns = 6 -> pd = 6/8, z = 2 * sqrt(7) * (6/7 - 0.5) = 1.8898.
    assert [(c.statement_id, c.probability, c.z) for c in consensus_disagree] == [
        ("s4", pytest.approx(0.75), pytest.approx(1.8898, abs=1e-4))
    ]

    # Group-informed consensus: (na_0 + 1)/(ns_0 + 2) * (na_1 + 1)/(ns_1 + 2).
    assert informed == {
        "s1": pytest.approx(4 / 5 * 1 / 5),  # 0.16
        "s2": pytest.approx(4 / 5 * 4 / 5),  # 0.64
        "s3": pytest.approx(3 / 5 * 3 / 4),  # 0.45
        "s4": pytest.approx(1 / 5 * 1 / 5),  # 0.04
    }

    # Divisive: s1 spreads 4/5 - 1/5, s3 3/4 - 3/5; s2 and s4 are equal in both groups.
    assert [(d.statement_id, d.spread) for d in divisive] == [
        ("s1", pytest.approx(0.6)),
        ("s3", pytest.approx(0.15)),
    ]


def test_group_numbers_are_kept_from_the_labels() -> None:
    labels = {pid: (7 if group == 0 else 2) for pid, group in HAND_LABELS.items()}
    repness = statistics_for_labels(hand_matrix(), labels).repness
    assert [(g, [r.direction for r in reps]) for g, reps in sorted(repness.items())] == [
        (2, ["disagree"]),
        (7, ["agree"]),
    ]


def test_unknown_participant_in_labels_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown"):
        statistics_for_labels(hand_matrix(), {"nobody": 0})


def test_participants_with_too_few_votes_are_left_out() -> None:
    statements = [f"s{i}" for i in range(10)]
    votes = []
    for person in range(8):
        sign = 1 if person < 4 else -1
        votes += [(f"full{person}", s, sign if i < 5 else -sign) for i, s in enumerate(statements)]
    votes += [("seven", s, 1) for s in statements[:7]]
    votes += [("six", s, 0) for s in statements[:6]]
    result = compute_opinion_groups(VoteMatrix.from_votes(votes))
    assert result.left_out == ["six"]
    assert "seven" in result.clustered and len(result.clustered) == 9
    assert result.coordinates.shape == (9, 2) and result.labels.shape == (9,)

    # With 4 statements the bar is min(7, 4) = 4 votes.
    few = [(p, s, 1) for p in "abc" for s in "wxyz"] + [("d", s, -1) for s in "wxy"]
    assert compute_opinion_groups(VoteMatrix.from_votes(few)).left_out == ["d"]


def test_the_last_of_two_votes_counts() -> None:
    matrix = VoteMatrix.from_votes(
        [("a", "s1", 1), ("a", "s2", 0), ("b", "s1", 1), ("a", "s1", -1)]
    )
    assert matrix.participant_ids == ["a", "b"]
    assert matrix.statement_ids == ["s1", "s2"]
    assert matrix.values.nnz == 3  # the pass is kept as a stored zero
    assert np.array_equal(matrix.dense(), np.array([[-1.0, 0.0], [1.0, NAN]]), equal_nan=True)


def test_invalid_votes_are_rejected() -> None:
    with pytest.raises(ValueError):
        VoteMatrix.from_votes([("a", "s1", 2)])
    with pytest.raises(ValueError):
        VoteMatrix(["a"], ["s1"], np.array([[0.5]]))


@pytest.mark.parametrize("k", [None, 3])
def test_everyone_agreeing_is_consensus_and_does_not_crash(k: int | None) -> None:
    votes = [(f"p{i}", s, 1) for i in range(12) for s in ("s1", "s2", "s3", "s4")]
    result = compute_opinion_groups(VoteMatrix.from_votes(votes), k=k)
    # na = ns = 12 for every statement: pa = 13/14, z = 2 * sqrt(13) * (13/13 - 0.5).
    assert [c.statement_id for c in result.consensus_agree] == ["s1", "s2", "s3", "s4"]
    assert [(c.probability, c.z) for c in result.consensus_agree] == 4 * [
        (pytest.approx(13 / 14), pytest.approx(math.sqrt(13)))
    ]
    assert result.consensus_disagree == []
    assert result.k == 1 and result.silhouette == 0.0
    assert np.array_equal(result.labels, np.zeros(12))
    assert np.array_equal(result.coordinates, np.zeros((12, 2)))
    assert result.repness == {0: []} and result.divisive == []
    assert result.group_informed_consensus == dict.fromkeys(
        ["s1", "s2", "s3", "s4"], pytest.approx(13 / 14)
    )


def test_empty_matrix_gives_empty_result() -> None:
    result = compute_opinion_groups(VoteMatrix.from_votes([]))
    assert (result.clustered, result.k, result.repness, result.divisive) == ([], 0, {}, [])


def test_silhouette_by_hand() -> None:
    points = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    # Point 0: a = 1, b = (10 + 11) / 2; point 1: a = 1, b = (9 + 10) / 2; the rest mirror.
    expected = ((10.5 - 1) / 10.5 + (9.5 - 1) / 9.5) / 2
    assert silhouette_score(points, np.array([0, 0, 1, 1])) == pytest.approx(expected)
    assert silhouette_score(points, np.array([0, 0, 0, 0])) == 0.0
