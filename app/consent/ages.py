"""Age of digital consent per EU/EEA state (GDPR Article 8).

When consent is the legal basis and an information society service (such as an
online survey) is offered directly to a child, Article 8(1) GDPR makes the
child's own consent valid only from age 16. Each member state may lower that
age by law, but not below 13. The age therefore depends on the country, and
below it consent must be given or authorised by the holder of parental
responsibility. This table records the age each state set, so the platform can
decide whether a participant needs a parent or guardian to consent.

Where a state set no lower age, the GDPR default of 16 applies. Where a lower
age could not be confirmed, the table also says 16: asking for a guardian's
consent when it is not needed is safe; not asking when it is needed is not.

Date of the information: the table reflects national law as of November 2026
(the latest change it includes is Slovenia's ZVOP-2, in force 26 January 2023).
It was compiled from the sources in ``SOURCE`` and is not legal advice. Review
it when a national law changes (Ireland's Data Protection Act 2018, for one,
provides for a review of its age) and whenever the platform is opened to a new
country.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_AGE = 16
"""The Article 8(1) GDPR age, used for unknown countries and unconfirmed values."""

UNCONFIRMED = "GDPR Art. 8(1) default (no lower age confirmed)"

SOURCE = (
    "European Commission, Staff Working Document SWD(2020) 115 final accompanying "
    "COM(2020) 264 on two years of GDPR application, 24 June 2020, p. 17 (26 EU states; "
    "Slovenia then had no implementing act); Slovenia: ZVOP-2, Uradni list RS 163/2022, "
    "in force 26 January 2023; Norway, Iceland, Liechtenstein: the national acts cited. "
    "Compiled November 2026."
)


@dataclass(frozen=True)
class ConsentAge:
    """The age from which a child may consent alone, and the provision that sets it."""

    country: str  # ISO 3166-1 alpha-2 (Greece = GR)
    age: int  # 13..16
    law: str  # the national provision that sets the age, or why the default applies


def _no_derogation(act: str) -> str:
    return f"GDPR Art. 8(1) default; no lower age set ({act})"


_TABLE = (
    # EU member states
    ConsentAge("AT", 14, "Datenschutzgesetz (DSG), § 4(4)"),
    ConsentAge("BE", 13, "Law of 30 July 2018 on the protection of personal data, Art. 7"),
    ConsentAge("BG", 14, "Personal Data Protection Act (ZZLD), Art. 25c (amended 2019)"),
    ConsentAge("CY", 14, "Law 125(I)/2018 on the protection of personal data, s. 8"),
    ConsentAge("CZ", 15, "Act No. 110/2019 Coll. on the processing of personal data, § 7"),
    ConsentAge("DE", 16, _no_derogation("Bundesdatenschutzgesetz 2018")),
    ConsentAge("DK", 13, "Databeskyttelsesloven (Act No. 502 of 23 May 2018), § 6"),
    ConsentAge("EE", 13, "Isikuandmete kaitse seadus (Personal Data Protection Act 2018), § 8"),
    ConsentAge("ES", 14, "Ley Orgánica 3/2018 (LOPDGDD), art. 7"),
    ConsentAge("FI", 13, "Tietosuojalaki (Data Protection Act 1050/2018), § 5"),
    ConsentAge("FR", 15, "Loi n° 78-17 du 6 janvier 1978 (Informatique et Libertés), art. 45"),
    ConsentAge("GR", 15, "Law 4624/2019, Art. 21"),
    ConsentAge("HR", 16, "Act on the Implementation of the GDPR (NN 42/2018), Art. 19"),
    ConsentAge("HU", 16, _no_derogation("Act CXII of 2011, Infotv.")),
    ConsentAge("IE", 16, "Data Protection Act 2018, s. 31"),
    ConsentAge("IT", 14, "Codice in materia di protezione dei dati personali, art. 2-quinquies"),
    ConsentAge("LT", 14, "Law on Legal Protection of Personal Data (as amended 2018), Art. 6"),
    ConsentAge("LU", 16, _no_derogation("Law of 1 August 2018")),
    ConsentAge("LV", 13, "Personal Data Processing Law (2018), Section 33"),
    ConsentAge(
        "MT",
        13,
        "Processing of Child's Personal Data in relation to the Offer of Information "
        "Society Services Regulations 2018 (under the Data Protection Act, Cap. 586)",
    ),
    ConsentAge("NL", 16, "Uitvoeringswet Algemene verordening gegevensbescherming (UAVG), art. 5"),
    ConsentAge("PL", 16, _no_derogation("Act of 10 May 2018 on the protection of personal data")),
    ConsentAge("PT", 13, "Lei n.º 58/2019, art. 16"),
    ConsentAge("RO", 16, _no_derogation("Law 190/2018")),
    ConsentAge(
        "SE",
        13,
        "Lag (2018:218) med kompletterande bestämmelser till EU:s dataskyddsförordning, 2 kap. 4 §",
    ),
    ConsentAge("SI", 15, "Zakon o varstvu osebnih podatkov (ZVOP-2), Art. 8"),
    ConsentAge("SK", 16, "Act No. 18/2018 Coll. on personal data protection, § 15"),
    # EEA states outside the EU
    ConsentAge(
        "IS", 13, "Act No. 90/2018 on Data Protection and the Processing of Personal Data, Art. 10"
    ),
    ConsentAge("LI", 16, UNCONFIRMED),
    ConsentAge("NO", 13, "Personopplysningsloven (LOV-2018-06-15-38), § 5"),
)

DIGITAL_CONSENT_AGES: dict[str, ConsentAge] = {entry.country: entry for entry in _TABLE}

# The EU institutions write Greece as EL; ISO 3166-1 (and this table) use GR.
_ALIASES = {"EL": "GR"}


def digital_consent_age(country: str | None) -> int:
    """The age from which a child in `country` may consent alone; 16 when unknown."""
    if not country:
        return DEFAULT_AGE
    code = country.strip().upper()
    entry = DIGITAL_CONSENT_AGES.get(_ALIASES.get(code, code))
    return entry.age if entry else DEFAULT_AGE


def needs_guardian(age: int, country: str | None) -> bool:
    """Whether a participant of `age` needs a parent's or guardian's consent."""
    return age < digital_consent_age(country)
