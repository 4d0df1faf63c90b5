"""The codebook of a survey version: one entry per column of the wide export.

Analysts read wide files in SPSS, Stata, R or a spreadsheet, where a column is only
useful with its question text, its codes and the rule that decided who was asked.
The codebook is derived from the definition alone, so it is the same for every
export format and never depends on who answered. Contact questions are left out:
they identify people and are not analysable data.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import force_locale

from app.results.exports import neutralise
from app.surveys.definition import OTHER, Definition, Question, Text
from app.surveys.labels import choice_label
from app.surveys.models import Survey, SurveyVersion
from app.surveys.question_types import question_type
from app.surveys.services import definition_of

# How a variable takes its value from a question's typed answer (see app.results.wide).
CODED = "coded"            # single choice, matrix row: code of the chosen value
INDICATOR = "indicator"    # multiple choice: 1 when the value was picked, else 0
RANK = "rank"              # ranking: position (1 = first) of the value
RATING = "rating"          # rating: the scale point itself; special answers coded after it
NUMBER = "number"
DATE = "date"
TEXT = "text"
OTHER_TEXT = "other_text"  # the "please specify" text of an Other choice

SINGLE_CHOICE_TYPES = frozenset({"single_choice", "yes_no", "likert", "country", "nuts_region"})
ORDINAL_TYPES = frozenset({"likert", "matrix", "rating"})
INTEGER_TYPES = frozenset({"integer"})

DDI_NS = "ddi:codebook:2_5"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DDI_SCHEMA = (DDI_NS + " http://www.ddialliance.org/Specification/DDI-Codebook/2.5/"
              "XMLSchema/codebook.xsd")

Labels = dict[str, str]


@dataclass(frozen=True)
class Variable:
    """One export column; `values` maps each integer code back to the stored value."""

    name: str
    question: str
    item: str
    label: Labels
    type: str  # numeric | string | date
    measurement: str  # nominal | ordinal | scale
    source: str
    relevance: str
    survey: str
    version: int
    value_labels: dict[int, Labels] = field(default_factory=dict)
    values: dict[int, str] = field(default_factory=dict)
    integer: bool = False  # numeric and always whole (codes, ranks, integer questions)

    def code_of(self, value: str) -> int | None:
        for code, stored in self.values.items():
            if stored == value:
                return code
        return None


def codebook(survey_version: SurveyVersion) -> list[Variable]:
    """The variables of a stored survey version, in question order."""
    definition = definition_of(survey_version)
    variables: list[Variable] = []
    for question in definition.questions():
        if question.contact or not question_type(question.type).stores_answer:
            continue
        variables.extend(_variables_of(question, definition, survey_version.survey.slug,
                                       survey_version.number))
    return variables


def _text(text: Text | None, languages: Iterable[str], fallback: str) -> Labels:
    return {lang: (text.get(lang) if text else "") or fallback for lang in languages}


def _choice_labels(question: Question, languages: tuple[str, ...]) -> dict[str, Labels]:
    labels: dict[str, Labels] = {choice.value: {} for choice in question.choices}
    for lang in languages:
        # Built-in labels (Yes, Don't know...) are translated by Babel.
        with force_locale(lang):
            for choice in question.choices:
                labels[choice.value][lang] = choice_label(question, choice, lang)
    return labels


def _variables_of(question: Question, definition: Definition, slug: str,
                  number: int) -> list[Variable]:
    languages = definition.languages
    label = _text(question.label, languages, question.id)
    common = {"question": question.id, "relevance": question.relevant.source
              if question.relevant else "", "survey": slug, "version": number}
    kind = question.type
    substantive = [c for c in question.choices if c.value != OTHER]

    def coded(name: str, item: str, text: Labels, measurement: str) -> Variable:
        choice_labels = _choice_labels(question, languages)
        codes = {index: choice.value for index, choice in enumerate(question.choices, start=1)}
        return Variable(name=name, item=item, label=text, type="numeric", measurement=measurement,
                        source=CODED, value_labels={c: choice_labels[v] for c, v in codes.items()},
                        values=codes, integer=True, **common)

    def other_text() -> list[Variable]:
        if not question.has_other:
            return []
        text = {lang: f"{label[lang]} ({OTHER})" for lang in languages}
        # A multiple choice question already has a 0/1 column named q._other.
        name = f"{question.id}.{OTHER}" + (".text" if kind == "multiple_choice" else "")
        return [Variable(name=name, item=OTHER, label=text, type="string",
                         measurement="nominal", source=OTHER_TEXT, **common)]

    if kind in SINGLE_CHOICE_TYPES:
        measurement = "ordinal" if kind in ORDINAL_TYPES else "nominal"
        return [coded(question.id, "", label, measurement), *other_text()]
    if kind == "matrix":
        return [coded(f"{question.id}.{row.id}", row.id,
                      {lang: f"{label[lang]}: {row.label.get(lang)}" for lang in languages},
                      "ordinal") for row in question.rows]
    if kind in ("multiple_choice", "ranking"):
        choice_labels = _choice_labels(question, languages)
        source = INDICATOR if kind == "multiple_choice" else RANK
        return [Variable(name=f"{question.id}.{choice.value}", item=choice.value,
                         label={lang: f"{label[lang]}: {choice_labels[choice.value][lang]}"
                                for lang in languages},
                         type="numeric", measurement="nominal" if source == INDICATOR
                         else "ordinal", source=source, integer=True, **common)
                for choice in (substantive if kind == "ranking" else question.choices)
                ] + other_text()
    if kind == "rating":
        # Scale points keep their own number so means are right; specials follow the top.
        scale = question_type(kind).scale(question)  # type: ignore[attr-defined]
        values = {point: str(point) for point in scale}
        value_labels: dict[int, Labels] = {}
        choice_labels = _choice_labels(question, languages)
        for offset, choice in enumerate((c for c in question.choices if c.special), start=1):
            values[scale[-1] + offset] = choice.value
            value_labels[scale[-1] + offset] = choice_labels[choice.value]
        for point, option in ((scale[0], "min_label"), (scale[-1], "max_label")):
            text = question.option(option)
            if isinstance(text, Text) and text:
                value_labels[point] = _text(text, languages, str(point))
        return [Variable(name=question.id, item="", label=label, type="numeric",
                         measurement="ordinal", source=RATING, value_labels=value_labels,
                         values=values, integer=True, **common)]
    if kind in ("integer", "decimal", "calculate"):
        return [Variable(name=question.id, item="", label=label, type="numeric",
                         measurement="scale", source=NUMBER, integer=kind in INTEGER_TYPES,
                         **common)]
    if kind == "date":
        return [Variable(name=question.id, item="", label=label, type="date",
                         measurement="scale", source=DATE, **common)]
    return [Variable(name=question.id, item="", label=label, type="string",
                     measurement="nominal", source=TEXT, **common)]


# Writers ------------------------------------------------------------------------------


CODEBOOK_COLUMNS = ["name", "label", "type", "measurement", "value_labels", "relevance",
                    "survey", "version"]


def label_in(labels: Labels, language: str) -> str:
    return labels.get(language) or next(iter(labels.values()), "")


def codebook_rows(variables: Iterable[Variable], language: str) -> Iterable[list[str]]:
    """The codebook as table rows in one language (CSV file and the XLSX sheet)."""
    yield CODEBOOK_COLUMNS
    for var in variables:
        codes = "; ".join(f"{code}={label_in(labels, language)}"
                          for code, labels in sorted(var.value_labels.items()))
        yield [var.name, label_in(var.label, language), var.type, var.measurement, codes,
               var.relevance, var.survey, str(var.version)]


def codebook_csv(variables: Iterable[Variable], language: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in codebook_rows(variables, language):
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def codebook_json(variables: Iterable[Variable]) -> str:
    return json.dumps([{
        "name": var.name, "question": var.question, "item": var.item, "label": var.label,
        "type": var.type, "measurement": var.measurement,
        "value_labels": {str(code): labels for code, labels in var.value_labels.items()},
        "values": {str(code): value for code, value in var.values.items()},
        "relevance": var.relevance, "survey": var.survey, "version": var.version,
    } for var in variables], ensure_ascii=False, indent=2)


def codebook_ddi(variables: Iterable[Variable], survey: Survey) -> bytes:
    """DDI-Codebook 2.5, which archives (GESIS, ICPSR, UK Data Service) ingest."""
    ET.register_namespace("", DDI_NS)
    ET.register_namespace("xsi", XSI_NS)
    variables = list(variables)

    def tag(name: str) -> str:
        return f"{{{DDI_NS}}}{name}"

    def labelled(parent: ET.Element, name: str, labels: Labels) -> None:
        for lang, text in labels.items():
            element = ET.SubElement(parent, tag(name))
            element.text = text
            element.set("{http://www.w3.org/XML/1998/namespace}lang", lang)

    root = ET.Element(tag("codeBook"), {f"{{{XSI_NS}}}schemaLocation": DDI_SCHEMA,
                                        "version": "2.5"})
    citation = ET.SubElement(ET.SubElement(root, tag("stdyDscr")), tag("citation"))
    title = ET.SubElement(ET.SubElement(citation, tag("titlStmt")), tag("titl"))
    title.text = survey.slug
    if variables:
        ET.SubElement(ET.SubElement(citation, tag("verStmt")), tag("version")).text = str(
            variables[0].version)
    data = ET.SubElement(root, tag("dataDscr"))
    for var in variables:
        element = ET.SubElement(data, tag("var"), {"name": var.name, "ID": f"V_{var.name}"})
        element.set("intrvl", "contin" if var.measurement == "scale" else "discrete")
        labelled(element, "labl", var.label)
        qstn = ET.SubElement(element, tag("qstn"))
        labelled(qstn, "qstnLit", var.label)
        if var.relevance:
            ET.SubElement(element, tag("universe")).text = var.relevance
        for code, labels in sorted(var.value_labels.items()):
            category = ET.SubElement(element, tag("catgry"))
            ET.SubElement(category, tag("catValu")).text = str(code)
            labelled(category, "labl", labels)
        ET.SubElement(element, tag("varFormat"), {
            "type": "numeric" if var.type == "numeric" else "character",
            **({"category": "date"} if var.type == "date" else {})})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
