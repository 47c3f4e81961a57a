"""Small deterministic customer populations for the matcher's tests.

:func:`population` draws distinct Danish-looking customers (companies and persons) and a
duplicate for some of them with the usual damage (a typo, a missing CVR, another phone), so EM has
both classes to learn from; tests then append the planted records they are about.
"""

from __future__ import annotations

import random
from typing import Any

import polars as pl

COLUMNS: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "source_row": pl.Int64(),
    "customer_type": pl.String(),
    "name": pl.String(),
    "legal_form": pl.String(),
    "name_key": pl.String(),
    "first_name_key": pl.String(),
    "last_name_key": pl.String(),
    "raw_name": pl.String(),
    "raw_first_name": pl.String(),
    "raw_last_name": pl.String(),
    "street_key": pl.String(),
    "house_number": pl.String(),
    "floor": pl.String(),
    "door": pl.String(),
    "postal_code": pl.String(),
    "country": pl.String(),
    "city": pl.String(),
    "raw_city": pl.String(),
    "raw_address": pl.String(),
    "phone_e164": pl.String(),
    "phone_numbers": pl.List(pl.String()),
    "email": pl.String(),
    "cvr": pl.String(),
    "ean": pl.String(),
    "date_of_birth": pl.String(),
    "entity_id": pl.String(),
}

FIRST = [
    "jens", "anne", "peter", "mette", "lars", "hanne", "soeren", "kirsten", "niels", "karen",
    "michael", "susanne", "henrik", "lene", "thomas", "pia", "jan", "bente", "morten", "camilla",
    "rasmus", "ida", "frederik", "sofie", "mads", "emma", "kasper", "julie", "anders", "louise",
]  # fmt: skip
LAST = [
    "hansen", "jensen", "nielsen", "pedersen", "andersen", "christensen", "larsen", "soerensen",
    "rasmussen", "joergensen", "petersen", "madsen", "kristensen", "olsen", "thomsen",
    "christiansen", "poulsen", "johansen", "moeller", "mortensen", "vindelev", "birkedal",
    "skovgaard", "lindholm", "norgaard", "dahlgaard", "overgaard", "kjaergaard", "bundgaard",
]  # fmt: skip
TRADE = [
    "byg", "vvs", "el", "malerfirma", "toemrer", "revision", "transport", "data", "reklame",
    "blomster", "bageri", "auto", "tag", "kloak", "rengoering", "ejendomme", "consult", "design",
]  # fmt: skip
PREFIX = [
    "nordic", "aarhus", "fyns", "jysk", "sjaellands", "vest", "oest", "midt", "dansk", "nord",
    "syd", "kyst", "skov", "fjord", "havne", "city", "land", "by", "bakke", "sol",
]  # fmt: skip
STREETS = [
    "vestergade", "oestergade", "noerregade", "soendergade", "algade", "jernbanegade", "skolevej",
    "kirkevej", "moellevej", "parkvej", "strandvejen", "bakkevej", "egevej", "birkevej",
    "lindevej", "rosenvej", "industrivej", "fabriksvej", "havnegade", "torvet", "engvej",
    "skovvej", "markvej", "grusgraven", "kongevejen", "hovedgaden", "stationsvej", "tingvej",
]  # fmt: skip
POSTAL = ["8000", "8200", "8210", "5000", "2100", "2200", "9000", "7100", "6000", "4000", "3400"]


def _cvr(rng: random.Random) -> str:
    weights = (2, 7, 6, 5, 4, 3, 2)
    while True:
        body = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        check = (-sum(w * d for w, d in zip(weights, body, strict=True))) % 11
        if check < 10:
            return "".join(map(str, body)) + str(check)


def birth(rng: random.Random) -> str:
    return f"{rng.randint(1930, 1999)}-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text))
    return text[:i] + rng.choice("aeiountr") + text[i + 1 :]


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows (missing keys null) as a matcher input frame, numbered in order."""
    full = [{c: row.get(c) for c in COLUMNS} for row in rows]
    out = pl.DataFrame(full, schema=COLUMNS)
    return out.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"),
        pl.coalesce("record_id", pl.format("R{}", pl.int_range(1, pl.len() + 1))).alias(
            "record_id"
        ),
    )


def population_rows(entities: int = 240, *, seed: int = 7) -> list[dict[str, Any]]:
    """Distinct customers, a third persons, and a damaged duplicate of every fourth one."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    used_names: set[str] = set()
    for e in range(entities):
        street = rng.choice(STREETS)
        base: dict[str, Any] = {
            "entity_id": f"E{e:04d}",
            "street_key": street,
            "house_number": str(rng.randint(1, 180)),
            "postal_code": rng.choice(POSTAL),
            "phone_e164": f"+45{rng.randint(20_000_000, 99_999_999)}",
        }
        if e % 3 == 0:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            base |= {
                "customer_type": "person",
                "first_name_key": first,
                "last_name_key": last,
                "email": f"{first}.{last}{rng.randint(1, 999)}@gmail.com",
                "date_of_birth": birth(rng),
            }
        else:
            while True:
                name = f"{rng.choice(PREFIX)} {rng.choice(TRADE)}"
                if name not in used_names:
                    used_names.add(name)
                    break
            domain = name.replace(" ", "-") + ".dk"
            base |= {
                "customer_type": "company",
                "name_key": name,
                "email": f"info@{domain}",
                "cvr": _cvr(rng),
            }
        rows.append(base)
        if e % 4 == 0:
            dup = dict(base)
            if dup["customer_type"] == "person":
                dup["last_name_key"] = _typo(rng, dup["last_name_key"])
                dup["phone_e164"] = None
            else:
                dup["name_key"] = _typo(rng, dup["name_key"])
                dup["cvr"] = None
                dup["email"] = "kontakt@" + dup["email"].split("@")[1]
            rows.append(dup)
    return rows


def population(entities: int = 240, *, seed: int = 7) -> pl.DataFrame:
    return frame(population_rows(entities, seed=seed))
