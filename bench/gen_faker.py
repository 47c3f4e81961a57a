"""A Danish customer file made with Faker, not with :mod:`bench.generate`: a second opinion.

Every rule of datavask was tried on the project's own generator first; a file made another way
shows what those rules learnt about that generator rather than about customers. Names, streets
and companies come from Faker's ``da_DK`` provider, postal codes and towns from the bundled DAWA
list (no large recipient's own code), phone numbers are valid Danish numbers
(``phonenumbers``), CVR numbers pass the modulus-11 check (``python-stdnum``).

Each customer (35 % companies, a quarter of them without a CVR number) has one record, or two to
four (25 %, 8 %, 2 %). A duplicate may have a typo in its name (30 %), its name last name first
(10 %) or as an initial (8 %), its legal form written out or dropped (a third of the companies'),
its name in capitals, a new address (12 %: moved), a new or no phone (20 %), no e-mail or one in
capitals (25 %), no postal code (10 %), ``Kbh.`` for København, and an address written in one of
several ways (street abbreviations, typos, capitals, floor and door in four spellings). One
private customer in ten lives with a relative of the same last name at the same address (another
first name, a shared landline a third of the time, an e-mail of their own): a household, two
customers. The truth is the customer.

:func:`mixed_customers` adds customers abroad (:func:`foreign_customers`: Faker's Swedish,
Norwegian, German and British names, streets, postal codes, towns and phones, the country
column blank a quarter of the time), as a Danish CRM holds them.
"""

from __future__ import annotations

import random
from typing import Final

import phonenumbers
import polars as pl
from faker import Faker
from stdnum.dk import cvr as cvr_number

from datavask.cleansing.reference import load_reference

COLUMNS = ("Kundenr", "Navn", "Adresse", "Postnr", "By", "Land", "CVR-nr", "EAN-nr", "E-mail",
           "Telefon")  # fmt: skip
_FOLD = str.maketrans({"ø": "oe", "æ": "ae", "å": "aa", " ": ""})


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        Faker.seed(seed)
        self.fake = Faker("da_DK")
        codes = load_reference("dk_postal_codes").filter(pl.col("large_recipient") != "true")
        self.places = list(zip(codes["postal_code"], codes["name"], strict=True))

    def phone(self) -> str:
        while True:
            digits = str(self.rnd.randint(20000000, 99999999))
            if phonenumbers.is_valid_number(phonenumbers.parse("+45" + digits)):
                return digits

    def cvr(self) -> str:
        while True:
            body = str(self.rnd.randint(1000000, 9999999))
            for check in "0123456789":
                if cvr_number.is_valid(body + check):
                    return body + check

    def typo(self, text: str) -> str:
        if len(text) < 4:
            return text
        i, kind = self.rnd.randrange(1, len(text) - 1), self.rnd.random()
        if kind < 0.25:
            return text[:i] + text[i + 1 :]
        if kind < 0.5:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if kind < 0.75:
            return text[:i] + self.rnd.choice("aeiouynrstlk") + text[i + 1 :]
        return text[:i] + text[i] + text[i:]

    def phone_written(self, digits: str) -> str:
        kind = self.rnd.random()
        if kind < 0.25:
            return f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
        if kind < 0.45:
            return "+45" + digits
        if kind < 0.6:
            return "+45 " + digits
        if kind < 0.7:
            return f"0045 {digits[:4]} {digits[4:]}"
        if kind < 0.8:
            return f"{digits[:4]} {digits[4:]}"
        return digits

    def address_written(self, street: str, number: str, unit: tuple[int, str] | None) -> str:
        if self.rnd.random() < 0.3:
            for full, short in (("vej", "vj."), ("gade", "g."), ("Allé", "Alle"),
                                ("stræde", "str."), ("plads", "pl.")):  # fmt: skip
                if street.endswith(full):
                    street = street[: -len(full)] + short
                    break
        if self.rnd.random() < 0.15:
            street = self.typo(street)
        if self.rnd.random() < 0.1:
            street = street.upper()
        line = f"{street} {number}"
        if unit:
            floor, door = unit
            line += self.rnd.choice(
                [
                    f", {floor}. {door}",
                    f" {floor}.{door}",
                    f", {floor} {door}",
                    f" {floor}. {door}.",
                ]
            )
        return line


def faker_customers(customers: int, seed: int) -> tuple[pl.DataFrame, pl.Series]:
    """The file (text columns, :data:`COLUMNS`) and each row's true customer, in row order."""
    make = _Maker(seed)
    rnd, fake = make.rnd, make.fake
    rows: list[dict[str, str]] = []
    truth: list[str] = []

    def add(entity: str, **fields: str) -> None:
        rows.append({"Kundenr": f"K{len(rows) + 1:06d}", "Land": "", "EAN-nr": "", **fields})
        truth.append(entity)

    for customer in range(customers):
        company = rnd.random() < 0.35
        code, city = rnd.choice(make.places)
        street, number = fake.street_name(), str(rnd.randint(1, 150))
        if rnd.random() < 0.05:
            number += rnd.choice("ABC")
        unit = (
            (rnd.randint(1, 5), rnd.choice(["th", "tv", "mf"]))
            if not company and (rnd.random() < 0.3)
            else None
        )
        phone = make.phone()
        first = last = ""
        if company:
            name = fake.company()
            cvr = make.cvr() if rnd.random() < 0.75 else ""
            domain = (
                name.split()[0].lower().translate(_FOLD)
                + rnd.choice(["", "-", "byg", "-as", "gruppen", "-vvs", "el", "-handel"])
                + f"{rnd.randint(1, 999)}.dk"
            )
            email = rnd.choice(["info", "kontakt", "faktura", "mail"]) + "@" + domain
        else:
            first, last = fake.first_name(), fake.last_name()
            name = f"{first} {last}"
            if rnd.random() < 0.2:
                name = f"{first} {fake.first_name()} {last}"
            cvr = ""
            email = (
                f"{first.lower()}.{last.lower()}{rnd.randint(1, 999)}@"
                + rnd.choice(["gmail.com", "hotmail.com", "mail.dk", "yahoo.dk"])
            ).translate(_FOLD)
        records = 1
        draw = rnd.random()
        if draw < 0.25:
            records = 2
        if draw < 0.08:
            records = 3
        if draw < 0.02:
            records = 4
        for duplicate in range(records):
            v = {"name": name, "street": street, "number": number, "unit": unit, "code": code,
                 "city": city, "phone": phone, "email": email, "cvr": cvr}  # fmt: skip
            if duplicate:
                if rnd.random() < 0.3:
                    v["name"] = make.typo(v["name"])
                if not company and rnd.random() < 0.1:
                    v["name"] = f"{last}, {first}"
                if not company and rnd.random() < 0.08:
                    v["name"] = f"{first[0]}. {last}"
                if company and rnd.random() < 0.3:
                    v["name"] = (
                        v["name"]
                        .replace("ApS", rnd.choice(["Aps", "APS", "Anpartsselskab", ""]))
                        .replace("A/S", rnd.choice(["AS", "A/S", "Aktieselskab"]))
                        .strip()
                    )
                if rnd.random() < 0.1:
                    v["name"] = v["name"].upper()
                if rnd.random() < 0.12:  # moved
                    v["code"], v["city"] = rnd.choice(make.places)
                    v["street"], v["number"], v["unit"] = (
                        fake.street_name(), str(rnd.randint(1, 150)), None
                    )  # fmt: skip
                if rnd.random() < 0.2:
                    v["phone"] = "" if rnd.random() < 0.5 else make.phone()
                if rnd.random() < 0.25:
                    v["email"] = "" if rnd.random() < 0.6 else v["email"].upper()
                if rnd.random() < 0.1:
                    v["code"] = ""
                if rnd.random() < 0.1 and v["city"].startswith("København"):
                    v["city"] = v["city"].replace("København", "Kbh.")
                if company and v["cvr"] and rnd.random() < 0.2:
                    v["cvr"] = ""
            add(
                str(customer),
                Navn=v["name"],
                Adresse=make.address_written(v["street"], v["number"], v["unit"]),
                Postnr=v["code"],
                By=v["city"],
                Telefon=make.phone_written(v["phone"]) if v["phone"] else "",
                **{"E-mail": v["email"], "CVR-nr": v["cvr"]},
            )
        if not company and rnd.random() < 0.1:  # a relative at the same address
            other = fake.first_name()
            add(
                f"{customer}-relative",
                Navn=f"{other} {last}",
                Adresse=make.address_written(street, number, unit),
                Postnr=code,
                By=city,
                Telefon=make.phone_written(phone) if rnd.random() < 0.3 else "",
                **{
                    "E-mail": f"{other.lower()}{rnd.randint(1, 99)}@gmail.com".translate(_FOLD),
                    "CVR-nr": "",
                },
            )
    order = list(range(len(rows)))
    rnd.shuffle(order)
    frame = pl.DataFrame([rows[i] for i in order], schema=dict.fromkeys(COLUMNS, pl.String))
    return frame, pl.Series("entity", [truth[i] for i in order], dtype=pl.String)


# Faker's locales of the customers a Danish business has abroad, with the ways a Danish CRM
# writes their country (blank a quarter of the time: the column was never filled in).
_ABROAD: Final = {
    "SE": ("sv_SE", ("Sverige", "SE", "Sweden", "")),
    "NO": ("no_NO", ("Norge", "NO", "Norway", "")),
    "DE": ("de_DE", ("Tyskland", "DE", "Deutschland", "")),
    "GB": ("en_GB", ("Storbritannien", "GB", "UK", "")),
}


def _e164(fake: Faker, region: str) -> str:
    """A valid number of ``region`` from Faker's own phone formats, or ``""``."""
    for _ in range(50):
        try:
            number = phonenumbers.parse(fake.phone_number(), region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _written(rnd: random.Random, e164: str) -> str:
    """A number as a CRM holds it: international, national (no country code), E.164 or 00."""
    number, draw = phonenumbers.parse(e164), rnd.random()
    if draw < 0.4:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if draw < 0.7:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return e164 if draw < 0.85 else "00" + e164[1:]


def foreign_customers(customers: int, seed: int) -> tuple[pl.DataFrame, pl.Series]:
    """Swedish, Norwegian, German and British customers (Faker's own names, streets, postal
    codes, towns, phones and companies) as a Danish CRM holds them, in :data:`COLUMNS`: a
    third have a second record (a tenth a third) with a typo or capitals in the name, a typo in
    the street, another way of writing the phone or none, the e-mail in capitals or none, a
    Swedish code without its space, a British one in small letters. The truth is the customer
    (``F<n>``)."""
    rnd = random.Random(seed)
    Faker.seed(seed)
    fakes = {country: Faker(locale) for country, (locale, _) in _ABROAD.items()}
    make = _Maker(seed)
    rows: list[dict[str, str]] = []
    truth: list[str] = []
    for customer in range(customers):
        country = rnd.choice(list(_ABROAD))
        fake, written_country = fakes[country], _ABROAD[country][1]
        company = rnd.random() < 0.35
        name = fake.company() if company else fake.name()
        street, code, city = fake.street_address(), fake.postcode(), fake.city()
        phone = _e164(fake, country)
        email = (
            f"info@{fake.domain_name()}"
            if company
            else f"{fake.user_name()}@{fake.free_email_domain()}"
        )
        records = 1 + (rnd.random() < 0.35) + (rnd.random() < 0.1)
        for duplicate in range(records):
            v = {"name": name, "street": street, "code": code, "city": city, "email": email,
                 "phone": _written(rnd, phone) if phone else ""}  # fmt: skip
            if duplicate:
                draw = rnd.random()
                if draw < 0.3:
                    v["name"] = make.typo(v["name"])
                elif draw < 0.4:
                    v["name"] = v["name"].upper()
                if rnd.random() < 0.2:
                    v["street"] = make.typo(v["street"])
                if rnd.random() < 0.2:
                    v["email"] = v["email"].upper() if rnd.random() < 0.5 else ""
                if rnd.random() < 0.15:
                    v["phone"] = ""
                if country == "SE" and rnd.random() < 0.5:
                    v["code"] = v["code"].replace(" ", "")
                if country == "GB" and rnd.random() < 0.5:
                    v["code"] = v["code"].lower()
            rows.append(
                {"Kundenr": f"F{len(rows) + 1:06d}", "Navn": v["name"], "Adresse": v["street"],
                 "Postnr": v["code"], "By": v["city"], "Land": rnd.choice(written_country),
                 "CVR-nr": "", "EAN-nr": "", "E-mail": v["email"], "Telefon": v["phone"]}
            )  # fmt: skip
            truth.append(f"F{customer}")
    return (
        pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String)),
        pl.Series("entity", truth, dtype=pl.String),
    )


def mixed_customers(danish: int, abroad: int, seed: int) -> tuple[pl.DataFrame, pl.Series]:
    """A Danish CRM with customers abroad: :func:`faker_customers` and :func:`foreign_customers`
    in one file, shuffled."""
    home, home_truth = faker_customers(danish, seed)
    away, away_truth = foreign_customers(abroad, seed + 1)
    frame = pl.concat([home, away]).with_columns(pl.Series("entity", [*home_truth, *away_truth]))
    frame = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    return frame.drop("entity"), frame["entity"]
