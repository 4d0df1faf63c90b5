"""The GDPR Article 8 age-of-digital-consent table and its helpers."""

from __future__ import annotations

import re

import pytest

from app.consent.ages import (
    DEFAULT_AGE,
    DIGITAL_CONSENT_AGES,
    SOURCE,
    ConsentAge,
    digital_consent_age,
    needs_guardian,
)

EU_STATES = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}  # fmt: skip
EEA_STATES = {"IS", "LI", "NO"}


def test_default_is_the_gdpr_age():
    assert DEFAULT_AGE == 16


@pytest.mark.parametrize(
    ("country", "age"),
    [
        ("DE", 16),
        ("NL", 16),
        ("IE", 16),
        ("PL", 16),
        ("FR", 15),
        ("GR", 15),
        ("CZ", 15),
        ("IT", 14),
        ("ES", 14),
        ("AT", 14),
        ("PT", 13),
        ("BE", 13),
        ("SE", 13),
        ("FI", 13),
        ("DK", 13),
        ("NO", 13),
    ],
)
def test_known_countries(country, age):
    assert digital_consent_age(country) == age


@pytest.mark.parametrize(
    ("country", "age"),
    [("fr", 15), (" it ", 14), ("EL", 15), ("el", 15)],
)
def test_codes_are_normalised(country, age):
    assert digital_consent_age(country) == age


@pytest.mark.parametrize("country", [None, "", "   ", "US", "GB", "CH", "XX", "DEU"])
def test_unknown_or_missing_country_gets_the_default(country):
    assert digital_consent_age(country) == DEFAULT_AGE


@pytest.mark.parametrize(
    ("age", "country", "expected"),
    [
        (12, "BE", True),
        (13, "BE", False),
        (14, "IT", False),
        (13, "IT", True),
        (15, "FR", False),
        (14, "FR", True),
        (16, "DE", False),
        (15, "DE", True),
        (15, None, True),
        (16, None, False),
        (15, "US", True),
        (40, "PT", False),
    ],
)
def test_needs_guardian_boundary(age, country, expected):
    assert needs_guardian(age, country) is expected


@pytest.mark.parametrize("code", sorted(DIGITAL_CONSENT_AGES))
def test_each_needs_guardian_exactly_below_its_age(code):
    limit = digital_consent_age(code)
    assert needs_guardian(limit - 1, code)
    assert not needs_guardian(limit, code)


@pytest.mark.parametrize(("code", "entry"), sorted(DIGITAL_CONSENT_AGES.items()))
def test_entries_are_well_formed(code, entry):
    assert isinstance(entry, ConsentAge)
    assert re.fullmatch(r"[A-Z]{2}", code)
    assert entry.country == code
    assert 13 <= entry.age <= 16
    assert entry.law.strip()


def test_table_covers_the_eu_and_eea():
    assert len(EU_STATES) == 27
    assert set(DIGITAL_CONSENT_AGES) == EU_STATES | EEA_STATES


def test_entries_are_immutable():
    with pytest.raises(AttributeError):
        DIGITAL_CONSENT_AGES["DE"].age = 13  # type: ignore[misc]


def test_source_is_cited():
    assert "SWD(2020) 115" in SOURCE
