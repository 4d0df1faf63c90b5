"""XLSForm import/export: lossless round trip of our definitions, and reading real XLSForms."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from pyxform.xls2xform import convert

from app.surveys.xlsform import XLSFormError, XLSFormProblem, read_xlsform, write_xlsform

LANGUAGES = ["en", "de", "fr", "pt", "ar"]


def t(text: str, languages: list[str] = LANGUAGES) -> dict[str, str]:
    """A translatable text with a recognisable value per language."""
    return {code: f"{text} [{code}]" for code in languages}


def choice(value: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "label": t(value.capitalize())} | extra


def full_definition() -> dict[str, Any]:
    """Every question type and key of surveys/README.md, with includes already resolved."""
    return {
        "id": "cancer-mission-consultation",
        "kind": "survey",
        "version": 3,
        "default_language": "en",
        "languages": LANGUAGES,
        "title": t("Cancer mission consultation"),
        "description": t("Tell us what matters"),
        "consent_purposes": ["participation", "research"],
        "settings": {
            "mode": "invited",
            "opens": "2026-01-15T00:00:00Z",
            "closes": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
            "response_limit": 5000,
            "quotas": [
                {
                    "id": "older_rural",
                    "when": "${age} >= 65 and ${area} = 'rural'",
                    "limit": 300,
                    "message": t("Quota full"),
                }
            ],
            "result_page": True,
        },
        "choice_lists": {
            "agree5": [choice(str(n)) for n in range(1, 6)],
            "countries": [choice("pt"), choice("de")],
            "cities": [
                choice("lisbon", country="pt"),
                choice("porto", country="pt"),
                choice("berlin", country="de", size="3"),
            ],
            "areas": [choice("urban"), choice("rural")],
        },
        "pages": [
            {
                "id": "about_you",
                "title": t("About you"),
                "description": t("A few questions about you"),
                "questions": [
                    {
                        "id": "age",
                        "type": "integer",
                        "label": t("Age"),
                        "hint": t("In years"),
                        "required": True,
                        "min": 16,
                        "max": 120,
                        "unit": t("years"),
                        "constraint": ". >= 16 and . <= 120",
                        "constraint_message": t("Between 16 and 120"),
                    },
                    {
                        "id": "home_country",
                        "type": "single_choice",
                        "label": t("Country"),
                        "choices": "countries",
                        "appearance": "dropdown",
                        "other": True,
                    },
                    {
                        "id": "city",
                        "type": "single_choice",
                        "label": t("City"),
                        "choices": "cities",
                        "choice_filter": "choice.country = ${home_country}",
                        "appearance": "radio",
                        "dont_know": True,
                    },
                    {
                        "id": "big_city",
                        "type": "multiple_choice",
                        "label": t("Big cities"),
                        "choices": "cities",
                        "choice_filter": "choice.size = '3' or choice.value = 'porto'",
                        "min_selected": 1,
                        "max_selected": 2,
                        "other": True,
                        "prefer_not_to_say": True,
                    },
                    {"id": "area", "type": "single_choice", "label": t("Area"), "choices": "areas"},
                    {"id": "email", "type": "email", "label": t("E-mail"), "required": False},
                    {"id": "country", "type": "country", "label": t("Country of residence")},
                    {
                        "id": "region",
                        "type": "nuts_region",
                        "label": t("Region"),
                        "level": 2,
                        "country_question": "country",
                    },
                    {
                        "id": "born",
                        "type": "date",
                        "label": t("Date of birth"),
                        "min": "1900-01-01",
                        "max": date(2010, 12, 31),
                    },
                ],
            },
            {
                "id": "experience",
                "title": t("Your experience"),
                "relevant": "${age} >= 18 and not(selected(${big_city}, 'berlin'))",
                "questions": [
                    {
                        "id": "has_experience",
                        "type": "yes_no",
                        "label": t("Have you had cancer?"),
                        "prefer_not_to_say": True,
                    },
                    {
                        "id": "agree",
                        "type": "likert",
                        "label": t("Care was good"),
                        "choices": "agree5",
                        "relevant": "${has_experience} = 'yes'",
                        "dont_know": True,
                    },
                    {
                        "id": "services",
                        "type": "matrix",
                        "label": t("Rate the services"),
                        "rows": [
                            {"id": "screening", "label": t("Screening")},
                            {"id": "treatment", "label": t("Treatment")},
                        ],
                        "choices": "agree5",
                        "other": True,
                    },
                    {
                        "id": "satisfaction",
                        "type": "rating",
                        "label": t("Satisfaction"),
                        "min": 0,
                        "max": 10,
                        "min_label": t("Not at all"),
                        "max_label": t("Completely"),
                    },
                    {
                        "id": "priorities",
                        "type": "ranking",
                        "label": t("Rank the priorities"),
                        "choices": [choice("prevention"), choice("research"), choice("care")],
                    },
                    {
                        "id": "support",
                        "type": "multiple_choice",
                        "label": t("Support received"),
                        "choices": [choice("family"), choice("friends")],
                        "other": True,
                    },
                    {
                        "id": "weight",
                        "type": "decimal",
                        "label": t("Weight"),
                        "unit": t("kg"),
                        "min": 0.5,
                        "read_only": False,
                    },
                    {"id": "nickname", "type": "text", "label": t("Nickname"), "max_length": 40},
                    {
                        "id": "story",
                        "type": "long_text",
                        "label": t("Your story"),
                        "hint": t("Optional"),
                        "max_length": 3000,
                    },
                ],
            },
            {
                "id": "results",
                "title": t("Results"),
                "questions": [
                    {"id": "thanks", "type": "note", "label": t("Thank you, =)")},
                    {
                        "id": "score",
                        "type": "calculate",
                        "calculation": "round(coalesce(${satisfaction}, 0) div 2, 1)"
                        " + if(count-selected(${big_city}) > 1, 1, 0)",
                        "show_on_result_page": True,
                    },
                    {
                        "id": "age_band",
                        "type": "calculate",
                        "label": t("Age band"),
                        "calculation": "if(${age} < 30, 'young', \"older\")",
                        "read_only": True,
                    },
                ],
            },
        ],
    }


def round_trip(definition: dict[str, Any], tmp_path: Path) -> tuple[dict, list[XLSFormProblem]]:
    path = tmp_path / "form.xlsx"
    write_xlsform(copy.deepcopy(definition), path)
    return read_xlsform(path)


def test_round_trip_of_a_full_definition(tmp_path: Path) -> None:
    definition = full_definition()
    result, problems = round_trip(definition, tmp_path)
    assert problems == []
    assert result == definition


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.update(kind="module"), id="module"),
        pytest.param(lambda d: d.update(languages=["de", "en"]), id="default-not-first"),
        pytest.param(lambda d: d.update(id="Not Normalised"), id="odd-id"),
        pytest.param(lambda d: d["title"].pop("de"), id="title-missing-a-language"),
        pytest.param(lambda d: d["title"].update(en=" padded "), id="padded-title"),
        pytest.param(lambda d: d.update(choice_lists={}), id="empty-choice-lists"),
        pytest.param(
            lambda d: d["choice_lists"].update(yes_no=[choice("a")]), id="list-name-clash"
        ),
        pytest.param(lambda d: d["choice_lists"]["areas"][0].update(value=1), id="int-value"),
        pytest.param(lambda d: d["choice_lists"]["areas"][0].update(rank=2), id="int-extra"),
        pytest.param(lambda d: d["pages"][0].update(relevant=""), id="empty-relevant"),
        pytest.param(lambda d: d["pages"].append({"include": "core"}), id="unresolved-include"),
    ],
)
def test_round_trip_of_unusual_definitions(tmp_path: Path, change) -> None:
    definition = full_definition()
    definition["languages"] = ["en", "de"]
    for text in _translatables(definition):
        for code in [code for code in text if code not in ("en", "de")]:
            del text[code]
    change(definition)
    result, problems = round_trip(definition, tmp_path)
    assert problems == []
    assert result == definition


def _translatables(node: Any) -> list[dict[str, str]]:
    if isinstance(node, list):
        return [text for item in node for text in _translatables(item)]
    if isinstance(node, dict):
        if node and set(node) <= set(LANGUAGES):
            return [node]
        return [text for value in node.values() for text in _translatables(value)]
    return []


def test_export_is_plain_xlsform(tmp_path: Path) -> None:
    """Other XLSForm tools see groups, select types, or_other and bare choice filter columns."""
    path = tmp_path / "form.xlsx"
    write_xlsform(full_definition(), path)
    assert (
        "<h:title>Cancer mission consultation [en]</h:title>"
        in convert(xlsform=path, validate=False).xform
    )
    book = load_workbook(path)
    survey = [dict(zip(_row(book["survey"], 1), row, strict=True)) for row in _rows(book["survey"])]
    assert survey[0]["type"] == "begin group"
    assert survey[0]["name"] == "about_you"
    assert survey[0]["appearance"] == "field-list"
    assert survey[0]["label::العربية (ar)"] == "About you [ar]"
    by_name = {row["name"]: row for row in survey if row["name"]}
    assert by_name["home_country"]["type"] == "select_one countries or_other"
    assert by_name["home_country"]["appearance"] == "minimal"
    assert by_name["city"]["choice_filter"] == "country = ${home_country}"
    assert by_name["big_city"]["choice_filter"] == "size = '3' or name = 'porto'"
    assert by_name["priorities"]["type"] == "rank priorities_choices"
    assert by_name["story"]["type"] == "text"
    assert by_name["story"]["appearance"] == "multiline"
    assert by_name["satisfaction"]["echos::type"] == "rating"
    assert by_name["experience"]["relevant"].startswith("${age} >= 18")
    assert _row(book["settings"], 2)[:1] == ("Cancer mission consultation [en]",)
    assert "default_language" in _row(book["settings"], 1)
    assert "English (en)" in _row(book["settings"], 2)
    choices_header = _row(book["choices"], 1)
    assert choices_header[:3] == ("list_name", "name", "label::English (en)")
    assert {"country", "size"} <= set(choices_header)


def _row(sheet: Any, number: int) -> tuple:
    return next(sheet.iter_rows(min_row=number, max_row=number, values_only=True))


def _rows(sheet: Any) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def build_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> None:
    workbook = Workbook()
    for index, (title, rows) in enumerate(sheets.items()):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def test_read_a_standard_xlsform(tmp_path: Path) -> None:
    path = tmp_path / "Household Survey.xlsx"
    header = [
        "type",
        "name",
        "label::English (en)",
        "label::Français (fr)",
        "hint::English (en)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::English (en)",
        "choice_filter",
        "appearance",
        "calculation",
        "media::image",
        "default",  # unsupported, but empty: nothing is lost
    ]
    en, fr, rel = "label::English (en)", "label::Français (fr)", "relevant"
    rows: list[dict[str, str]] = [
        {"type": "begin group", "name": "household", en: "Household", fr: "Ménage"}
        | {rel: "${consent} = 'yes'"},
        {"type": "select_one country or_other", "name": "country", en: "Country", fr: "Pays"}
        | {"hint::English (en)": "Where?", "required": "yes"},
        {"type": "select_one city", "name": "city", en: "City", fr: "Ville", "required": "TRUE()"}
        | {"choice_filter": "country=${country}", "appearance": "minimal"},
        {},
        {"type": "geopoint", "name": "location", en: "Location", fr: "Lieu"},
        {"type": "integer", "name": "age", en: "Age", fr: "Âge", "required": "true"}
        | {"constraint": ". >= 0 and . <= 120", "constraint_message::English (en)": "0-120"}
        | {"media::image": "age.png"},
        {"type": "end group"},
        {"type": "text", "name": "comment", en: "Comment", fr: "Commentaire"}
        | {"appearance": "multiline"},
        {"type": "calculate", "name": "older", "calculation": "if(${age} > 60, 1, 0)"},
    ]
    survey = [header, *([row.get(column) for column in header] for row in rows)]
    choices = [
        ["list_name", "name", "label::English (en)", "label::Français (fr)", "country"],
        ["country", "pt", "Portugal", "Portugal"],
        ["country", "fr", "France", "France"],
        ["city", "lisbon", "Lisbon", "Lisbonne", "pt"],
        ["city", "paris", "Paris", "Paris", "fr"],
    ]
    settings = [
        ["form_title", "form_id", "version", "default_language"],
        ["Household survey", "household_2026", "2026010101", "English (en)"],
    ]
    build_workbook(path, {"survey": survey, "choices": choices, "settings": settings})

    definition, problems = read_xlsform(path)

    assert problems == [
        XLSFormProblem(
            "survey", 1, "column 'media::image' is not supported; its values were ignored"
        ),
        XLSFormProblem("survey", 6, "type 'geopoint' is not supported; skipped"),
    ]
    assert definition == {
        "id": "household-2026",
        "kind": "survey",
        "version": 2026010101,
        "default_language": "en",
        "languages": ["en", "fr"],
        "title": {"en": "Household survey", "fr": "Household survey"},
        "choice_lists": {
            "country": [
                {"value": "pt", "label": {"en": "Portugal", "fr": "Portugal"}},
                {"value": "fr", "label": {"en": "France", "fr": "France"}},
            ],
            "city": [
                {"value": "lisbon", "label": {"en": "Lisbon", "fr": "Lisbonne"}, "country": "pt"},
                {"value": "paris", "label": {"en": "Paris", "fr": "Paris"}, "country": "fr"},
            ],
        },
        "pages": [
            {
                "id": "household",
                "title": {"en": "Household", "fr": "Ménage"},
                "relevant": "${consent} = 'yes'",
                "questions": [
                    {
                        "id": "country",
                        "type": "single_choice",
                        "choices": "country",
                        "other": True,
                        "label": {"en": "Country", "fr": "Pays"},
                        "hint": {"en": "Where?"},
                        "required": True,
                    },
                    {
                        "id": "city",
                        "type": "single_choice",
                        "choices": "city",
                        "label": {"en": "City", "fr": "Ville"},
                        "required": True,
                        "choice_filter": "choice.country=${country}",
                        "appearance": "dropdown",
                    },
                    {
                        "id": "age",
                        "type": "integer",
                        "label": {"en": "Age", "fr": "Âge"},
                        "required": True,
                        "constraint": ". >= 0 and . <= 120",
                        "constraint_message": {"en": "0-120"},
                    },
                ],
            },
            {
                "id": "page_comment",
                "title": {"en": "Comment", "fr": "Commentaire"},
                "questions": [
                    {
                        "id": "comment",
                        "type": "long_text",
                        "label": {"en": "Comment", "fr": "Commentaire"},
                    }
                ],
            },
            {
                "id": "page_older",
                "questions": [
                    {"id": "older", "type": "calculate", "calculation": "if(${age} > 60, 1, 0)"}
                ],
            },
        ],
    }


def test_unsupported_structures_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "odd.xlsx"
    survey = [
        ["type", "name", "label", "relevant", "calculation", "trigger"],
        ["begin group", "main", "Main"],
        ["begin group", "inner", "Inner", "${a} = 1"],
        ["integer", "a", "A", "${b} > 2"],
        ["integer", "b", "B", "today() > 0"],
        ["end group"],
        ["begin repeat", "people", "People"],
        ["text", "person", "Person"],
        ["end repeat"],
        ["calculate", "c", None, None, "jr:choice-name(${a}, 'x')"],
        ["rank list", "r", "R"],
        ["end group"],
        ["text", "t", "T", None, None, "${a}"],
    ]
    build_workbook(path, {"survey": survey})

    definition, problems = read_xlsform(path, survey_id="Odd Form")

    assert definition["id"] == "odd-form"
    assert definition["languages"] == ["en"]
    assert definition["pages"][0]["questions"] == [
        {
            "id": "a",
            "type": "integer",
            "label": {"en": "A"},
            "relevant": "(${a} = 1) and (${b} > 2)",
        },
        {"id": "b", "type": "integer", "label": {"en": "B"}, "relevant": "${a} = 1"},
    ]
    assert [page["id"] for page in definition["pages"]] == ["main", "page_t"]
    assert [(p.sheet, p.row) for p in problems] == [
        ("survey", 1),  # trigger column
        ("survey", 3),  # nested group with relevant
        ("survey", 5),  # today()
        ("survey", 7),  # begin repeat
        ("survey", 10),  # jr:choice-name()
        ("survey", 10),  # calculate left without calculation
        ("survey", 11),  # rank
    ]
    assert "function 'today()' in relevant is not supported" in problems[2].message


def test_not_an_xlsx_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "survey.xlsx"
    path.write_text("type,name,label\ntext,a,A\n")
    with pytest.raises(XLSFormError, match="cannot be read"):
        read_xlsform(path)


def test_workbook_without_survey_sheet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    build_workbook(path, {"choices": [["list_name", "name"]], "settings": [["form_id"]]})
    with pytest.raises(XLSFormError, match="no 'survey' sheet"):
        read_xlsform(path)


def test_translated_titles_and_plain_label_columns(tmp_path: Path) -> None:
    """form_title::<language> wins over form_title; a plain label is the default language."""
    path = tmp_path / "form.xlsx"
    survey = [
        ["type", "name", "label", "label::English (en)", "hint"],
        ["text", "city", "Stadt", "City", "Wo?"],
    ]
    settings = [
        ["form_title", "form_title::Deutsch (de)", "form_title::English (en)", "default_language"],
        ["Umfrage", "Umfrage", "Survey", "Deutsch (de)"],
    ]
    build_workbook(path, {"survey": survey, "settings": settings})

    definition, problems = read_xlsform(path)

    assert problems == []
    assert definition["id"] == "form"
    assert definition["default_language"] == "de"
    assert definition["languages"] == ["de", "en"]
    assert definition["title"] == {"de": "Umfrage", "en": "Survey"}
    assert definition["pages"][0]["questions"] == [
        {
            "id": "city",
            "type": "text",
            "label": {"de": "Stadt", "en": "City"},
            "hint": {"de": "Wo?"},
        }
    ]
