"""Opinion-group snapshots: from stored votes to a cached result pages can read.

Computing groups takes seconds on a big conversation, so it never runs in a voter's
request: organisers press "recompute", or ``flask deliberation recompute`` runs from a
timer. A snapshot keeps everything a results page or report needs as plain JSON:

``{"k", "silhouette", "participants", "statements",
   "groups": [{"id", "members": [voter numbers]}],
   "points": [[voter number, x, y, group id]], "left_out": [voter numbers],
   "repness": {"<group id>": [{"statement", "direction", "n_success", "n_trials",
                               "probability", "ratio", "z_within", "z_between", "metric"}]},
   "consensus": {"agree": [{"statement", "probability", "z"}], "disagree": [...]},
   "group_informed_consensus": {"<statement number>": value},
   "divisive": [{"statement", "spread"}]}``

Statement and voter numbers are the Polis ids (comment-id, voter-id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from app.consent.services import excluded_from_analysis
from app.consultations.models import (
    ContentStatus,
    OpinionSnapshot,
    SnapshotKind,
    Statement,
    Vote,
    Voter,
)
from app.consultations.opinion_groups import (
    StatementStatistics,
    VoteMatrix,
    compute_opinion_groups,
    statistics_for_labels,
)
from app.extensions import db

DEFAULT_SEED = 0


def counted_votes(consultation_id: int) -> list[tuple[str, str, int]]:
    """(voter number, statement number, vote) for the votes analysis may use.

    Hidden or pending statements do not count, nor do people who have withdrawn the
    consent analysis rests on.
    """
    excluded = excluded_from_analysis()
    query = (select(Voter.number, Statement.number, Vote.value)
             .join(Vote, Vote.voter_id == Voter.id)
             .join(Statement, Statement.id == Vote.statement_id)
             .where(Statement.consultation_id == consultation_id,
                    Statement.status == ContentStatus.PUBLISHED)
             .order_by(Voter.number, Statement.number))
    if excluded:
        query = query.where((Voter.participant_id.is_(None))
                            | Voter.participant_id.not_in(excluded))
    return [(str(v), str(s), int(value)) for v, s, value in db.session.execute(query)]


def vote_count(consultation_id: int) -> int:
    return db.session.scalar(
        select(func.count(Vote.id)).join(Statement)
        .where(Statement.consultation_id == consultation_id)) or 0


def _statistics_payload(stats: StatementStatistics) -> dict[str, Any]:
    def rows(items) -> list[dict[str, Any]]:
        out = []
        for item in items:
            row = asdict(item)
            row["statement"] = int(row.pop("statement_id"))
            row.pop("group", None)
            out.append(row)
        return out

    return {
        "repness": {str(g): rows(items) for g, items in sorted(stats.repness.items())},
        "consensus": {"agree": rows(stats.consensus_agree),
                      "disagree": rows(stats.consensus_disagree)},
        "group_informed_consensus": {str(int(s)): float(v)
                                     for s, v in stats.group_informed_consensus.items()},
        "divisive": rows(stats.divisive),
    }


def _groups(labels: Mapping[str, int]) -> list[dict[str, Any]]:
    members: dict[int, list[int]] = {}
    for voter, group in labels.items():
        members.setdefault(int(group), []).append(int(voter))
    return [{"id": g, "members": sorted(m)} for g, m in sorted(members.items())]


def compute_snapshot(consultation_id: int, *, seed: int = DEFAULT_SEED) -> OpinionSnapshot:
    """Cluster the current votes and store the result; the caller commits."""
    votes = counted_votes(consultation_id)
    payload: dict[str, Any]
    if votes:
        matrix = VoteMatrix.from_votes(votes)
        result = compute_opinion_groups(matrix, seed=seed)
        labels = {pid: int(g) for pid, g in zip(result.clustered, result.labels, strict=True)}
        stats = StatementStatistics(result.repness, result.consensus_agree,
                                    result.consensus_disagree,
                                    result.group_informed_consensus, result.divisive)
        payload = {
            "k": int(result.k),
            "silhouette": float(result.silhouette),
            "participants": len(matrix.participant_ids),
            "statements": len(matrix.statement_ids),
            "groups": _groups(labels),
            "points": [[int(pid), round(float(x), 4), round(float(y), 4), int(g)]
                       for pid, (x, y), g in zip(result.clustered, result.coordinates,
                                                 result.labels, strict=True)],
            "left_out": sorted(int(p) for p in result.left_out),
            "seed": seed,
            **_statistics_payload(stats),
        }
    else:
        payload = _empty_payload()
    snapshot = OpinionSnapshot(consultation_id=consultation_id, kind=SnapshotKind.COMPUTED,
                               vote_count=len(votes), payload=payload)
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def snapshot_from_labels(consultation_id: int, labels: Mapping[int, int]) -> OpinionSnapshot:
    """Freeze a published group assignment (Polis's group-id) with our statistics."""
    votes = counted_votes(consultation_id)
    known = {v for v, _s, _value in votes}
    usable = {str(v): int(g) for v, g in labels.items() if str(v) in known}
    payload = _empty_payload()
    if usable:
        matrix = VoteMatrix.from_votes(votes)
        stats = statistics_for_labels(matrix, usable)
        payload.update({
            "k": len(set(usable.values())),
            "participants": len(matrix.participant_ids),
            "statements": len(matrix.statement_ids),
            "groups": _groups(usable),
            "left_out": sorted(int(p) for p in matrix.participant_ids if p not in usable),
            **_statistics_payload(stats),
        })
    snapshot = OpinionSnapshot(consultation_id=consultation_id, kind=SnapshotKind.IMPORTED,
                               vote_count=len(votes), payload=payload)
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def _empty_payload() -> dict[str, Any]:
    return {"k": 0, "silhouette": 0.0, "participants": 0, "statements": 0, "groups": [],
            "points": [], "left_out": [], "repness": {},
            "consensus": {"agree": [], "disagree": []}, "group_informed_consensus": {},
            "divisive": []}


def latest_snapshot(consultation_id: int,
                    kind: SnapshotKind = SnapshotKind.COMPUTED) -> OpinionSnapshot | None:
    return db.session.scalar(
        select(OpinionSnapshot)
        .where(OpinionSnapshot.consultation_id == consultation_id, OpinionSnapshot.kind == kind)
        .order_by(OpinionSnapshot.id.desc()).limit(1))


def group_of_voter(snapshot: OpinionSnapshot | None, number: int) -> int | None:
    if snapshot is None:
        return None
    for group in snapshot.payload["groups"]:
        if number in group["members"]:
            return int(group["id"])
    return None


def report(consultation_id: int) -> dict[str, Any]:
    """What ``flask deliberation report --json`` prints: both clusterings side by side."""
    out: dict[str, Any] = {"consultation": consultation_id}
    for kind in SnapshotKind:
        snapshot = latest_snapshot(consultation_id, kind)
        out[kind.value] = None if snapshot is None else {
            "created_at": snapshot.created_at.isoformat(),
            "vote_count": snapshot.vote_count,
            **{key: value for key, value in snapshot.payload.items() if key != "points"},
        }
    return out
