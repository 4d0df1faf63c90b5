"""Polis import and export through `flask deliberation ...`, on SQLite and PostgreSQL.

The Polis files are written here by hand or from a seeded generator with planted groups,
so every expected value (ids, final votes, group statistics) is known independently of
the code under test.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.consultations import analysis
from app.consultations.models import (
    Consultation,
    ConsultationStatus,
    ContentStatus,
    OpinionSnapshot,
    SnapshotKind,
    Statement,
    Topic,
    Vote,
    Voter,
)
from app.consultations.polis import (
    COMMENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    VOTE_COLUMNS,
    PolisFormatError,
    polis_datetime,
    read_polis_export,
)
from app.extensions import db
from tests.consultations.test_opinion_groups import adjusted_rand_index
from tests.factories import make_hub

BASE = 1_705_939_504  # Mon Jan 22 2024 16:05:04 UTC
BASE_DATETIME = "Mon Jan 22 2024 16:05:04 GMT+0000 (Coordinated Universal Time)"
TRICKY_TEXT = '=SUM(A1:A2), "quoted"\nsecond line'


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def comment_rows(comments: list[tuple[int, int, int, str, int]]) -> list[list[object]]:
    """(comment-id, author-id, moderated, body, timestamp) as comments.csv rows."""
    return [[ts, "", cid, author, 0, 0, moderated, body]
            for cid, author, moderated, body, ts in comments]


def vote_rows(votes: list[tuple[int, int, int, int]]) -> list[list[object]]:
    """(timestamp, comment-id, voter-id, vote) as votes.csv rows."""
    return [[ts, "", cid, voter, value] for ts, cid, voter, value in votes]


def invoke(runner, *args: str):
    return runner.invoke(args=["deliberation", *args])


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def row_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Consultation, Statement, Voter, Vote, OpinionSnapshot, AuditEntry)}


# --- a small hand-written export ---------------------------------------------------------

HAND_COMMENTS = [
    (0, 0, 1, "Screening should be free", BASE),
    (3, 5, 0, TRICKY_TEXT, BASE + 60),
    (7, 9, -1, "=HYPERLINK(\"spam\")", BASE + 120),
]
HAND_VOTES = [
    (BASE + 200, 0, 0, 1),
    (BASE + 300, 0, 2, 1),  # voter 2's latest vote on 0 ...
    (BASE + 250, 0, 2, -1),  # ... listed after an earlier one it overrides
    ((BASE + 400) * 1000 + 500, 3, 2, 0),  # milliseconds
    (BASE + 500, 3, 5, -1),
    (BASE + 510, 7, 5, 1),
]


def write_hand_export(directory: Path) -> Path:
    directory.mkdir()
    write_csv(directory / "comments.csv", list(COMMENT_COLUMNS), comment_rows(HAND_COMMENTS))
    write_csv(directory / "votes.csv", list(VOTE_COLUMNS), vote_rows(HAND_VOTES))
    write_csv(directory / "participants-votes.csv", [*PARTICIPANT_COLUMNS, "0", "3"],
              [[0, 0, 1, 1, 1, 0, 1, ""], [2, "", 0, 2, 1, 0, 1, 0], [5, 1, 1, 2, 1, 1, "", -1]])
    return directory


def test_import_keeps_polis_ids_and_the_latest_vote(app, runner, tmp_path):
    make_hub(app, "pt", "PT")
    make_hub(app, "se", "SE")
    directory = write_hand_export(tmp_path / "lisbon-2024")

    result = invoke(runner, "import-polis", str(directory), "--hub", "se",
                    "--title", "Screening in Lisbon", "--language", "pt")

    assert result.exit_code == 0, result.output
    assert "3 statements (1 hidden), 4 voters, 5 votes" in result.output
    with app.app_context():
        consultation = db.session.get(Consultation, int(last_line(result)))
        assert consultation.slug == "lisbon-2024"
        assert (consultation.status, consultation.topic) == (ConsultationStatus.CLOSED,
                                                             Topic.ENGAGEMENT)
        assert (consultation.hub.slug, consultation.country) == ("se", "SE")
        assert consultation.default_language == "pt"
        assert [(t.language, t.title) for t in consultation.texts] == [
            ("pt", "Screening in Lisbon")]

        statements = {s.number: s for s in db.session.scalars(
            select(Statement).where(Statement.consultation_id == consultation.id))}
        assert {n: (s.text, s.status, s.author.number, s.language)
                for n, s in statements.items()} == {
            0: ("Screening should be free", ContentStatus.PUBLISHED, 0, "pt"),
            3: (TRICKY_TEXT, ContentStatus.PUBLISHED, 5, "pt"),
            7: ('=HYPERLINK("spam")', ContentStatus.HIDDEN, 9, "pt"),
        }
        assert statements[0].created_at == datetime.fromtimestamp(BASE, UTC)

        voters = db.session.scalars(
            select(Voter).where(Voter.consultation_id == consultation.id)).all()
        assert sorted(v.number for v in voters) == [0, 2, 5, 9]  # 9 only wrote
        assert all(v.participant_id is None for v in voters)

        votes = {(voter, statement): vote for voter, statement, vote in db.session.execute(
            select(Voter.number, Statement.number, Vote)
            .join(Vote, Vote.voter_id == Voter.id).join(Statement))}
        assert {key: vote.value for key, vote in votes.items()} == {
            (0, 0): 1, (2, 0): 1, (2, 3): 0, (5, 3): -1, (5, 7): 1}
        assert votes[2, 0].created_at == datetime.fromtimestamp(BASE + 250, UTC)
        assert votes[2, 0].updated_at == datetime.fromtimestamp(BASE + 300, UTC)
        assert votes[2, 3].updated_at == datetime.fromtimestamp(BASE + 400.5, UTC)

        imported = analysis.latest_snapshot(consultation.id, SnapshotKind.IMPORTED)
        assert imported.payload["groups"] == [{"id": 0, "members": [0]},
                                              {"id": 1, "members": [5]}]
        assert analysis.latest_snapshot(consultation.id) is not None
        audit = db.session.scalar(select(AuditEntry))
        assert (audit.action, audit.actor, audit.subject) == (
            "consultation.imported", "cli", f"consultation:{consultation.id}")

    again = invoke(runner, "import-polis", str(directory))
    assert again.exit_code == 0, again.output
    with app.app_context():
        second = db.session.get(Consultation, int(last_line(again)))
        assert (second.slug, second.hub.slug) == ("lisbon-2024-2", "pt")  # first hub
        assert second.texts[0].title == "lisbon-2024"


# --- planted groups ----------------------------------------------------------------------


@dataclass
class Planted:
    comments: list[tuple[int, int, int, str, int]]  # as comments.csv
    votes: list[tuple[int, int, int, int]]  # as votes.csv, repeated votes included
    truth: dict[int, int]  # voter-id -> planted group
    final: dict[tuple[int, int], int]  # (voter-id, comment-id) -> the vote that counts
    hidden: int  # comment-id of the rejected comment

    @property
    def published(self) -> list[int]:
        return [c[0] for c in self.comments if c[2] != -1]


def planted(sizes: tuple[int, ...] = (40, 40, 40), n_statements: int = 30,
            seed: int = 7) -> Planted:
    """Each group agrees with its own statements and rejects the others' (85 %); the last
    three statements everyone agrees with. Voter and comment ids are sparse and shuffled,
    a few votes are repeated (the earlier one listed later), one comment is rejected."""
    rng = np.random.default_rng(seed)
    truth_list = [g for g, size in enumerate(sizes) for _ in range(size)]
    ids = 100 + 3 * rng.permutation(len(truth_list))
    truth = {int(pid): g for pid, g in zip(ids, truth_list, strict=True)}
    cids = [10 + 2 * s for s in range(n_statements)]
    hidden = 10 + 2 * n_statements
    texts = [TRICKY_TEXT, "+ plus", "-minus", "@at"]
    comments = [(cid, int(ids[s]), 1, texts[s] if s < len(texts) else f"Statement {cid}",
                 BASE + s) for s, cid in enumerate(cids)]
    comments.append((hidden, 999, -1, "Rejected", BASE + n_statements))
    votes, final = [], {}
    ts = BASE + 1000
    for pid in sorted(truth):
        group = truth[pid]
        for s, cid in enumerate([*cids, hidden]):
            if rng.random() < 0.25:
                continue
            shared = s >= n_statements - 3
            likely = 1 if shared or s % len(sizes) == group else -1
            roll = rng.random()
            value = likely if roll < 0.85 else (0 if roll < 0.9 else -likely)
            ts += 1
            votes.append((ts, cid, pid, value))
            final[pid, cid] = value
            if rng.random() < 0.05:
                votes.append((ts - 500, cid, pid, -value if value else 1))
    return Planted(comments, votes, truth, final, hidden)


def write_planted(directory: Path, data: Planted) -> Path:
    directory.mkdir()
    write_csv(directory / "comments.csv", list(COMMENT_COLUMNS), comment_rows(data.comments))
    write_csv(directory / "votes.csv", list(VOTE_COLUMNS), vote_rows(data.votes))
    rows = []
    for pid in [*sorted(data.truth), 999]:
        mine = {cid: v for (voter, cid), v in data.final.items() if voter == pid}
        rows.append([pid, data.truth.get(pid, ""), 0, len(mine), 0, 0,
                     *(mine.get(cid, "") for cid in data.published)])
    write_csv(directory / "participants-votes.csv",
              [*PARTICIPANT_COLUMNS, *map(str, data.published)], rows)
    return directory


def import_planted(app, runner, tmp_path, data: Planted, name: str = "planted") -> int:
    make_hub(app, "pt", "PT")
    result = invoke(runner, "import-polis", str(write_planted(tmp_path / name, data)))
    assert result.exit_code == 0, result.output
    return int(last_line(result))


def members(snapshot: dict) -> dict[int, set[int]]:
    return {g["id"]: set(g["members"]) for g in snapshot["groups"]}


def test_planted_groups_are_imported_and_recovered(app, runner, tmp_path):
    data = planted()
    cid = import_planted(app, runner, tmp_path, data)

    with app.app_context():
        report = analysis.report(cid)
    by_group = {g: {p for p, t in data.truth.items() if t == g} for g in range(3)}
    assert members(report["imported"]) == by_group
    computed = report["computed"]
    assert computed["left_out"] == []
    clustered = sorted(p for ps in members(computed).values() for p in ps)
    found = {p: g for g, ps in members(computed).items() for p in ps}
    assert clustered == sorted(data.truth)
    assert adjusted_rand_index([data.truth[p] for p in clustered],
                               [found[p] for p in clustered]) >= 0.9

    result = invoke(runner, "recompute", str(cid))
    assert result.exit_code == 0, result.output
    assert "k=3 (" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(OpinionSnapshot.id)).where(
            OpinionSnapshot.kind == SnapshotKind.COMPUTED)) == 2


def hand_group_informed_consensus(data: Planted, comment: int) -> float:
    value = 1.0
    for group in sorted(set(data.truth.values())):
        cast = [v for (pid, cid), v in data.final.items()
                if cid == comment and data.truth[pid] == group]
        value *= (cast.count(1) + 1) / (len(cast) + 2)
    return value


def test_report_json_and_text(app, runner, tmp_path):
    data = planted()
    cid = import_planted(app, runner, tmp_path, data, name="report-me")

    result = invoke(runner, "report", "report-me", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["consultation"] == cid
    for kind in ("computed", "imported"):
        assert {"groups", "repness", "consensus", "group_informed_consensus"} <= set(report[kind])
        assert set(report[kind]["repness"]) == {"0", "1", "2"}
    informed = report["imported"]["group_informed_consensus"]
    assert str(data.hidden) not in informed  # rejected comments are not analysed
    for comment in (10, data.published[-1]):
        assert informed[str(comment)] == pytest.approx(
            hand_group_informed_consensus(data, comment), rel=1e-12)
    assert {c["statement"] for c in report["imported"]["consensus"]["agree"]} == set(
        data.published[-3:])

    text = invoke(runner, "report", str(cid))
    assert text.exit_code == 0, text.output
    assert "Imported Polis groups: k=3, 120 participants" in text.output
    assert "Group 2: 40 people" in text.output
    agreed = text.output.split("Consensus (agree):\n", 2)[2].split("Consensus (disagree)")[0]
    assert [line.split("#")[1].split()[0] for line in agreed.splitlines() if "#" in line] == [
        str(c["statement"]) for c in report["imported"]["consensus"]["agree"]]


# --- round trip --------------------------------------------------------------------------


def statistics(snapshot: dict) -> dict:
    keep = {key: snapshot[key] for key in ("repness", "consensus", "group_informed_consensus")}
    return json.loads(json.dumps(keep), parse_float=lambda x: round(float(x), 9))


def test_export_round_trip(app, runner, tmp_path):
    # Unequal sizes: groups numbered by size get the planted numbers back.
    data = planted(sizes=(50, 40, 30), seed=3)
    first = import_planted(app, runner, tmp_path, data)
    exported = tmp_path / "out" / "export"

    result = invoke(runner, "export-polis", str(first), str(exported))
    assert result.exit_code == 0, result.output

    comments = read_csv(exported / "comments.csv")
    assert [(int(r["comment-id"]), r["comment-body"], int(r["moderated"])) for r in comments] \
        == [(cid, body, moderated) for cid, _author, moderated, body, _ts in data.comments]
    assert (comments[0]["timestamp"], comments[0]["datetime"]) == (str(BASE), BASE_DATETIME)
    assert comments[0]["author-id"] == str(data.comments[0][1])
    assert int(comments[0]["agrees"]) == sum(
        1 for (_p, c), v in data.final.items() if c == 10 and v == 1)

    votes = read_csv(exported / "votes.csv")
    assert {(int(r["voter-id"]), int(r["comment-id"])): int(r["vote"]) for r in votes} \
        == data.final
    assert len(votes) == len(data.final)

    matrix = read_csv(exported / "participants-votes.csv")
    assert list(matrix[0])[len(PARTICIPANT_COLUMNS):] == [str(c) for c in data.published]
    cells = {(int(r["participant"]), int(c)): int(r[str(c)])
             for r in matrix for c in data.published if r[str(c)] != ""}
    assert cells == {k: v for k, v in data.final.items() if k[1] in data.published}
    groups = {int(r["participant"]): r["group-id"] for r in matrix}
    assert groups.pop(999) == ""  # wrote a comment, never voted
    assert {p: int(g) for p, g in groups.items()} == data.truth

    export = read_polis_export(exported)
    assert [(c.number, c.text, c.moderated) for c in export.comments] == [
        (cid, body, moderated) for cid, _author, moderated, body, _ts in data.comments]
    assert {(v.voter, v.comment): v.value for v in export.votes} == data.final
    assert export.groups == data.truth

    second = invoke(runner, "import-polis", str(exported))
    assert second.exit_code == 0, second.output
    with app.app_context():
        before, after = analysis.report(first), analysis.report(int(last_line(second)))
    assert after["imported"]["vote_count"] == before["imported"]["vote_count"]
    assert statistics(after["imported"]) == statistics(before["imported"])
    assert statistics(after["imported"]) == statistics(before["computed"])
    assert statistics(after["computed"]) == statistics(before["computed"])


def test_exported_datetime_is_polis_style():
    assert polis_datetime(datetime.fromtimestamp(BASE, UTC)) == BASE_DATETIME


# --- bad input ---------------------------------------------------------------------------


def _missing_votes(directory: Path) -> None:
    (directory / "votes.csv").unlink()


def _vote_of_two(directory: Path) -> None:
    write_csv(directory / "votes.csv", list(VOTE_COLUMNS),
              vote_rows([(BASE, 0, 1, 1), (BASE, 3, 1, 2)]))


def _unknown_comment(directory: Path) -> None:
    write_csv(directory / "votes.csv", list(VOTE_COLUMNS), vote_rows([(BASE, 42, 1, 1)]))


def _bad_number(directory: Path) -> None:
    rows = comment_rows(HAND_COMMENTS)
    rows[2][2] = "seven"
    write_csv(directory / "comments.csv", list(COMMENT_COLUMNS), rows)


def _missing_column(directory: Path) -> None:
    write_csv(directory / "votes.csv", ["timestamp", "comment-id", "voter-id"], [[BASE, 0, 1]])


@pytest.mark.parametrize(("spoil", "expected"), [
    (_missing_votes, ["votes.csv", "file not found"]),
    (_vote_of_two, ["votes.csv, line 3, column 'vote'", "'2' is not a vote"]),
    (_unknown_comment, ["votes.csv, line 2, column 'comment-id'", "42 is not in comments.csv"]),
    # Line 5, as an editor shows it: the comment before spans two lines.
    (_bad_number, ["comments.csv, line 5, column 'comment-id'", "'seven'"]),
    (_missing_column, ["votes.csv, line 1", "missing column(s) vote"]),
])
def test_bad_export_is_refused_and_nothing_is_stored(app, runner, tmp_path, spoil, expected):
    make_hub(app)
    directory = write_hand_export(tmp_path / "bad")
    spoil(directory)

    result = invoke(runner, "import-polis", str(directory))

    assert result.exit_code == 1, result.output
    for fragment in expected:
        assert fragment in result.output
    with app.app_context():
        assert set(row_counts().values()) == {0}
    with pytest.raises(PolisFormatError):
        read_polis_export(directory)


def test_failure_after_rows_were_written_leaves_nothing(app, runner, tmp_path, monkeypatch):
    make_hub(app)

    def fail(consultation_id: int, **_kwargs):
        assert db.session.scalar(select(func.count(Vote.id))) == 5  # written, not committed
        raise RuntimeError("clustering crashed")

    monkeypatch.setattr(analysis, "compute_snapshot", fail)
    result = invoke(runner, "import-polis", str(write_hand_export(tmp_path / "crash")))

    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    with app.app_context():
        assert set(row_counts().values()) == {0}


def test_import_without_a_hub_is_an_error(app, runner, tmp_path):
    result = invoke(runner, "import-polis", str(write_hand_export(tmp_path / "nohub")))
    assert result.exit_code == 1
    assert "No hub yet" in result.output


def test_unknown_consultation_is_an_error(app, runner, tmp_path):
    for args in (["report", "nope"], ["recompute", "99"], ["export-polis", "x", str(tmp_path)]):
        result = invoke(runner, *args)
        assert result.exit_code == 1
        assert "No consultation" in result.output

