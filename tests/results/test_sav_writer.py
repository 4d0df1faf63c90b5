"""The streaming SPSS writer, read back with pyreadstat and compared value by value."""

from __future__ import annotations

import math
import random
from datetime import date

import pyreadstat
import pytest

from app.results import sav_writer, wide
from app.results.codebook import Variable
from app.results.sav_writer import SavVariable, write_sav
from app.results.wide import spss_names

ARABIC = "ما رأيك في خدمات الرعاية الصحية؟"
GREEK = "Ποια είναι η γνώμη σας;"
EMOJI = "👍🏽 très bien 🎗️"


def read(path):
    frame, meta = pyreadstat.read_sav(str(path))
    return frame.to_dict("records"), meta


def same(got, want) -> bool:
    if want is None:
        return got == "" or (isinstance(got, float) and math.isnan(got))
    return got == want


def test_values_labels_and_measures_survive(tmp_path):
    variables = [
        SavVariable("transport", "How did you come?", value_labels={1: "Bus", 2: "Vélo",
                                                                   3: ARABIC}, decimals=0),
        SavVariable("score", "Your score", measure="ordinal", decimals=0),
        SavVariable("amount", "Amount", measure="scale"),
        SavVariable("visited", "Date of visit", "date", "scale"),
        SavVariable("comment", GREEK, "string"),
        SavVariable("essay", "Long text", "string"),
    ]
    rows = [
        (1, 7, 1.25, date(2025, 3, 14), ARABIC, "a" * 300),
        (2, None, -1e9, "2024-12-01", GREEK, "β" * 150),  # 300 bytes in UTF-8
        (None, 151, 0.1, None, EMOJI, None),
        (3, -99, None, "2025-01-02", None, ""),
    ]
    path = tmp_path / "out.sav"
    assert write_sav(variables, rows, path) == len(rows)
    records, meta = read(path)
    assert meta.column_names == [v.name for v in variables]
    assert meta.column_labels == [v.label for v in variables]
    assert meta.file_encoding == "UTF-8"
    assert meta.variable_value_labels == {"transport": {1.0: "Bus", 2.0: "Vélo", 3.0: ARABIC}}
    assert meta.variable_measure == {"transport": "nominal", "score": "ordinal",
                                     "amount": "scale", "visited": "scale",
                                     "comment": "nominal", "essay": "nominal"}
    assert meta.original_variable_types["visited"] == "DATE11"
    assert meta.original_variable_types["transport"] == "F8.0"
    assert meta.original_variable_types["essay"] == "A300"
    for record, row in zip(records, rows, strict=True):
        want = dict(zip(meta.column_names, row, strict=True))
        if isinstance(want["visited"], str):
            want["visited"] = date.fromisoformat(want["visited"])
        for name, value in want.items():
            assert same(record[name], value), (name, record[name], value)


def test_very_long_strings_use_segments_and_stop_at_spss_limit(tmp_path):
    variables = [SavVariable("before", "n"), SavVariable("text", "t", "string"),
                 SavVariable("after", "n")]
    greek = "λ" * 16_000  # 32,000 bytes: fits
    rows = [(1, "x" * 40_000, 2), (3, greek, 4), (5, ARABIC * 100, 6), (7, None, 8)]
    path = tmp_path / "long.sav"
    write_sav(variables, rows, path)
    records, meta = read(path)
    assert meta.original_variable_types["text"] == f"A{sav_writer.MAX_STRING}"
    assert records[0]["text"] == "x" * sav_writer.MAX_STRING  # cut to what SPSS holds
    assert records[1]["text"] == greek
    assert records[2]["text"] == ARABIC * 100
    assert records[3]["text"] == ""
    assert [(r["before"], r["after"]) for r in records] == [(1, 2), (3, 4), (5, 6), (7, 8)]


def test_cut_never_splits_a_character():
    assert sav_writer.cut_utf8("aé", 2) == b"a"
    assert sav_writer.cut_utf8("👍👍", 7) == "👍".encode()


def test_zero_rows(tmp_path):
    variables = [SavVariable("n", "Number"), SavVariable("s", "Text", "string"),
                 SavVariable("d", "Day", "date")]
    path = tmp_path / "empty.sav"
    assert write_sav(variables, [], path) == 0
    records, meta = read(path)
    assert records == [] and meta.number_rows == 0
    assert meta.column_names == ["n", "s", "d"] and meta.column_labels == ["Number", "Text",
                                                                         "Day"]


def test_many_batches_and_slices_keep_every_value(tmp_path, monkeypatch):
    """Small batches and slices, so compression groups straddle cases, slices and batches."""
    monkeypatch.setattr(sav_writer, "BATCH_BYTES", 512)
    monkeypatch.setattr(sav_writer, "BATCH_ROWS", 7)
    rng = random.Random(1)
    variables = [SavVariable("a", "a"), SavVariable("b", "b", "string"),
                 SavVariable("c", "c"), SavVariable("d", "d", "string")]

    def number():
        return rng.choice([None, rng.randint(-120, 300), rng.random() * 1e6, -0.5])

    def text():
        return rng.choice([None, "", " ", "x" * rng.randint(1, 30), EMOJI, "        y"])

    rows = [(number(), text(), number(), text()) for _ in range(1000)]
    path = tmp_path / "many.sav"
    write_sav(variables, rows, path)
    records, _ = read(path)
    assert len(records) == len(rows)
    for record, row in zip(records, rows, strict=True):
        for name, value in zip("abcd", row, strict=True):
            if isinstance(value, str):
                value = value.rstrip(" ")  # SPSS pads strings with spaces
                assert record[name] == value
            else:
                assert same(record[name], value), (name, record[name], value)


def test_bad_input_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="not a valid SPSS variable name"):
        write_sav([SavVariable("1st", "x")], [], tmp_path / "x.sav")
    with pytest.raises(ValueError, match="used twice"):
        write_sav([SavVariable("age", "x"), SavVariable("AGE", "y")], [], tmp_path / "x.sav")
    with pytest.raises(ValueError, match="n: 'many' is not a number"):
        write_sav([SavVariable("n", "x")], [("many",)], tmp_path / "x.sav")
    with pytest.raises(ValueError, match="d: 'soon' is not an ISO date"):
        write_sav([SavVariable("d", "x", "date")], [("soon",)], tmp_path / "x.sav")


def test_spss_names_keep_valid_names_and_fix_the_others():
    long = "q" * 70
    assert spss_names(["topics.health", "Age", "age", "TO", "1st", "a b", "end.", long,
                       "ά" * 40]) == {
        "topics.health": "topics.health", "Age": "Age", "age": "age_1", "TO": "TO_1",
        "1st": "v1st", "a b": "a_b", "end.": "end_", long: "q" * 64, "ά" * 40: "ά" * 32}
    assert all(sav_writer.valid_name(name) for name in spss_names(["x y", "2", "é."]).values())


def variable(name: str, type_: str = "numeric", **extra) -> Variable:
    return Variable(name=name, question=name, item="", label={"en": f"{name} label",
                                                              "de": f"{name} Etikett"},
                    type=type_, measurement=extra.pop("measurement", "nominal"),
                    source="coded", relevance="", survey="s", version=1, **extra)


def test_wide_export_matches_the_former_data_frame_writer(tmp_path):
    """Same names, values and labels as pyreadstat writing the whole data frame."""
    variables = [
        variable("transport", value_labels={1: {"en": "Bus", "de": "Bus"},
                                            2: {"en": "Bike", "de": "Fahrrad"}}, integer=True),
        variable("score", measurement="ordinal", integer=True),
        variable("amount", measurement="scale"),
        variable("visited", "date", measurement="scale"),
        variable("comment", "string"),
    ]
    rows = [
        {"respondent": "a1b2c3d4e5f6", "language": "de", "completed_at":
         "2025-03-14T10:11:12+00:00", "transport": 2, "score": 7, "amount": 1.5,
         "visited": "2025-03-14", "comment": ARABIC, "weight": 1.25},
        {"respondent": "0f0f0f0f0f0f", "language": "en", "completed_at": None,
         "transport": None, "score": None, "amount": None, "visited": None,
         "comment": None, "weight": 0.75},
    ]
    ours, theirs = tmp_path / "ours.sav", tmp_path / "theirs.sav"
    wide.write_sav(variables, iter(rows), ours, language="de", weighted=True)
    frame = wide._frame(variables, rows, True)
    labels, value_labels = wide._statistical_labels(variables, "de", True)
    pyreadstat.write_sav(frame, str(theirs), column_labels=[labels[c] for c in frame.columns],
                         variable_value_labels=value_labels)
    new, new_meta = pyreadstat.read_sav(str(ours))
    old, old_meta = pyreadstat.read_sav(str(theirs))
    assert new_meta.column_names == old_meta.column_names
    assert new_meta.column_labels == old_meta.column_labels
    assert new_meta.variable_value_labels == old_meta.variable_value_labels
    assert new.fillna(-1).to_dict("records") == old.fillna(-1).to_dict("records")
    assert new_meta.variable_measure["score"] == "ordinal"
    assert new_meta.variable_measure["weight"] == "scale"


def test_wide_export_fixes_names_spss_would_refuse(tmp_path):
    variables = [variable("1st.choice", integer=True), variable("with space", "string"),
                 variable("Age", measurement="scale"), variable("age", measurement="scale")]
    row = {"respondent": "r", "language": "en", "completed_at": None, "1st.choice": 3,
           "with space": GREEK, "Age": 40, "age": 41}
    path = tmp_path / "names.sav"
    wide.write_sav(variables, [row], path, language="en")
    records, meta = read(path)
    names = spss_names(wide.columns(variables))
    assert meta.column_names == [*wide.FIXED_COLUMNS, "v1st.choice", "with_space", "Age",
                                 "age_1"]
    assert meta.column_labels[3:] == ["1st.choice label", "with space label", "Age label",
                                      "age label"]
    assert {name: records[0][names[name]] for name in ("1st.choice", "with space", "Age",
                                                       "age")} == {
        "1st.choice": 3, "with space": GREEK, "Age": 40, "age": 41}
