"""Participation funnel and live monitor."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale, numbers
from flask import Blueprint, make_response, render_template, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_timezone
from flask_babel import gettext as _

from app.auth.permissions import roles_required
from app.auth.roles import Role
from app.i18n import current_language
from app.results import charts, funnel, monitor, participation
from app.results.thresholds import min_cell_size
from app.results.views import survey_or_404
from app.surveys.models import SurveyStatus
from app.surveys.places import country_names
from app.surveys.services import definition_of, latest_version

bp = Blueprint("results_monitor", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/results")

REFRESH_SECONDS = 300
DEFAULT_VARIABLE = "age_band"


def percent(value: float) -> str:
    """A share in the page's language and its percent pattern, one decimal at most."""
    return numbers.format_percent(round(value, 3), locale=get_locale(),
                                  decimal_quantization=False)


def number(value: float) -> str:
    """Counts and targets: one decimal at most (the default pattern shows up to three)."""
    return format_decimal(round(value, 1))


def day_label(value: date) -> str:
    return format_date(value, "medium")


def _formatters() -> dict:
    return {"percent": percent, "number": number, "day_label": day_label,
            "ratio": lambda r: format_decimal(round(r, 2)),
            "count": lambda n: format_decimal(n)}


def channel_names() -> dict[str, str]:
    return {"web": _("Online"), "paper": _("Paper"), "event": _("At an event")}


@bp.route("/<slug>/funnel")
@roles_required(Role.ANALYST, Role.ORGANISER)
def funnel_page(slug: str):
    """How far people get, by channel, language and group: where they drop off."""
    survey = survey_or_404(slug)
    locale = Locale.parse(current_language().code)
    names = channel_names()
    result = funnel.build(
        survey, current_language().code, min_cell_size(survey),
        channel_label=lambda c: names.get(c, c),
        language_label=lambda code: locale.languages.get(code.split("-")[0], code),
        not_answered_label=_("Not answered yet"))
    return render_template("results/funnel.html", survey=survey, funnel=result,
                           computed_at=format_datetime(datetime.now(get_timezone()), "medium"),
                           **_formatters())


@bp.route("/<slug>/monitor")
@roles_required(Role.ANALYST, Role.ORGANISER)
def monitor_page(slug: str):
    """Completions per group against the population while the survey runs."""
    survey = survey_or_404(slug)
    language = current_language()
    countries = participation.countries_with_benchmarks()
    variables = monitor.variables_for(survey)
    questions = funnel.group_questions(survey)
    definition = definition_of(latest_version(survey))
    variable_labels = {v: _label(q, definition.language_for(language.code))
                       for v, q in questions.items()}
    errors: dict[str, str] = {}
    country = request.args.get("country", "").strip().upper()
    if country and country not in countries:
        errors["country"] = _("There is no population benchmark for this country yet.")
    elif not country and countries:
        country = monitor.main_country(survey, countries) or ""
    variable = request.args.get("variable", "").strip()
    if variable and variable not in variables:
        errors["variable"] = _("This survey does not ask about that group.")
    elif not variable and variables:
        variable = DEFAULT_VARIABLE if DEFAULT_VARIABLE in variables else variables[0]
    auto_refresh = request.args.get("refresh") == "on" and survey.status == SurveyStatus.OPEN

    result = None
    no_benchmark = False
    if country in countries and variable in variables and not errors:
        try:
            result = monitor.build(survey, country, variable, language.code,
                                   min_cell_size(survey), tz=get_timezone())
        except monitor.MonitorError:
            no_benchmark = True
    chart = table_days = None
    if result is not None and result.days:
        chart, table_days = _chart(result, language.direction == "rtl")
    query = {key: value for key, value in (("country", country), ("variable", variable),
                                           ("refresh", "on" if auto_refresh else ""))
             if value}
    page = render_template(
        "results/monitor.html", survey=survey, result=result, countries=countries,
        country=country, variables=variables, variable=variable,
        variable_labels=variable_labels, country_names=country_names(language.code),
        errors=errors, no_benchmark=no_benchmark, chart=chart, table_days=table_days,
        auto_refresh=auto_refresh, is_open=survey.status == SurveyStatus.OPEN,
        refresh_minutes=REFRESH_SECONDS // 60,
        refresh_url=url_for("results_monitor.monitor_page", slug=slug, **query),
        computed_at=format_datetime(result.computed_at if result else datetime.now(
            get_timezone()), "medium"),
        k=min_cell_size(survey), **_formatters())
    response = make_response(page, 400 if errors else 200)
    if auto_refresh:
        # A header rather than <meta>: same effect, and only when the person asked for it.
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def _label(question, language: str) -> str:
    if question.label is None:
        return question.id
    return question.label.get(language)


def _chart(result: monitor.Monitor, rtl: bool):
    """The time chart and the days to list in its table (days on which something came in
    or that start or end the period)."""
    series = []
    for index, (category, label) in enumerate(result.categories):
        points = [(day.day, float(day.counts[index])) for day in result.days
                  if day.counts[index] is not None]
        series.append(charts.Series(label=label, points=points,
                                    target=result.targets[category]))
    chart = charts.time_chart(
        series, title=_("Completions over time: %(group)s", group=result.label),
        description=_("Cumulative completions per day for each group; dashed lines show "
                      "how many each group would have if it matched the population at the "
                      "current total. Groups with fewer than %(k)d people are not drawn.",
                      k=result.k),
        y_label=_("Completions (cumulative)"), format_date=day_label, format_number=number,
        rtl=rtl, target_label=_("Population share of the current total"),
        empty_label=_("No group has enough completions to be drawn yet."))
    days = []
    previous = None
    for position, day in enumerate(result.days):
        last = position == len(result.days) - 1
        if day.counts != previous or last:
            days.append(day)
        previous = day.counts
    return chart, days
