"""Population benchmarks that participation is compared with."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow
from app.types import UTCDateTime, value_enum


class Benchmark(db.Model):
    """One category's share of the population: e.g. age_band 65_74 in AT, 2024, Eurostat."""

    __tablename__ = "population_benchmark"

    id: Mapped[int] = mapped_column(primary_key=True)
    variable: Mapped[str] = mapped_column(String(64), index=True)  # survey question id
    category: Mapped[str] = mapped_column(String(64))  # survey choice value
    geography: Mapped[str] = mapped_column(String(12))  # ISO country code, or EU27_2020
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    count: Mapped[float | None] = mapped_column(Float)
    share: Mapped[float | None] = mapped_column(Float)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WeightingMethod(enum.StrEnum):
    RAKE = "rake"  # iterative proportional fitting to each margin
    POSTSTRATIFY = "poststratify"  # full cells of one variable


class WeightingScheme(db.Model):
    """A named, stored recipe for weights: survey, country, variables, method and bounds.

    Kept so that a published figure can be traced to exactly how it was weighted; the
    weights themselves are in ``response_weight``, replaced each time it is computed.
    """

    __tablename__ = "weighting_scheme"
    __table_args__ = (UniqueConstraint("survey_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    geography: Mapped[str] = mapped_column(String(12))
    variables: Mapped[list[str]] = mapped_column(JSON, default=list)
    method: Mapped[WeightingMethod] = mapped_column(value_enum(WeightingMethod),
                                                    default=WeightingMethod.RAKE)
    lower: Mapped[float | None] = mapped_column(Float)  # trimming bounds, relative to mean 1
    upper: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float] = mapped_column(Float, default=1e-6)
    max_iterations: Mapped[int] = mapped_column(Integer, default=100)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Filled when computed: what an analyst must report alongside weighted figures.
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    n: Mapped[int | None] = mapped_column(Integer)
    converged: Mapped[bool | None] = mapped_column(Boolean)
    iterations: Mapped[int | None] = mapped_column(Integer)
    max_error: Mapped[float | None] = mapped_column(Float)
    design_effect: Mapped[float | None] = mapped_column(Float)
    effective_n: Mapped[float | None] = mapped_column(Float)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)  # "Eurostat demo_pjan, 2024"
    problem: Mapped[str | None] = mapped_column(String(500))  # why it could not be computed


class ResponseWeight(db.Model):
    __tablename__ = "response_weight"

    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("weighting_scheme.id", ondelete="CASCADE"), primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_response.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(db.Model):
    """A file an analyst asked for in the browser, written in the background."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"))
    requested_by: Mapped[str] = mapped_column(String(320))
    format: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    scheme_id: Mapped[int | None] = mapped_column(
        ForeignKey("weighting_scheme.id", ondelete="SET NULL"))
    status: Mapped[ExportStatus] = mapped_column(value_enum(ExportStatus),
                                                 default=ExportStatus.QUEUED)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Written with every progress step: a running job that has not moved for a while
    # was cut off (the server restarted) and is shown as failed rather than forever.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
