"""The streaming Stata writer, read back with pyreadstat and pandas and compared value by
value, and compared with the former path (pyreadstat writing one whole data frame)."""

from __future__ import annotations

import math
import random
import struct
import tracemalloc
from datetime import date, datetime

import pandas as pd
import pyreadstat
import pytest

from app.results import dta_writer, wide
from app.results.codebook import Variable
from app.results.dta_writer import DtaVariable, write_dta

ARABIC = "ما رأيك في خدمات الرعاية الصحية؟"
GREEK = "Ποια είναι η γνώμη σας;"
EMOJI = "👍🏽 très bien 🎗️"
LONG = "λ" * 1000 + "x" * 2000  # 3,000 characters, 4,000 bytes: a strL


def both(path):
    """(pyreadstat records, metadata, pandas records, pandas records with codes)."""
    frame, meta = pyreadstat.read_dta(str(path))
    labelled = pd.read_stata(path).to_dict("records")
    coded = pd.read_stata(path, convert_categoricals=False).to_dict("records")
    return frame.to_dict("records"), meta, labelled, coded


def same(got, want) -> bool:
    if want is None:
        return got == "" or got is pd.NaT or (isinstance(got, float) and math.isnan(got))
    if isinstance(want, date) or (isinstance(want, str) and isinstance(got, date)):
        return day(got) == day(want)
    return got == want


def day(value) -> date:
    """A date from an ISO string, a date or a datetime (pandas gives Timestamps)."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


def stata_types(path) -> list[int]:
    """The <variable_types> section: 1-2045 str#, 32768 strL, 65526 double."""
    raw = path.read_bytes()
    count = struct.unpack("<H", raw[raw.index(b"<K>") + 3:][:2])[0]
    at = raw.index(b"<variable_types>") + len(b"<variable_types>")
    return list(struct.unpack(f"<{count}H", raw[at:at + 2 * count]))


VARIABLES = [
    DtaVariable("transport", "How did you come?", value_labels={1: "Bus", 2: "Vélo",
                                                               3: ARABIC}),
    DtaVariable("score", "Your score"),
    DtaVariable("amount", "Amount"),
    DtaVariable("visited", "Date of visit", "date"),
    DtaVariable("comment", GREEK, "string"),
    DtaVariable("essay", "Long text", "string"),
]
ROWS = [
    (1, 7, 1.25, date(2025, 3, 14), ARABIC, LONG),
    (2, None, -1e9, "2024-12-01", GREEK, "short"),
    (None, 151, 0.1, None, EMOJI, None),
    (3, -99, None, datetime(1959, 12, 31, 23, 0), None, ""),
    (None, 0, 8.9e307, "1960-01-01", "", EMOJI * 200),
]


def test_values_labels_and_types_survive_both_readers(tmp_path):
    path = tmp_path / "out.dta"
    assert write_dta(VARIABLES, ROWS, path) == len(ROWS)
    records, meta, labelled, coded = both(path)
    names = [v.name for v in VARIABLES]
    assert meta.column_names == names and meta.number_rows == len(ROWS)
    assert meta.column_labels == [v.label for v in VARIABLES]
    assert meta.variable_value_labels == {"transport": {1: "Bus", 2: "Vélo", 3: ARABIC}}
    assert meta.original_variable_types["visited"] == "%td"
    widest = max(len(text.encode()) for text in (ARABIC, GREEK, EMOJI))
    assert stata_types(path) == [65526, 65526, 65526, 65526, widest, 32768]
    assert path.read_bytes().startswith(b"<stata_dta><header><release>118</release>")
    for reader in (records, coded):
        for record, row in zip(reader, ROWS, strict=True):
            for name, value in zip(names, row, strict=True):
                assert same(record[name], value), (name, record[name], value)
    shown = [r["transport"] for r in labelled]  # pandas shows the value labels
    assert [shown[0], shown[1], shown[3]] == ["Bus", "Vélo", ARABIC]
    assert all(same(shown[i], None) for i in (2, 4))
    assert records[0]["essay"] == LONG and coded[0]["essay"] == LONG
    assert records[4]["essay"] == EMOJI * 200


def test_map_offsets_point_at_their_sections(tmp_path):
    path = tmp_path / "out.dta"
    write_dta(VARIABLES, ROWS, path, file_label="Ένα αρχείο", created=datetime(2026, 3, 5, 9, 7))
    raw = path.read_bytes()
    at = raw.index(b"<map>") + len(b"<map>")
    offsets = struct.unpack("<14Q", raw[at:at + 8 * 14])
    tags = [b"<stata_dta>", b"<map>", b"<variable_types>", b"<varnames>", b"<sortlist>",
            b"<formats>", b"<value_label_names>", b"<variable_labels>",
            b"<characteristics>", b"<data>", b"<strls>", b"<value_labels>", b"</stata_dta>"]
    for offset, tag in zip(offsets, tags, strict=False):
        assert raw[offset:offset + len(tag)] == tag
    assert offsets[-1] == len(raw)
    assert b"<timestamp>\x1105 Mar 2026 09:07</timestamp>" in raw
    assert pyreadstat.read_dta(str(path), metadataonly=True)[1].file_label == "Ένα αρχείο"


def test_labels_are_cut_to_80_characters(tmp_path):
    label = "é" * 100
    path = tmp_path / "labels.dta"
    write_dta([DtaVariable("q", label, value_labels={1: label}),
               DtaVariable("text", "x" * 90, "string")], [(1, "a")], path)
    _, meta, _, _ = both(path)
    assert meta.column_labels == ["é" * 80, "x" * 80]
    assert meta.variable_value_labels == {"q": {1: "é" * 80}}


def test_zero_rows(tmp_path):
    path = tmp_path / "empty.dta"
    assert write_dta(VARIABLES, [], path) == 0
    records, meta, labelled, _ = both(path)
    assert records == [] and labelled == [] and meta.number_rows == 0
    assert meta.column_names == [v.name for v in VARIABLES]
    assert meta.column_labels == [v.label for v in VARIABLES]
    assert meta.variable_value_labels["transport"][3] == ARABIC
    assert stata_types(path) == [65526, 65526, 65526, 65526, 1, 1]


def test_many_batches_and_slices_keep_every_value(tmp_path, monkeypatch):
    """Small batches and slices, so strL observation numbers run across both."""
    monkeypatch.setattr(dta_writer, "BATCH_BYTES", 600)
    monkeypatch.setattr(dta_writer, "BATCH_ROWS", 7)
    rng = random.Random(1)
    variables = [DtaVariable("a"), DtaVariable("b", type="string"), DtaVariable("c"),
                 DtaVariable("d", type="string"), DtaVariable("e", type="date")]

    def number():
        return rng.choice([None, rng.randint(-120, 300), rng.random() * 1e6, -0.5])

    def text(longest: int):
        return rng.choice([None, "", " ", "x" * rng.randint(1, longest), EMOJI, "  y  "])

    rows = [(number(), text(30), number(), text(2100),
             rng.choice([None, date(2000, 1, 1), date(1900, 6, 30), date(2099, 12, 31)]))
            for _ in range(700)]
    path = tmp_path / "many.dta"
    write_dta(variables, rows, path)
    assert stata_types(path)[3] == 32768
    records, _, _, coded = both(path)
    assert len(records) == len(coded) == len(rows)
    for reader in (records, coded):
        for record, row in zip(reader, rows, strict=True):
            for name, value in zip("abcde", row, strict=True):
                assert same(record[name], value), (name, record[name], value)


def test_memory_does_not_grow_with_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(dta_writer, "BATCH_ROWS", 256)
    variables = [DtaVariable("n"), DtaVariable("s", type="string"),
                 DtaVariable("d", type="date"), DtaVariable("essay", type="string")]

    def peak(count: int) -> int:
        rows = ((i, GREEK if i % 3 else None, date(2025, 1, 1 + i % 28),
                 LONG if i % 50 == 0 else "") for i in range(count))
        tracemalloc.start()
        write_dta(variables, rows, tmp_path / f"{count}.dta")
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    small, large = peak(5_000), peak(50_000)
    assert large < 1.3 * small, (small, large)
    assert pyreadstat.read_dta(str(tmp_path / "50000.dta"))[1].number_rows == 50_000


def test_bad_input_is_refused_clearly(tmp_path):
    target = tmp_path / "x.dta"
    with pytest.raises(ValueError, match="not a valid Stata variable name"):
        write_dta([DtaVariable("1st")], [], target)
    with pytest.raises(ValueError, match="not a valid Stata variable name"):
        write_dta([DtaVariable("int")], [], target)
    with pytest.raises(ValueError, match="used twice"):
        write_dta([DtaVariable("age"), DtaVariable("age")], [], target)
    with pytest.raises(ValueError, match="n: 'many' is not a number"):
        write_dta([DtaVariable("n")], [("many",)], target)
    with pytest.raises(ValueError, match="n: inf is too large"):
        write_dta([DtaVariable("n")], [(1,), (math.inf,)], target)
    with pytest.raises(ValueError, match="d: 'soon' is not an ISO date"):
        write_dta([DtaVariable("d", type="date")], [("soon",)], target)
    with pytest.raises(ValueError, match="only numeric variables have value labels"):
        write_dta([DtaVariable("s", type="string", value_labels={1: "x"})], [], target)
    with pytest.raises(ValueError, match="every row needs 2 values"):
        write_dta([DtaVariable("a"), DtaVariable("b")], [(1,)], target)


# Through wide.write_dta ------------------------------------------------------------------


def variable(name: str, type_: str = "numeric", **extra) -> Variable:
    return Variable(name=name, question=name, item="", label={"en": f"{name} label",
                                                              "de": f"{name} Etikett"},
                    type=type_, measurement=extra.pop("measurement", "nominal"),
                    source="coded", relevance="", survey="s", version=1, **extra)


WIDE_VARIABLES = [
    variable("transport", value_labels={1: {"en": "Bus", "de": "Bus"},
                                        2: {"en": "Bike", "de": "Fahrrad"}}, integer=True),
    variable("score", measurement="ordinal", integer=True),
    variable("amount", measurement="scale"),
    variable("visited", "date", measurement="scale"),
    variable("comment", "string"),
    variable("1st.choice", "string"),
]
WIDE_ROWS = [
    {"respondent": "a1b2c3d4e5f6", "language": "de", "completed_at":
     "2025-03-14T10:11:12+00:00", "transport": 2, "score": 7, "amount": 1.5,
     "visited": "2025-03-14", "comment": ARABIC + LONG, "1st.choice": GREEK, "weight": 1.25},
    {"respondent": "0f0f0f0f0f0f", "language": "en", "completed_at": None,
     "transport": None, "score": None, "amount": None, "visited": None,
     "comment": EMOJI, "1st.choice": None, "weight": 0.75},
    {"respondent": "ffffffffffff", "language": "ar", "completed_at":
     "2025-03-15T00:00:00+00:00", "transport": 1, "score": 0, "amount": -2.75,
     "visited": "1959-01-31", "comment": "", "1st.choice": "", "weight": None},
]


def former_write_dta(variables, rows, target, *, language, weighted=False) -> None:
    """The previous wide.write_dta: pyreadstat writing one data frame of every row."""
    frame = wide._frame(variables, rows, weighted)
    labels, value_labels = wide._statistical_labels(variables, language, weighted)
    renamed = wide.stata_names(frame.columns)
    frame = frame.rename(columns=renamed)
    pyreadstat.write_dta(
        frame, str(target),
        column_labels=[labels[c][:wide.STATA_LABEL_MAX] for c in renamed],
        variable_value_labels={renamed[name]: {int(code): text[:wide.STATA_LABEL_MAX]
                                               for code, text in codes.items()}
                               for name, codes in value_labels.items()})


def test_wide_export_matches_the_former_data_frame_writer(tmp_path):
    """Same names, values, types, formats and labels with both readers."""
    ours, theirs = tmp_path / "ours.dta", tmp_path / "theirs.dta"
    wide.write_dta(WIDE_VARIABLES, iter(WIDE_ROWS), ours, language="de", weighted=True)
    former_write_dta(WIDE_VARIABLES, WIDE_ROWS, theirs, language="de", weighted=True)
    new, new_meta = pyreadstat.read_dta(str(ours))
    old, old_meta = pyreadstat.read_dta(str(theirs))
    assert new_meta.column_names == old_meta.column_names
    assert "v1st_choice" in new_meta.column_names
    assert new_meta.column_labels == old_meta.column_labels
    assert new_meta.variable_value_labels == old_meta.variable_value_labels
    assert new_meta.original_variable_types == old_meta.original_variable_types
    assert new_meta.readstat_variable_types == old_meta.readstat_variable_types
    assert new.dtypes.to_dict() == old.dtypes.to_dict()
    assert new.fillna(-1).to_dict("records") == old.fillna(-1).to_dict("records")
    assert new.loc[0, "comment"] == ARABIC + LONG and new.loc[0, "v1st_choice"] == GREEK
    assert new.loc[2, "visited"] == date(1959, 1, 31)
    for convert in (True, False):
        mine = pd.read_stata(ours, convert_categoricals=convert)
        former = pd.read_stata(theirs, convert_categoricals=convert)
        pd.testing.assert_frame_equal(mine, former)
    assert pd.read_stata(ours)["transport"].tolist()[0] == "Fahrrad"


def test_wide_export_fixes_names_stata_would_refuse(tmp_path):
    variables = [variable("1st.choice", integer=True), variable("with space", "string"),
                 variable("int", measurement="scale"), variable("q" * 40, "string"),
                 variable("ä.b")]
    row = {"respondent": "r", "language": "en", "completed_at": None, "1st.choice": 3,
           "with space": GREEK, "int": 40, "q" * 40: EMOJI, "ä.b": 1}
    path = tmp_path / "names.dta"
    wide.write_dta(variables, [row], path, language="en")
    records, meta, _, _ = both(path)
    assert meta.column_names == [*wide.FIXED_COLUMNS, "v1st_choice", "with_space", "int_1",
                                 "q" * 32, "__b"]
    assert meta.column_labels[3:] == ["1st.choice label", "with space label", "int label",
                                      f"{'q' * 40} label", "ä.b label"]
    assert [records[0][name] for name in meta.column_names[3:]] == [3, GREEK, 40, EMOJI, 1]
    assert all(dta_writer.valid_name(name) for name in meta.column_names)


def test_wide_export_keeps_missing_long_text_and_zero_rows(tmp_path):
    """A missing long text is "" (the data frame path failed on it in pyreadstat)."""
    rows = [{**WIDE_ROWS[0]}, {**WIDE_ROWS[1], "comment": None}]
    path = tmp_path / "gap.dta"
    wide.write_dta(WIDE_VARIABLES, iter(rows), path, language="en")
    records, _, _, coded = both(path)
    assert [r["comment"] for r in records] == [ARABIC + LONG, ""]
    assert [r["comment"] for r in coded] == [ARABIC + LONG, ""]

    empty = tmp_path / "empty.dta"
    wide.write_dta(WIDE_VARIABLES, iter([]), empty, language="en", weighted=True)
    records, meta, labelled, _ = both(empty)
    assert records == [] and labelled == []
    assert meta.column_names == list(stata_names_of(WIDE_VARIABLES, True).values())
    assert meta.original_variable_types["visited"] == "%td"


def stata_names_of(variables, weighted):
    return wide.stata_names(wide.columns(variables, weighted))


def test_strl_texts_follow_observation_then_variable_order(tmp_path):
    path = tmp_path / "strl.dta"
    rows = [(LONG, None), (LONG + "a", LONG + "b"), ("", LONG + "c")]
    write_dta([DtaVariable("a", type="string"), DtaVariable("b", type="string")], rows, path)
    raw = path.read_bytes()
    order, at = [], raw.index(b"<strls>")
    while (at := raw.find(b"GSO", at + 1, raw.index(b"</strls>"))) != -1:
        order.append(struct.unpack("<IQ", raw[at + 3:at + 15]))
        at += 15
    assert order == [(1, 1), (1, 2), (2, 2), (2, 3)]
    records, _, _, coded = both(path)
    for reader in (records, coded):
        assert [(r["a"], r["b"]) for r in reader] == [(a, b or "") for a, b in rows]
