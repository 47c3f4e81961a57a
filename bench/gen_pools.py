"""Value pools the generator samples from: Danish names, streets, postal codes, company words and
public bodies.

Pools are built once per process (Faker ``da_DK`` lists plus hand-written Danish vocabulary) and
sampled with vectorised draws; Faker is never called per row. Every pool is a tuple in a fixed
order so that the same seed gives the same data on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl
from faker.providers.address.da_DK import Provider as _DkAddress
from faker.providers.person.da_DK import Provider as _DkPerson

from datavask.cleansing.reference import load_reference

# Trade words that follow a name: "Hansen Byg", "Nordjysk Ventilation". No acronyms (VVS, IT):
# a perfect normaliser could not restore their case from an ALL-CAPS input, so the truth would
# be ambiguous.
TRADES = (
    "Byg",
    "Tømrer",
    "Murer",
    "Maler",
    "Entreprise",
    "Ejendomme",
    "Transport",
    "Auto",
    "Rengøring",
    "Consult",
    "Rådgivning",
    "Revision",
    "Invest",
    "Design",
    "Arkitekter",
    "Advokater",
    "Gartneri",
    "Smedie",
    "Elektrik",
    "Installation",
    "Ventilation",
    "Kloakservice",
    "Tagdækning",
    "Anlæg",
    "Handel",
    "Import",
    "Engros",
    "Trading",
    "Marketing",
    "Medie",
    "Catering",
    "Bageri",
    "Frisør",
    "Tandklinik",
    "Fysioterapi",
    "Automation",
    "Maskinfabrik",
    "Landbrug",
    "Biler",
    "Vinduer",
    "Køkkener",
    "Gulve",
    "Logistik",
    "Software",
    "Energi",
    "Service",
    "Montage",
    "Blik",
    "Glas",
    "Beton",
)

# Nouns that follow a genitive owner name: "Hansens Tømrerforretning".
TRADE_NOUNS = (
    "Tømrerforretning",
    "Malerfirma",
    "Murerforretning",
    "Vognmandsforretning",
    "Autoværksted",
    "Blomster",
    "Bageri",
    "Cykler",
    "Maskinstation",
    "Rengøring",
    "Tegnestue",
    "Isenkram",
    "Revisionskontor",
    "Slagterforretning",
    "Entreprenørforretning",
    "Frisørsalon",
    "Smedeforretning",
    "Køreskole",
    "Gartneri",
    "Anlægsgartner",
)

REGIONS = (
    "Nordjysk",
    "Vestjysk",
    "Østjysk",
    "Sønderjysk",
    "Midtjysk",
    "Sjællands",
    "Fyns",
    "Dansk",
    "Nordisk",
    "Skandinavisk",
    "Københavns",
    "Aarhus",
    "Odense",
    "Aalborg",
    "Esbjerg",
    "Vejle",
    "Herning",
    "Kolding",
    "Randers",
    "Horsens",
    "Himmerlands",
    "Djurslands",
    "Thy",
    "Bornholms",
    "Lolland",
    "Amager",
    "Nordsjællands",
)

FANTASY = (
    "Nordlys",
    "Kompas",
    "Fyrtårn",
    "Havblik",
    "Egetræ",
    "Solsikke",
    "Bølge",
    "Anker",
    "Lyngbakken",
    "Granly",
    "Bøgely",
    "Klitgaard",
    "Skovly",
    "Fjordblik",
    "Stjerne",
    "Ravn",
    "Falk",
    "Ørn",
    "Løvspring",
    "Kastanje",
    "Mølle",
    "Engblomst",
    "Hedelyng",
    "Strandeng",
    "Vindrose",
    "Solbjerg",
    "Kildevæld",
    "Tusindfryd",
    "Birkely",
    "Nordstjernen",
)

KOMMUNER = (
    "Albertslund",
    "Allerød",
    "Assens",
    "Ballerup",
    "Billund",
    "Brøndby",
    "Brønderslev",
    "Dragør",
    "Egedal",
    "Esbjerg",
    "Fanø",
    "Favrskov",
    "Faxe",
    "Fredensborg",
    "Fredericia",
    "Frederiksberg",
    "Frederikshavn",
    "Frederikssund",
    "Furesø",
    "Faaborg-Midtfyn",
    "Gentofte",
    "Gladsaxe",
    "Glostrup",
    "Greve",
    "Gribskov",
    "Guldborgsund",
    "Haderslev",
    "Halsnæs",
    "Hedensted",
    "Helsingør",
    "Herlev",
    "Herning",
    "Hillerød",
    "Hjørring",
    "Holbæk",
    "Holstebro",
    "Horsens",
    "Hvidovre",
    "Høje-Taastrup",
    "Hørsholm",
    "Ikast-Brande",
    "Ishøj",
    "Jammerbugt",
    "Kalundborg",
    "Kerteminde",
    "Kolding",
    "Københavns",
    "Køge",
    "Langeland",
    "Lejre",
    "Lemvig",
    "Lolland",
    "Lyngby-Taarbæk",
    "Læsø",
    "Mariagerfjord",
    "Middelfart",
    "Morsø",
    "Norddjurs",
    "Nordfyns",
    "Nyborg",
    "Næstved",
    "Odder",
    "Odense",
    "Odsherred",
    "Randers",
    "Rebild",
    "Ringkøbing-Skjern",
    "Ringsted",
    "Roskilde",
    "Rudersdal",
    "Rødovre",
    "Samsø",
    "Silkeborg",
    "Skanderborg",
    "Skive",
    "Slagelse",
    "Solrød",
    "Sorø",
    "Stevns",
    "Struer",
    "Svendborg",
    "Syddjurs",
    "Sønderborg",
    "Thisted",
    "Tønder",
    "Tårnby",
    "Vallensbæk",
    "Varde",
    "Vejen",
    "Vejle",
    "Vesthimmerlands",
    "Viborg",
    "Vordingborg",
    "Ærø",
    "Aabenraa",
    "Aalborg",
    "Aarhus",
)

REGIONER = (
    "Region Hovedstaden",
    "Region Sjælland",
    "Region Syddanmark",
    "Region Midtjylland",
    "Region Nordjylland",
)

# State bodies (virksomhedsform 230). Danish particles (for, og) stay lower case in the truth.
STYRELSER = (
    "Skattestyrelsen",
    "Vejdirektoratet",
    "Energistyrelsen",
    "Miljøstyrelsen",
    "Sundhedsstyrelsen",
    "Erhvervsstyrelsen",
    "Naturstyrelsen",
    "Kystdirektoratet",
    "Trafikstyrelsen",
    "Søfartsstyrelsen",
    "Arbejdstilsynet",
    "Fødevarestyrelsen",
    "Lægemiddelstyrelsen",
    "Banedanmark",
    "Rigspolitiet",
    "Kriminalforsorgen",
    "Udlændingestyrelsen",
    "Digitaliseringsstyrelsen",
    "Geodatastyrelsen",
    "Forsvarsministeriet",
    "Styrelsen for Dataforsyning og Infrastruktur",
    "Styrelsen for Arbejdsmarked og Rekruttering",
    "Styrelsen for Patientsikkerhed",
    "Styrelsen for It og Læring",
    "Gældsstyrelsen",
    "Motorstyrelsen",
    "Toldstyrelsen",
    "Vurderingsstyrelsen",
    "Udbetaling Danmark",
    "Statens Serum Institut",
)

INSTITUTION_PREFIXES = (
    "Vester",
    "Øster",
    "Nørre",
    "Søndre",
    "Skov",
    "Bakke",
    "Lind",
    "Hede",
    "Strand",
    "Eng",
    "Rosen",
    "Solhøj",
    "Holme",
    "Birke",
    "Bøge",
    "Ege",
    "Kilde",
    "Mølle",
    "Fjord",
    "Vang",
    "Tved",
    "Hald",
    "Kirke",
    "Slots",
    "Park",
    "Sø",
    "Lunde",
    "Højvang",
    "Grønne",
    "Vold",
)
INSTITUTION_KINDS = (
    ("skolen", 0.45),
    ("børnehaven", 0.15),
    ("plejecentret", 0.12),
    ("biblioteket", 0.08),
    ("hallen", 0.05),
    ("vuggestuen", 0.10),
    ("gården", 0.05),
)

FREE_MAIL = (
    ("gmail.com", 30),
    ("hotmail.com", 18),
    ("live.dk", 8),
    ("outlook.dk", 6),
    ("yahoo.dk", 4),
    ("mail.dk", 6),
    ("jubii.dk", 3),
    ("hotmail.dk", 6),
    ("icloud.com", 6),
    ("stofanet.dk", 2),
    ("youmail.dk", 1),
    ("email.dk", 2),
    ("outlook.com", 6),
    ("sol.dk", 2),
)
COMPANY_MAILBOXES = (
    ("info", 45),
    ("kontakt", 12),
    ("faktura", 12),
    ("bogholderi", 10),
    ("post", 8),
    ("mail", 5),
    ("regnskab", 4),
    ("admin", 4),
)

# Legal forms: canonical abbreviation, ERST virksomhedsformkode, kortBeskrivelse,
# langBeskrivelse, share among companies, and the spellings customers type.
LEGAL_FORMS = {
    "ApS": (
        80,
        "APS",
        "Anpartsselskab",
        0.48,
        ("Aps", "APS", "ApS.", "Anpartsselskab", "aps", "Aps."),
    ),
    "A/S": (60, "A/S", "Aktieselskab", 0.14, ("AS", "A.S.", "A/S.", "Aktieselskab", "a/s", "A.S")),
    "I/S": (30, "I/S", "Interessentskab", 0.05, ("IS", "I/S.", "Interessentskab", "I.S.")),
    "K/S": (40, "K/S", "Kommanditselskab", 0.02, ("KS", "Kommanditselskab", "K.S.")),
    "P/S": (70, "P/S", "Partnerselskab", 0.03, ("PS", "Partnerselskab", "P.S.")),
    "IVS": (81, "IVS", "Iværksætterselskab", 0.04, ("Ivs", "I.V.S.", "Iværksætterselskab")),
    "ENK": (10, "ENK", "Enkeltmandsvirksomhed", 0.24, ()),
}
PUBLIC_FORMS = {
    "KOM": (250, "KOM", "Kommune"),
    "REG": (245, "REG", "Region"),
    "STA": (230, "STA", "Statslig administrativ enhed"),
}

STREET_SUFFIXES = ("gade", "vej", "stræde", " Allé", "parken", "vænget")

COMMON_PERSON_NAMES = (
    ("Jens", "Hansen"),
    ("Anne", "Jensen"),
    ("Peter", "Nielsen"),
    ("Mette", "Pedersen"),
    ("Lars", "Andersen"),
    ("Hanne", "Larsen"),
    ("Michael", "Christensen"),
    ("Susanne", "Sørensen"),
)

# Danish mobile and landline number ranges that phonenumbers accepts (third digit 1-9).
MOBILE_PREFIXES = (
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
    "26",
    "27",
    "28",
    "29",
    "30",
    "31",
    "40",
    "41",
    "42",
    "50",
    "51",
    "52",
    "53",
    "60",
    "61",
    "71",
    "81",
    "91",
    "92",
    "93",
)
LANDLINE_PREFIXES = (
    "32",
    "33",
    "35",
    "36",
    "38",
    "39",
    "43",
    "44",
    "45",
    "46",
    "47",
    "48",
    "49",
    "54",
    "55",
    "56",
    "57",
    "58",
    "59",
    "62",
    "63",
    "64",
    "65",
    "66",
    "69",
    "70",
    "72",
    "73",
    "74",
    "75",
    "76",
    "86",
    "87",
    "88",
    "89",
    "96",
    "97",
    "98",
    "99",
)
# (country calling code, national prefix, number of further digits): Greenland, Faroe Islands,
# Sweden, Norway, Germany.
FOREIGN_PHONES = (
    ("299", "55", 4),
    ("299", "32", 4),
    ("298", "21", 4),
    ("46", "70", 7),
    ("47", "41", 6),
    ("49", "151", 8),
)


@dataclass(frozen=True)
class Pools:
    """Every pool as a polars Series, ready for :meth:`bench.gen_random.Rng.choice`."""

    first_male: pl.Series
    first_female: pl.Series
    last: pl.Series
    streets: pl.Series
    postal_codes: pl.Series
    postal_weights_cum: pl.Series
    postal_names: dict[str, str]
    unknown_postal_codes: pl.Series


def _series(values: tuple[str, ...] | list[str]) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String)


@cache
def pools() -> Pools:
    """Build the pools once: Faker's da_DK lists, the official postal codes."""
    stems = sorted({s for s in _DkAddress.street_names if s.replace(" ", "").isalpha()})
    streets = [stem + suffix for stem in stems for suffix in STREET_SUFFIXES]
    postal = load_reference("dk_postal_codes")
    ordinary = postal.filter(pl.col("large_recipient") != "true").sort("postal_code")
    codes = ordinary["postal_code"]
    # Copenhagen's 1000-1999 codes are mostly single-street codes; weight them down so that the
    # sample does not put a third of Denmark in København K and V.
    weights = pl.Series(
        [0.12 if code < "2000" else 1.0 for code in codes.to_list()], dtype=pl.Float64
    )
    cumulative = weights.cum_sum() / weights.sum()
    known = set(postal["postal_code"].to_list())
    unknown = [f"{code:04d}" for code in range(1000, 10000, 7) if f"{code:04d}" not in known]
    return Pools(
        first_male=_series(sorted(set(_DkPerson.first_names_male))),
        first_female=_series(sorted(set(_DkPerson.first_names_female))),
        last=_series(list(dict.fromkeys(_DkPerson.last_names))),
        streets=_series(streets),
        postal_codes=codes,
        postal_weights_cum=cumulative,
        postal_names=dict(zip(postal["postal_code"], postal["name"], strict=True)),
        unknown_postal_codes=_series(unknown),
    )
