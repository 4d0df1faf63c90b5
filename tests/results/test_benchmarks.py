"""Population benchmarks from Eurostat SDMX-CSV and plain CSV (test data, not real figures)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.results import benchmarks
from app.results.benchmarks import BenchmarkError

AGE = benchmarks.load_mapping(benchmarks.MAPPINGS_DIR / "eurostat-population-by-age.yaml")
HEADER = "DATAFLOW,LAST UPDATE,freq,unit,sex,age,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG"


def sdmx(countries: dict[str, int], *, skip: str | None = None) -> str:
    """Every single year 0..99 plus Y_OPEN, 100 people each (10 in Y_OPEN), per country;
    men and women rows too, which the mapping's sex=T filter must leave out."""
    lines = [HEADER]
    for geo, year in countries.items():
        codes = [f"Y{a}" for a in range(100)] + ["Y_OPEN"]
        for code in codes:
            if code == skip and geo == "PT":
                continue
            value = 10 if code == "Y_OPEN" else 100
            for sex, n in (("T", value), ("M", value // 2), ("F", value // 2)):
                lines.append(f"ESTAT:DEMO_PJAN(1.0),01/07/2025 23:00:00,A,NR,{sex},{code},"
                             f"{geo},{year},{n},")
    return "\n".join(lines) + "\n"


def test_eurostat_codes_are_summed_into_survey_categories():
    rows = benchmarks.read_sdmx(sdmx({"AT": 2024, "EL": 2023}), AGE)
    at = {r.category: r for r in rows if r.geography == "AT"}
    assert at["16_24"].count == 900  # Y16..Y24
    assert at["75_plus"].count == 25 * 100 + 10  # Y75..Y99 and Y_OPEN
    total = 9 * 100 + 5 * 1000 + 2510  # 16-24, five ten-year bands, 75+
    assert at["65_74"].share == pytest.approx(1000 / total)
    assert sum(r.share for r in at.values()) == pytest.approx(1.0)
    assert {r.geography for r in rows} == {"AT", "GR"}  # Eurostat's EL is Greece
    assert {r.year for r in rows if r.geography == "GR"} == {2023}
    assert all(r.source.startswith("Eurostat") for r in rows)


def test_a_country_missing_a_code_is_left_out_not_miscounted():
    rows = benchmarks.read_sdmx(sdmx({"AT": 2024, "PT": 2024}, skip="Y30"), AGE)
    assert {r.geography for r in rows} == {"AT"}


def test_bad_eurostat_input_names_file_and_line():
    text = sdmx({"AT": 2024}).replace("ESTAT:DEMO_PJAN(1.0)", "ESTAT:DEMO_R_D2JAN(1.0)", 1)
    with pytest.raises(BenchmarkError, match=r"age.csv, line 2: dataflow"):
        benchmarks.read_sdmx(text, AGE, "age.csv")
    with pytest.raises(BenchmarkError, match="missing column"):
        benchmarks.read_sdmx("DATAFLOW,geo,OBS_VALUE\n", AGE, "age.csv")
    broken = sdmx({"AT": 2024}).replace(",Y20,AT,2024,100,", ",Y20,AT,2024,many,", 1)
    with pytest.raises(BenchmarkError, match="line"):
        benchmarks.read_sdmx(broken, AGE, "age.csv")


def test_plain_csv_with_counts_or_shares():
    text = ("variable,category,country,count,source,year\n"
            "urbanisation,city,PT,600,Illustrative test table,2024\n"
            "urbanisation,town,PT,300,Illustrative test table,2024\n"
            "urbanisation,rural,PT,100,Illustrative test table,2024\n")
    rows = benchmarks.read_plain(text)
    assert [(r.category, r.share) for r in rows] == [("city", 0.6), ("town", 0.3),
                                                      ("rural", 0.1)]
    with pytest.raises(BenchmarkError, match=r"line 2: share 1\.5"):
        benchmarks.read_plain("variable,category,country,share,source,year\n"
                              "gender,woman,PT,1.5,x,2024\n")
    with pytest.raises(BenchmarkError, match="share or count"):
        benchmarks.read_plain("variable,category,country,source,year\n")


def test_stored_benchmarks_replace_the_same_source_and_year(app, tmp_path):
    path = tmp_path / "demo_pjan.csv"
    path.write_text(sdmx({"AT": 2023}))
    with app.app_context():
        assert benchmarks.store(benchmarks.read_file(path)) == 7  # mapping found by dataflow
        path.write_text(sdmx({"AT": 2024}))
        benchmarks.store(benchmarks.read_file(path))
        benchmarks.store(benchmarks.read_file(path))  # loading twice changes nothing
        db.session.commit()
        shares, source, year = benchmarks.shares_for("age_band", "AT")
        assert year == 2024 and source.startswith("Eurostat")
        assert sum(shares.values()) == pytest.approx(1.0)
        from sqlalchemy import func, select

        from app.results.models import Benchmark

        assert db.session.scalar(select(func.count()).select_from(Benchmark)) == 14
        assert benchmarks.shares_for("age_band", "SE") is None


def test_cli_loads_benchmarks_and_reports_errors(app, runner, tmp_path):
    path = tmp_path / "demo_pjan.csv"
    path.write_text(sdmx({"AT": 2024, "SE": 2024}))
    result = runner.invoke(args=["results", "load-benchmarks", str(path)])
    assert result.exit_code == 0, result.output
    assert "age_band AT 2024" in result.output and "Stored 14 benchmark rows" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("variable,category,country,share,source,year\ngender,woman,PT,x,s,2024\n")
    result = runner.invoke(args=["results", "load-benchmarks", str(bad)])
    assert result.exit_code == 1 and "bad.csv, line 2" in result.output
