"""A consultation's "what we heard" report: everything a printed report needs, in one call.

Hubs publish such a report after a consultation, so it gathers what the results pages
already compute and changes none of it: participation against the country's benchmark
(``participation.report``), question tables (``analysis.analyse``, weighted when the
survey has a computed scheme for the consultation's country) and the opinion groups of
the latest snapshot. The same disclosure rules hold as on the pages: counts below k are
hidden, and a benchmark's source is shown exactly as it was stored.

``print_pdf`` turns the rendered HTML into PDF with headless Chromium, in a temporary
directory, so the report can be downloaded or sent as a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from app.consent.services import analysable_count
from app.consultations import analysis as opinion_analysis
from app.consultations import comments, voting
from app.consultations.models import (
    Consultation,
    ConsultationText,
    OpinionSnapshot,
    PhaseKind,
    SnapshotKind,
    Statement,
)
from app.extensions import db
from app.results import participation, weighting
from app.results.analysis import Analysis, analyse
from app.results.disclosure import suppress_counts
from app.results.models import WeightingScheme
from app.results.participation import VariableReport
from app.results.tables import Table
from app.results.thresholds import min_cell_size
from app.surveys import services as surveys
from app.surveys.models import Survey
from app.timeutil import utcnow

NETWORK = "EU"  # a consultation across the network has no single population
TOP_STATEMENTS = 5
PDF_TIMEOUT = 60  # seconds
LONG_TABLE = 12  # nominal tables with more answers than this leave out the ones nobody gave
DEFAULT_CHROMIUM = "/usr/bin/chromium"


class ReportError(RuntimeError):
    """The PDF could not be made; the message is for the server log, not for readers."""


@dataclass(frozen=True)
class PhaseLine:
    kind: PhaseKind
    starts_on: date
    ends_on: date
    description: str  # Markdown, in the reader's language or the consultation's own


@dataclass(frozen=True)
class EventLine:
    title: str
    language: str
    starts_at: datetime | None
    ends_at: datetime | None
    sessions: int
    countries: list[str]


@dataclass(frozen=True)
class SchemeSummary:
    """What a weighted figure must be published with (see app/results/weighting.py)."""

    name: str
    method: str
    geography: str
    variables: list[str]
    n: int | None
    design_effect: float
    effective_n: float
    converged: bool | None
    computed_at: datetime | None
    sources: list[str]


@dataclass
class SurveySection:
    survey: Survey
    title: str
    language: str  # of the survey's labels
    k: int
    responses: int | None  # analysable complete responses; None below k
    benchmark_country: str | None
    participation: list[VariableReport]
    participation_skipped: str | None  # europe-wide | no-benchmark | no-match
    scheme: SchemeSummary | None
    analysis: Analysis | None  # None when too few responses to show anything
    shortened: list[str] = field(default_factory=list)  # tables without never-given answers


@dataclass(frozen=True)
class StatementLine:
    number: int
    text: str
    language: str
    translated: bool
    original_language: str
    direction: str = ""  # agree | disagree, for representative and consensus statements
    share: float | None = None  # None when the base is below k
    votes: int | None = None  # None when below k


@dataclass(frozen=True)
class GroupSummary:
    id: int
    size: int | None  # None: hidden
    statements: list[StatementLine]


@dataclass(frozen=True)
class OpinionSummary:
    kind: SnapshotKind
    created_at: datetime
    vote_count: int
    participants: int | None  # None: hidden
    not_placed: int | None
    statement_count: int
    groups: list[GroupSummary]
    consensus: list[StatementLine]
    divisive: list[StatementLine]


@dataclass(frozen=True)
class BenchmarkSource:
    source: str
    year: int
    country: str


@dataclass
class Report:
    consultation: Consultation
    language: str  # the reader's
    text: ConsultationText  # in the reader's language, else the consultation's own
    hub_name: str
    country: str
    starts_on: date | None
    ends_on: date | None
    phases: list[PhaseLine]
    events: list[EventLine]
    surveys: list[SurveySection]
    opinion: OpinionSummary | None
    k: int  # the consultation's own threshold (opinion groups)
    generated_at: datetime

    @property
    def europe_wide(self) -> bool:
        return self.country == NETWORK

    @property
    def benchmark_sources(self) -> list[BenchmarkSource]:
        """Each benchmark used in the report once, as stored."""
        seen: dict[tuple[str, int, str], BenchmarkSource] = {}
        for section in self.surveys:
            for variable in section.participation:
                key = (variable.source, variable.year, section.benchmark_country or "")
                seen.setdefault(key, BenchmarkSource(*key))
        return list(seen.values())

    @property
    def weighted(self) -> bool:
        return any(section.scheme is not None for section in self.surveys)


def consultation_report(consultation: Consultation, *, language: str, secret: str) -> Report:
    """Gather the report of one consultation for a reader of ``language``."""
    fallback = consultation.default_language
    phases = [PhaseLine(p.kind, p.starts_on, p.ends_on, p.description_for(language, fallback))
              for p in consultation.phases]
    return Report(
        consultation=consultation, language=language, text=consultation.text_for(language),
        hub_name=consultation.hub.name, country=consultation.country,
        starts_on=min((p.starts_on for p in phases), default=None),
        ends_on=max((p.ends_on for p in phases), default=None),
        phases=phases, events=_events(consultation, language),
        surveys=[_survey_section(consultation, survey, language, secret)
                 for survey in consultation.surveys if survey.versions],
        opinion=_opinion(consultation, language), k=consultation.min_cell_size,
        generated_at=utcnow())


# Surveys --------------------------------------------------------------------------------


def _survey_section(consultation: Consultation, survey: Survey, language: str,
                    secret: str) -> SurveySection:
    definition = surveys.definition_of(surveys.latest_version(survey))
    survey_language = definition.language_for(language)
    k = min_cell_size(survey)
    count = analysable_count(survey.id)
    country = None if consultation.country == NETWORK else consultation.country
    reports: list[VariableReport] = []
    skipped = None
    if country is None:
        skipped = "europe-wide"
    elif country not in participation.countries_with_benchmarks():
        skipped = "no-benchmark"
    else:
        reports = participation.report(survey, country, language, k=k)
        if not reports:
            skipped = "no-match"
    scheme = _scheme(survey, country)
    found = None
    shortened: list[str] = []
    if count >= k:
        found = analyse(survey, secret=secret, language=language,
                        scheme_name=scheme.name if scheme else None)
        found.tables, shortened = _compact(found.tables)
    return SurveySection(
        survey=survey, title=definition.title.get(survey_language) or survey.slug,
        language=survey_language, k=k, responses=count if count >= k else None,
        benchmark_country=country, participation=reports, participation_skipped=skipped,
        scheme=_scheme_summary(scheme) if scheme else None, analysis=found,
        shortened=shortened)


def _scheme(survey: Survey, country: str | None) -> WeightingScheme | None:
    """The most recently computed scheme for the country, when there is one."""
    if country is None:
        return None
    usable = [s for s in weighting.schemes_of(survey)
              if s.geography == country and s.computed_at is not None and not s.problem]
    return max(usable, key=lambda s: (s.computed_at, s.id), default=None)


def _scheme_summary(scheme: WeightingScheme) -> SchemeSummary:
    return SchemeSummary(
        name=scheme.name, method=str(scheme.method), geography=scheme.geography,
        variables=list(scheme.variables), n=scheme.n,
        design_effect=float(scheme.design_effect or 1.0),
        effective_n=float(scheme.effective_n or 0.0), converged=scheme.converged,
        computed_at=scheme.computed_at, sources=list(scheme.sources or []))


def _compact(found: list[Table]) -> tuple[list[Table], list[str]]:
    """Long nominal lists (countries, regions) keep only the answers someone gave.

    A zero reveals nothing and hides nothing, so leaving it out changes no figure; it
    keeps a printed table of forty countries to the few that were named.
    """
    out: list[Table] = []
    shortened: list[str] = []
    for table in found:
        if table.numeric is None and not table.ordinal and table.comparison is None \
                and len(table.lines) > LONG_TABLE:
            kept = [line for line in table.lines if line.count != 0]
            if len(kept) < len(table.lines):
                table = replace(table, lines=kept)
                shortened.append(table.variable.name)
        out.append(table)
    return out, shortened


# Events ---------------------------------------------------------------------------------


def _events(consultation: Consultation, language: str) -> list[EventLine]:
    from app.events.models import Event, EventStatus  # events point at consultations

    found = db.session.scalars(db.select(Event).where(
        Event.consultation_id == consultation.id,
        Event.status != EventStatus.DRAFT).order_by(Event.id))
    lines = []
    for event in found:
        text = event.text_for(language)
        sessions = sorted(event.sessions, key=lambda s: s.starts_at)
        lines.append(EventLine(
            title=text.title, language=text.language,
            starts_at=sessions[0].starts_at if sessions else None,
            ends_at=max(s.ends_at for s in sessions) if sessions else None,
            sessions=len(sessions), countries=sorted({s.country for s in sessions})))
    return lines


# Opinion groups -------------------------------------------------------------------------


def _opinion(consultation: Consultation, language: str) -> OpinionSummary | None:
    snapshot = opinion_analysis.latest_snapshot(consultation.id) \
        or opinion_analysis.latest_snapshot(consultation.id, SnapshotKind.IMPORTED)
    if snapshot is None:
        return None
    return opinion_summary(snapshot, voting.published_statements(consultation), language,
                           k=consultation.min_cell_size)


def opinion_summary(snapshot: OpinionSnapshot, statements: list[Statement], language: str,
                    *, k: int) -> OpinionSummary:
    """Group sizes (small ones hidden), what sets each group apart, what unites everyone."""
    payload = snapshot.payload
    by_number = {s.number: s for s in statements}
    groups = payload.get("groups", [])
    left_out = len(payload.get("left_out", []))
    sizes, total = suppress_counts([len(g["members"]) for g in groups] + [left_out], k)
    summaries = []
    for group, size in zip(groups, sizes, strict=False):
        rows = payload.get("repness", {}).get(str(group["id"]), [])
        summaries.append(GroupSummary(int(group["id"]), size, [
            _line(by_number, int(r["statement"]), language, k, direction=r["direction"],
                  successes=int(r["n_success"]), trials=int(r["n_trials"]))
            for r in rows[:TOP_STATEMENTS]]))
    consensus = payload.get("consensus", {})
    agreed = [_line(by_number, int(c["statement"]), language, k, direction="agree",
                    share=float(c["probability"]))
              for c in consensus.get("agree", [])[:TOP_STATEMENTS]]
    rejected = [_line(by_number, int(c["statement"]), language, k, direction="disagree",
                      share=float(c["probability"]))
                for c in consensus.get("disagree", [])[:TOP_STATEMENTS]]
    divisive = [_line(by_number, int(d["statement"]), language, k)
                for d in payload.get("divisive", [])[:TOP_STATEMENTS]]
    participants = int(payload.get("participants", 0))
    return OpinionSummary(
        kind=snapshot.kind, created_at=snapshot.created_at, vote_count=snapshot.vote_count,
        participants=participants if total is not None and participants >= k else None,
        not_placed=sizes[-1] if groups else None,
        statement_count=int(payload.get("statements", 0)),
        groups=summaries, consensus=agreed + rejected,
        divisive=[line for line in divisive if line.text])


def _line(by_number: dict[int, Statement], number: int, language: str, k: int, *,
          direction: str = "", successes: int | None = None, trials: int | None = None,
          share: float | None = None) -> StatementLine:
    """A statement in the reader's language where a translation exists."""
    statement = by_number.get(number)
    if statement is None:  # hidden since the snapshot was taken
        text, shown, original, translated = "", "", "", False
    else:
        rendering = comments.rendering(statement, language)
        text, shown = rendering.text, rendering.language
        original, translated = rendering.original_language, rendering.translated
    votes = None
    if trials is not None:
        votes = trials if trials >= k else None
        share = successes / trials if trials >= k and trials else None
    return StatementLine(number, text, shown, translated, original, direction, share, votes)


# PDF ------------------------------------------------------------------------------------


def chromium_path(configured: str | None) -> str | None:
    """The Chromium to print with, or None when this server has none.

    A configured path is used as it is (so a server can switch printing off by pointing
    it elsewhere); otherwise ``chromium`` on the PATH, then Debian's place for it.
    """
    if configured:
        found = shutil.which(configured) if os.sep not in configured else configured
        return found if found and os.access(found, os.X_OK) else None
    found = shutil.which("chromium")
    if found:
        return found
    return DEFAULT_CHROMIUM if os.access(DEFAULT_CHROMIUM, os.X_OK) else None


def print_pdf(html: str, *, chromium: str, timeout: float = PDF_TIMEOUT) -> bytes:
    """Print a self-contained HTML document (styles inlined) to PDF with headless Chromium.

    Everything happens in a temporary directory, with a throw-away browser profile, so
    two reports printed at once never share files.
    """
    with tempfile.TemporaryDirectory(prefix="echos-report-") as folder:
        work = Path(folder)
        source = work / "report.html"
        output = work / "report.pdf"
        source.write_text(html, encoding="utf-8")
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-pdf-header-footer", "--no-first-run", "--disable-sync",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-dev-shm-usage", f"--user-data-dir={work / 'profile'}",
                   f"--print-to-pdf={output}", source.as_uri()]
        try:
            finished = subprocess.run(command, capture_output=True, timeout=timeout,
                                      check=False, cwd=folder,
                                      env={**os.environ, "HOME": folder})
        except subprocess.TimeoutExpired as error:
            raise ReportError(f"Chromium took longer than {timeout:g} s") from error
        except OSError as error:
            raise ReportError(f"Chromium could not be started: {error}") from error
        if not output.exists() or output.stat().st_size == 0:
            tail = finished.stderr.decode("utf-8", "replace").strip()[-500:]
            raise ReportError(f"Chromium exited with {finished.returncode} and no PDF: {tail}")
        data = output.read_bytes()
    if not data.startswith(b"%PDF"):
        raise ReportError("Chromium wrote something that is not a PDF")
    return data
