"""Countries and NUTS regions for the place pickers.

Country names come from the Unicode CLDR data that Babel ships, so they exist in
every language we support; NUTS regions from the Eurostat classification in
`data/nuts_regions.csv`, whose official labels are the same in every language.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale

NUTS_FILE = Path(__file__).resolve().parent / "data" / "nuts_regions.csv"
# CLDR groupings and placeholders that are not countries.
NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "AC", "CP", "DG", "EA", "IC", "TA", "CQ"}
)


@cache
def country_codes() -> tuple[str, ...]:
    territories = Locale("en").territories
    return tuple(
        sorted(
            code
            for code in territories
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
        )
    )


@cache
def country_names(language: str) -> dict[str, str]:
    territories = Locale.parse(language).territories
    english = Locale("en").territories
    return {code: territories.get(code) or english[code] for code in country_codes()}


@dataclass(frozen=True)
class Region:
    code: str
    level: int
    country: str
    name: str


@cache
def nuts_regions() -> tuple[Region, ...]:
    with NUTS_FILE.open(encoding="utf-8", newline="") as handle:
        return tuple(
            Region(row["code"], int(row["level"]), row["country"], row["name"])
            for row in csv.DictReader(handle)
        )


def regions_at(level: int, country: str | None = None) -> tuple[Region, ...]:
    return tuple(
        region
        for region in nuts_regions()
        if region.level == level and (country is None or region.country == country)
    )


@cache
def region_names() -> dict[str, str]:
    return {region.code: region.name for region in nuts_regions()}
