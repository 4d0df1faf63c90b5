"""`flask results ...`: exports, benchmarks, weighting."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.results import wide
from app.results.codebook import codebook, codebook_csv, codebook_ddi, codebook_json
from app.surveys.services import get_survey, latest_version

results_cli = AppGroup("results", help="Results: exports, benchmarks, weighting.")

FORMATS = ("csv", "xlsx", "sav", "dta", "parquet", "r", "codebook-csv", "codebook-json",
           "codebook-ddi")
PROGRESS_EVERY = 1000


def _counted(rows: Iterable[wide.Row], counter: list[int]) -> Iterator[wide.Row]:
    """Pass rows through, reporting progress on stderr so stdout stays clean."""
    for row in rows:
        counter[0] += 1
        if counter[0] % PROGRESS_EVERY == 0:
            click.echo(f"exported {counter[0]:,} rows", err=True)
        yield row


def survey_and_version(slug: str, number: int | None):
    """The survey and its version `number` (the latest when None), or a CLI error."""
    survey = get_survey(slug)
    if survey is None or not survey.versions:
        raise click.ClickException(f"No survey {slug!r}.")
    if number is None:
        return survey, latest_version(survey)
    version = next((v for v in survey.versions if v.number == number), None)
    if version is None:
        raise click.ClickException(f"Survey {slug!r} has no version {number}.")
    return survey, version


@results_cli.command("export")
@click.argument("slug")
@click.option("--format", "format_", type=click.Choice(FORMATS), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
@click.option("--version", "number", type=int, help="Survey version number (default: latest).")
@click.option("--scheme", "scheme_name", help="Add a weight column from this weighting scheme.")
def export(slug: str, format_: str, output: Path, language: str, number: int | None,
           scheme_name: str | None) -> None:
    """Export the analysable responses of SURVEY (or its codebook) to a file."""
    from app.results import weighting

    survey, version = survey_and_version(slug, number)
    variables = codebook(version)
    if format_ == "codebook-csv":
        output.write_bytes(codebook_csv(variables, language).encode("utf-8-sig"))
    elif format_ == "codebook-json":
        output.write_text(codebook_json(variables), encoding="utf-8")
    elif format_ == "codebook-ddi":
        output.write_bytes(codebook_ddi(variables, survey))
    if format_.startswith("codebook-"):
        click.echo(f"wrote {len(variables)} variables to {output}", err=True)
        return
    weights = None
    if scheme_name:
        scheme = weighting.scheme_named(survey, scheme_name)
        if scheme is None or scheme.computed_at is None or scheme.problem:
            raise click.ClickException(f"No computed weighting scheme {scheme_name!r}.")
        weights = weighting.weights_of(scheme)
    counter = [0]
    rows = _counted(wide.wide_rows(survey, version, secret=current_app.config["SECRET_KEY"],
                                   variables=variables, weights=weights), counter)
    script = wide.write(format_, variables, rows, output, language=language,
                        weighted=weights is not None)
    if script is not None:
        click.echo(f"wrote R script {script}", err=True)
    click.echo(f"exported {counter[0]:,} rows to {output}", err=True)


@results_cli.command("load-benchmarks")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False,
                                                           path_type=Path),
              help="Mapping file for a Eurostat SDMX-CSV (default: found by dataflow in "
                   "surveys/benchmarks/).")
def load_benchmarks(path: Path, mapping_path: Path | None) -> None:
    """Load population benchmarks: Eurostat SDMX-CSV or plain CSV (see the README)."""
    from app.extensions import db
    from app.results import benchmarks

    try:
        mapping = benchmarks.load_mapping(mapping_path) if mapping_path else None
        rows = benchmarks.read_file(path, mapping)
    except benchmarks.BenchmarkError as error:
        raise click.ClickException(str(error)) from error
    count = benchmarks.store(rows)
    db.session.commit()
    places = sorted({(r.variable, r.geography, r.year) for r in rows})
    for variable, geography, year in places:
        click.echo(f"{variable} {geography} {year}")
    click.echo(f"Stored {count} benchmark rows ({rows[0].source}).")


@results_cli.command("participation")
@click.argument("slug")
@click.option("--country", required=True, help="ISO country code of the benchmark.")
@click.option("--language", default="en", show_default=True)
def participation_report(slug: str, country: str, language: str) -> None:
    """Who took part against the population, per group (small cells hidden)."""
    from app.results import participation

    survey = get_survey(slug)
    if survey is None or not survey.versions:
        raise click.ClickException(f"No survey {slug!r}.")
    from app.results.thresholds import min_cell_size

    reports = participation.report(survey, country.upper(), language, k=min_cell_size(survey))
    if not reports:
        raise click.ClickException(f"No benchmark for {country.upper()} matches a question "
                                   f"of {slug!r}; load one with load-benchmarks.")
    for report in reports:
        click.echo(f"{report.variable} (n={report.n}; {report.source}, {report.year})")
        for line in report.lines:
            row = line.row
            count = "<k" if line.count is None else str(line.count)
            share = "-" if line.count is None else f"{row.share:.3f}"
            flag = "  UNDER-REPRESENTED" if row.under_represented else ""
            click.echo(f"  {line.category:<24} n={count:<5} share={share:<6} "
                       f"benchmark={row.benchmark_share:.3f}{flag}")
        click.echo(f"  chi2={report.fit.chi2:.2f} dof={report.fit.dof} "
                   f"p={report.fit.p_value:.4f} V={report.fit.cramers_v:.3f}"
                   + (f" R={report.r.r:.3f} CV={report.r.cv:.3f}" if report.r else ""))


# Weighting ------------------------------------------------------------------------------

weighting_cli = AppGroup("weighting", help="Weighting schemes: define, compute, list.")
results_cli.add_command(weighting_cli)


def _survey(slug: str):
    return survey_and_version(slug, None)[0]


@weighting_cli.command("define")
@click.argument("slug")
@click.argument("name")
@click.option("--country", required=True, help="ISO code of the benchmark country.")
@click.option("--variable", "variables", multiple=True, required=True,
              help="A question with a stored benchmark; repeat for several.")
@click.option("--method", type=click.Choice(["rake", "poststratify"]), default="rake",
              show_default=True)
@click.option("--lower", type=float, help="Trim weights below LOWER x the mean weight.")
@click.option("--upper", type=float, help="Cap weights above UPPER x the mean weight.")
@click.option("--tolerance", type=float, default=1e-6, show_default=True)
@click.option("--max-iterations", type=int, default=100, show_default=True)
@click.option("--compute/--no-compute", default=True, show_default=True)
def weighting_define(slug: str, name: str, country: str, variables: tuple[str, ...],
                     method: str, lower: float | None, upper: float | None, tolerance: float,
                     max_iterations: int, compute: bool) -> None:
    """Define weighting scheme NAME for SURVEY (and compute it)."""
    from app.extensions import db
    from app.results import weighting
    from app.results.models import WeightingMethod

    survey = _survey(slug)
    given = weighting.SchemeInput(name, country.upper(), variables, WeightingMethod(method),
                                  lower, upper, tolerance, max_iterations)
    problems = weighting.check(survey, given)
    if problems:
        raise click.ClickException("; ".join(f"{field}: {text}" for field, text in problems))
    scheme = weighting.define(survey, given, actor="cli")
    if compute:
        weighting.compute(survey, scheme, actor="cli")
    db.session.commit()
    _print_scheme(scheme)


@weighting_cli.command("compute")
@click.argument("slug")
@click.argument("name")
def weighting_compute(slug: str, name: str) -> None:
    """Compute (again) the weights of scheme NAME, e.g. after more responses came in."""
    from app.extensions import db
    from app.results import weighting

    survey = _survey(slug)
    scheme = weighting.scheme_named(survey, name)
    if scheme is None:
        raise click.ClickException(f"Survey {slug!r} has no weighting scheme {name!r}.")
    weighting.compute(survey, scheme, actor="cli")
    db.session.commit()
    _print_scheme(scheme)
    if scheme.problem:
        raise click.ClickException(scheme.problem)


@weighting_cli.command("list")
@click.argument("slug")
def weighting_list(slug: str) -> None:
    """The weighting schemes of SURVEY with their diagnostics."""
    from app.results import weighting

    for scheme in weighting.schemes_of(_survey(slug)):
        _print_scheme(scheme)


def _print_scheme(scheme) -> None:
    bounds = f" bounds {scheme.lower}..{scheme.upper}" if scheme.lower is not None else ""
    click.echo(f"{scheme.name}: {scheme.method} on {', '.join(scheme.variables)} "
               f"({scheme.geography}){bounds}")
    if scheme.problem:
        click.echo(f"  not computed: {scheme.problem}")
    elif scheme.computed_at is not None:
        click.echo(f"  n={scheme.n} converged={scheme.converged} "
                   f"iterations={scheme.iterations} max_error={scheme.max_error:.2e} "
                   f"deff={scheme.design_effect:.3f} ess={scheme.effective_n:.1f}")
        for source in scheme.sources:
            click.echo(f"  benchmark {source}")


# Tables ---------------------------------------------------------------------------------


@results_cli.command("tables")
@click.argument("slug")
@click.option("--scheme", "scheme_name", help="Weighting scheme for weighted shares.")
@click.option("--by", "by", help="Group variable(s) to compare, comma-separated for an "
                                 "intersection, e.g. age_band,urbanisation.")
@click.option("--question", "questions", multiple=True, help="Only these variables.")
@click.option("--language", default="en", show_default=True)
@click.option("--format", "format_", type=click.Choice(["text", "csv", "json"]),
              default="text", show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
def tables_command(slug: str, scheme_name: str | None, by: str | None,
                   questions: tuple[str, ...], language: str, format_: str, output) -> None:
    """Distributions of every question (small cells hidden), weighted and by group."""
    from app.results import table_output
    from app.results.analysis import AnalysisError, analyse

    survey = _survey(slug)
    try:
        analysis = analyse(survey, secret=current_app.config["SECRET_KEY"],
                           scheme_name=scheme_name, by=by, language=language,
                           questions=questions or None)
    except AnalysisError as error:
        raise click.ClickException(str(error)) from error
    if format_ == "json":
        output.write(table_output.as_json(analysis))
    elif format_ == "csv":
        output.write(table_output.as_csv(analysis))
    else:
        output.write(table_output.as_text(analysis))
