"""A CRM's contact export made from the Danish generator: one row per person at a customer.

HubSpot's, Salesforce's and Dynamics' contact exports give each contact's first and last name
beside the company's name; a company's contacts share its name, address, switchboard and often its
``info@`` mailbox. Each company of :func:`bench.generate.generate` gets one to three contacts
(half, 30 %, 20 %), each of its rows is one of them, and half the contacts have their own mailbox
at the company's domain; one first name in twenty is mistyped (two letters swapped). Private
customers are rows of their own, their name split into first and last name, no company. The truth
is the contact: two rows of one company with different contacts are two records.
"""

from __future__ import annotations

import random

import polars as pl

from bench.generate import generate

COLUMNS = ("Kundenr", "First Name", "Last Name", "Company Name", "Adresse", "Postnr", "By",
           "Land", "CVR-nr", "EAN-nr", "E-mail", "Telefon")  # fmt: skip


def contact_export(rows: int, seed: int) -> tuple[pl.DataFrame, pl.Series]:
    """The export (text columns, :data:`COLUMNS`) and each row's true contact, in row order."""
    rng = random.Random(seed)
    data = generate(rows, seed=seed)
    truth = data.truth.select("record_id", "entity_id", "true_customer_type", "true_name")
    joined = data.customers.join(
        truth, left_on="Kundenr", right_on="record_id", maintain_order="left"
    )
    persons = joined.filter(pl.col("true_customer_type") == "person")["true_name"].drop_nulls()
    split = [name.split(" ") for name in persons.to_list() if " " in name]
    firsts, lasts = [words[0] for words in split], [words[-1] for words in split]
    contacts: dict[str, list[tuple[str, str, bool]]] = {}
    out, labels = [], []
    for row in joined.iter_rows(named=True):
        entity = row["entity_id"]
        if row["true_customer_type"] == "person":
            first, last = _person_parts(row["Navn"] or "")
            out.append({**row, "First Name": first, "Last Name": last, "Company Name": None})
            labels.append(entity)
            continue
        if entity not in contacts:
            count = rng.choices([1, 2, 3], [0.5, 0.3, 0.2])[0]
            contacts[entity] = [
                (rng.choice(firsts), rng.choice(lasts), rng.random() < 0.5) for _ in range(count)
            ]
        which = rng.randrange(len(contacts[entity]))
        first, last, own_mailbox = contacts[entity][which]
        if rng.random() < 0.05 and len(first) > 3:
            at = rng.randrange(1, len(first) - 2)
            first = first[:at] + first[at + 1] + first[at] + first[at + 2 :]
        email = row["E-mail"]
        if own_mailbox and email and "@" in email:
            email = f"{first.lower()}@{email.split('@', 1)[1]}"
        out.append({**row, "E-mail": email, "First Name": first, "Last Name": last,
                    "Company Name": row["Navn"]})  # fmt: skip
        labels.append(f"{entity}/{which}")
    frame = pl.DataFrame(out).select(pl.col(c).cast(pl.String) for c in COLUMNS)
    return frame, pl.Series("entity", labels)


def _person_parts(name: str) -> tuple[str, str]:
    """A private customer's name as the generator wrote it (``Hansen, Jens`` or ``Jens Hansen``)
    in two columns."""
    name = name.strip()
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return first, last
    if " " in name:
        first, last = name.rsplit(" ", 1)
        return first, last
    return name, ""
