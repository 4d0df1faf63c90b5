"""The audit trail: appends link up, and any tampering with stored rows is reported."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from sqlalchemy import bindparam, func, select, text

from app.audit import services
from app.audit.models import AuditEntry
from app.extensions import db

START = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
EVENTS = [
    ("participant", "consent.given", "p-0001", {"survey": "cmc", "version": 2}),
    ("staff:7", "consent.withdrawn", "p-0001", {"reason_code": "R3", "via": ["form", "mail"]}),
    ("system", "data.erased", "p-0001", {"tables": {"answer": 12, "response": 1}}),
    ("system", "retention.run", None, {}),
    ("participant", "consent.given", "p-0002", {"note_code": "Ωμέγα", "ratio": 0.25}),
]


def _record_events(count: int = len(EVENTS)) -> list[int]:
    ids = []
    for offset, (actor, action, subject, details) in enumerate(EVENTS[:count]):
        entry = services.record(
            action=action,
            actor=actor,
            subject=subject,
            details=details,
            when=START + timedelta(minutes=offset),
        )
        ids.append(entry.id)
    db.session.commit()
    return ids


def _tamper(entry_id: int, **values) -> None:
    """Change stored columns with plain SQL, as someone with database access could."""
    columns = AuditEntry.__table__.c
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    statement = text(f"UPDATE audit_entry SET {assignments} WHERE id = :id").bindparams(
        *(bindparam(name, type_=columns[name].type) for name in values)
    )
    db.session.execute(statement, {"id": entry_id, **values})
    db.session.commit()


def _stored(entry_id: int) -> dict:
    columns = [c for c in AuditEntry.__table__.c if c.name != "id"]
    row = db.session.execute(select(*columns).where(AuditEntry.id == entry_id)).one()
    return dict(row._mapping)


def test_entries_link_up_and_verify(app):
    with app.app_context():
        ids = _record_events()
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.id for e in entries] == ids
        assert entries[0].previous_hash == services.GENESIS_HASH
        for before, after in pairwise(entries):
            assert after.previous_hash == before.entry_hash
        assert entries[4].details == {"note_code": "Ωμέγα", "ratio": 0.25}
        assert services.verify() == services.VerifyResult(ok=True, checked=len(EVENTS))


def test_an_empty_trail_verifies(app):
    with app.app_context():
        assert services.verify() == services.VerifyResult(ok=True, checked=0)


def test_time_is_stored_in_utc_and_defaults_to_now(app):
    with app.app_context():
        lisbon_summer = timezone(timedelta(hours=1))
        given = services.record(
            action="consent.given",
            actor="participant",
            when=datetime(2025, 7, 1, 12, 0, tzinfo=lisbon_summer),
        )
        before = datetime.now(UTC)
        now = services.record(action="consent.given", actor="participant")
        db.session.commit()
        db.session.expire_all()
        assert given.occurred_at == datetime(2025, 7, 1, 11, 0, tzinfo=UTC)
        assert before <= now.occurred_at <= datetime.now(UTC)
        assert services.verify().ok


@pytest.mark.parametrize(
    "column, value",
    [
        ("details", {"survey": "cmc", "version": 3}),
        ("details", {}),
        ("actor", "staff:8"),
        ("action", "consent.given"),
        ("subject", "p-0009"),
        ("subject", None),
        ("occurred_at", START + timedelta(microseconds=1)),
    ],
)
def test_an_altered_entry_is_named(app, column, value):
    with app.app_context():
        ids = _record_events(4)
        _tamper(ids[1], **{column: value})
        result = services.verify()
        assert not result.ok
        assert result.first_broken_id == ids[1]
        assert result.checked == 2
        assert "altered" in result.reason


def test_an_altered_entry_with_its_hash_recomputed_breaks_the_next_link(app):
    with app.app_context():
        ids = _record_events(4)
        forged = _stored(ids[1]) | {"actor": "staff:99"}
        forged_hash = services.compute_hash(
            **{k: v for k, v in forged.items() if k != "entry_hash"}
        )
        _tamper(ids[1], actor="staff:99", entry_hash=forged_hash)
        result = services.verify()
        assert (result.ok, result.first_broken_id) == (False, ids[2])
        assert "previous_hash" in result.reason


@pytest.mark.parametrize("position", [0, 2])
def test_a_deleted_entry_is_named_by_the_one_after_it(app, position):
    with app.app_context():
        ids = _record_events()
        db.session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[position]})
        db.session.commit()
        result = services.verify()
        assert (result.ok, result.first_broken_id) == (False, ids[position + 1])
        assert "deleted" in result.reason


def test_two_swapped_entries_are_detected(app):
    with app.app_context():
        ids = _record_events()
        first, second = _stored(ids[1]), _stored(ids[3])
        # Via a placeholder, as the hash columns are unique.
        _tamper(ids[1], previous_hash="x" * 64, entry_hash="y" * 64)
        _tamper(ids[3], **first)
        _tamper(ids[1], **second)
        result = services.verify()
        assert (result.ok, result.first_broken_id) == (False, ids[1])


def test_content_swapped_under_fixed_hashes_is_detected(app):
    with app.app_context():
        ids = _record_events()
        hashed = ("previous_hash", "entry_hash")
        first, second = _stored(ids[0]), _stored(ids[2])
        _tamper(ids[0], **{k: v for k, v in second.items() if k not in hashed})
        _tamper(ids[2], **{k: v for k, v in first.items() if k not in hashed})
        result = services.verify()
        assert (result.ok, result.first_broken_id) == (False, ids[0])
        assert "altered" in result.reason


def test_cli_verify_reports_ok_then_broken(app, runner):
    ok = runner.invoke(args=["audit", "verify"])
    assert (ok.exit_code, ok.output.strip()) == (0, "OK: 0 entries")
    with app.app_context():
        ids = _record_events()
    ok = runner.invoke(args=["audit", "verify"])
    assert (ok.exit_code, ok.output.strip()) == (0, f"OK: {len(EVENTS)} entries")
    with app.app_context():
        _tamper(ids[2], details={"tables": {}})
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert broken.output.startswith(f"BROKEN at entry {ids[2]}: ")


def test_the_orm_cannot_change_or_remove_an_entry(app):
    with app.app_context():
        entry = services.record(action="consent.given", actor="participant")
        db.session.commit()
        entry.actor = "system"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(entry)
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        assert services.verify() == services.VerifyResult(ok=True, checked=1)


def test_record_keeps_its_arguments_only_in_the_table(app, caplog, monkeypatch):
    marker = "p-marker-5f3a"
    monkeypatch.setattr(logging.getLogger("echos"), "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="echos")
    details = {"code": marker, "nested": {"list": [marker]}}
    with app.app_context():
        entry = services.record(
            action="data.erased", actor="staff:3", subject=marker, details=details
        )
        db.session.commit()
        # The caller's dict is copied, not kept: changing it later changes nothing.
        details["code"] = "changed"
        details["nested"]["list"].append("changed")
        db.session.expire_all()
        assert entry.details == {"code": marker, "nested": {"list": [marker]}}
        assert services.verify().ok
        for table in db.metadata.sorted_tables:
            rows = db.session.scalar(select(func.count()).select_from(table))
            assert rows == (1 if table.name == "audit_entry" else 0), table.name
    assert not [r for r in caplog.records if marker in r.getMessage() or marker in str(r.args)]


def test_bad_arguments_are_refused_before_anything_is_written(app):
    with app.app_context():
        with pytest.raises(ValueError, match="naive"):
            services.record(action="a.b", actor="system", when=datetime(2025, 1, 1))
        with pytest.raises(ValueError, match="actor"):
            services.record(action="a.b", actor="x" * 65)
        with pytest.raises(ValueError, match="action"):
            services.record(action="", actor="system")
        with pytest.raises(TypeError):
            services.record(action="a.b", actor="system", details={"when": START})
        with pytest.raises(ValueError):
            services.record(action="a.b", actor="system", details={"score": float("nan")})
        assert not db.session.new
        db.session.commit()
        assert services.verify() == services.VerifyResult(ok=True, checked=0)


def test_concurrent_appenders_keep_one_chain(app):
    """Without the append lock, racing appenders link to the same entry and fail."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def append(worker: int) -> None:
        with app.app_context():
            try:
                start.wait()
                for n in range(10):
                    services.record(action="consent.given", actor="system", subject=f"{worker}-{n}")
                    db.session.commit()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert services.verify() == services.VerifyResult(ok=True, checked=40)
