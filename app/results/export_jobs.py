"""Row-level exports asked for in the browser: written in a background thread.

A survey with many responses takes longer to export than a request may last, so the
page stores an :class:`ExportJob`, starts :func:`run` in a thread and shows its
progress (rows written of rows expected) until the file can be downloaded. Files live
in ``<instance>/exports`` under a random name; only analysts can download them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.results import weighting, wide
from app.results.models import ExportJob, ExportStatus, WeightingScheme
from app.surveys.models import Survey, SurveyVersion
from app.timeutil import utcnow

PROGRESS_EVERY = 500
STALLED_AFTER = timedelta(minutes=10)
INTERRUPTED = "interrupted"  # the page says it in the reader's language
MIME_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".sav": "application/x-spss-sav",
    ".dta": "application/x-stata-dta",
    ".parquet": "application/vnd.apache.parquet",
    ".zip": "application/zip",
}
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def exports_dir(instance_path: str) -> Path:
    folder = Path(instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def request_export(survey: Survey, version: SurveyVersion, *, format_: str, language: str,
                   scheme: WeightingScheme | None, requested_by: str) -> ExportJob:
    """A queued job, or the same person's identical job still under way (double clicks)."""
    if format_ not in wide.ROW_FORMATS:
        raise ValueError(f"unknown format {format_!r}")
    same = db.session.scalar(select(ExportJob).where(
        ExportJob.survey_version_id == version.id, ExportJob.requested_by == requested_by,
        ExportJob.format == format_, ExportJob.language == language,
        ExportJob.scheme_id == scheme.id if scheme else ExportJob.scheme_id.is_(None),
        ExportJob.status.in_(ACTIVE)))
    if same is not None:
        return same
    job = ExportJob(survey_id=survey.id, survey_version_id=version.id,
                    requested_by=requested_by, format=format_, language=language,
                    scheme_id=scheme.id if scheme else None,
                    rows_total=wide.row_count(version))
    db.session.add(job)
    db.session.flush()
    return job


def jobs_of(survey: Survey, limit: int = 20) -> list[ExportJob]:
    """The latest jobs; any that stopped moving are marked failed first (see below)."""
    mark_interrupted(survey)
    return list(db.session.scalars(select(ExportJob).where(ExportJob.survey_id == survey.id)
                                   .order_by(ExportJob.id.desc()).limit(limit)))


def mark_interrupted(survey: Survey, *, now: datetime | None = None) -> int:
    """Fail jobs that have not moved for :data:`STALLED_AFTER`: their thread is gone.

    A running job writes a heartbeat every few hundred rows, and a queued one starts
    within moments, so silence that long means the server stopped under it. Without
    this the page would show its progress bar for ever.
    """
    limit = (now or utcnow()) - STALLED_AFTER
    stalled = list(db.session.scalars(select(ExportJob).where(
        ExportJob.survey_id == survey.id, ExportJob.status.in_(ACTIVE),
        func.coalesce(ExportJob.heartbeat_at, ExportJob.created_at) < limit)))
    for job in stalled:
        job.status = ExportStatus.FAILED
        job.error = INTERRUPTED
        job.finished_at = now or utcnow()
    if stalled:
        db.session.commit()
    return len(stalled)


def start(app: Flask, job_id: int) -> threading.Thread:
    thread = threading.Thread(target=_run_in_app, args=(app, job_id), daemon=True,
                              name=f"export-{job_id}")
    thread.start()
    return thread


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        run(job_id, folder=exports_dir(app.instance_path), secret=app.config["SECRET_KEY"])
        db.session.remove()


def run(job_id: int, *, folder: Path, secret: str) -> ExportJob:
    """Write the file, committing progress as it goes; a failure is kept on the job."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status != ExportStatus.QUEUED:
        raise ValueError(f"export {job_id} is not waiting to run")
    job.status = ExportStatus.RUNNING
    job.heartbeat_at = utcnow()
    db.session.commit()
    version = db.session.get(SurveyVersion, job.survey_version_id)
    survey = db.session.get(Survey, job.survey_id)
    name = (f"{survey.slug}-v{version.number}-{secrets.token_hex(8)}"
            f"{wide.SUFFIXES[job.format]}")
    target = folder / name
    try:
        scheme = db.session.get(WeightingScheme, job.scheme_id) if job.scheme_id else None
        weights = weighting.weights_of(scheme) if scheme else None
        variables = wide.codebook_of(version)
        rows = _progress(job, wide.wide_rows(survey, version, secret=secret,
                                             weights=weights, variables=variables))
        script = wide.write(job.format, variables, rows, target, language=job.language,
                            weighted=weights is not None)
        if script is not None:  # R: one zip holding the data and the labelling script
            target = _zip_r(target, script)
    except Exception as error:  # kept on the job for the page to show
        db.session.rollback()
        job = db.session.get(ExportJob, job_id)
        job.status = ExportStatus.FAILED
        job.error = f"{type(error).__name__}: {error}"[:500]
        job.finished_at = utcnow()
        db.session.commit()
        target.unlink(missing_ok=True)
        return job
    job.status = ExportStatus.DONE
    job.file_name = target.name
    job.finished_at = utcnow()
    db.session.commit()
    return job


def _progress(job: ExportJob, rows: Iterable[wide.Row]) -> Iterator[wide.Row]:
    done = 0
    for row in rows:
        done += 1
        if done % PROGRESS_EVERY == 0:
            job.rows_done = done
            job.heartbeat_at = utcnow()
            db.session.commit()
        yield row
    job.rows_done = done
    job.rows_total = max(job.rows_total, done)
    db.session.commit()


def _zip_r(csv_path: Path, script: Path) -> Path:
    import zipfile

    archive = csv_path.with_suffix(".zip")
    # The script names the CSV it reads; inside the zip that is data.csv.
    text = script.read_text(encoding="utf-8").replace(csv_path.name, "data.csv")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(csv_path, "data.csv")
        bundle.writestr("labels.R", text)
    csv_path.unlink()
    script.unlink()
    return archive


def job_file(job: ExportJob, folder: Path) -> Path | None:
    if job.status != ExportStatus.DONE or not job.file_name:
        return None
    path = folder / job.file_name
    return path if path.is_file() else None
