"""Population benchmarks that participation is compared with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow
from app.types import UTCDateTime


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
