"""Synthetic Danish customer master data with complete ground truth.

``generate(n_rows, seed)`` returns a :class:`Dataset`: the CRM export exactly as a user would have
it (every column text, headers in one of several CRM dialects), a truth table with one row per
customer row (entity, planted scenarios, expected reason codes, the clean values a perfect
normaliser outputs) and the ERST registry documents for the companies in it.

The same ``(n_rows, seed, dialect)`` always gives byte-identical output: every random draw is a
pure function of the seed, a stream name and an index (:mod:`bench.gen_random`).

Truth conventions (what "the clean value a perfect normaliser outputs" means here):

- ``true_*`` values are what can be recovered *from that row*: formatting is undone (case, legal
  form spelling, phone/e-mail/CVR decorations, floor/door spellings, one-line addresses, city
  spellings), content damage is kept (a typo, ae/oe/aa for æ/ø/å, an old address);
- a value that cannot be made valid is null (junk phone, invalid e-mail, mistyped CVR/EAN) and the
  row carries the matching reason code; an unknown postal code is kept, its ``true_city`` is null;
- ``true_name`` is proper case with the canonical legal form (``Hansen Byg ApS``), person names
  ``First [Middle] Last``; sole proprietorships read ``Hansens Malerfirma v/Jens Hansen`` and have
  ``true_legal_form == "ENK"``; public bodies have a null legal form;
- two phones or e-mails in one field: the first is the true value;
- ``expected_flags`` holds the record-level codes only. Cluster- and run-level codes (DUPLICATE,
  NO_CONTACT, REVIEW_MATCH, BLACKLISTED, REGISTRY_UNCHECKED) are left out; DUPLICATE follows from
  ``entity_id``. A typo'd, ALL-CAPS or ae/oe/aa name is *not* a NAME_MISMATCH (it is the same
  legal entity); a name equal to a registry binavn is not either; an INVALID_EAN on a public
  customer does not also raise MISSING_EAN. ``COMPANY_BANKRUPT``, ``COMPANY_DISSOLVED`` and
  ``COMPANY_DISTRESSED`` are the customer's: a duplicate typed without the CVR number has them.

Command line::

    python -m bench.generate --rows 1000000 --seed 1 --out bench/out/1m
"""

from __future__ import annotations

import argparse
import gzip
import io
import resource
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from bench.gen_entities import build_entities, record_counts
from bench.gen_pools import pools
from bench.gen_random import Rng
from bench.gen_records import build_rows
from bench.gen_registry import build_registry

# Header -> column of the rendered rows, per CRM dialect. ``None`` means: not exported.
DIALECTS: dict[str, dict[str, str]] = {
    "danish": {
        "Kundenr": "rid_seq",
        "Navn": "w_name",
        "Adresse": "w_address",
        "Postnr": "w_postal",
        "By": "w_city",
        "Land": "w_country",
        "CVR-nr": "w_cvr",
        "EAN-nr": "w_ean",
        "E-mail": "w_email",
        "Telefon": "w_phone",
    },
    "economic": {
        "customerNumber": "rid_num",
        "name": "w_name",
        "address": "w_address",
        "zip": "w_postal",
        "city": "w_city",
        "country": "w_country",
        "corporateIdentificationNumber": "w_cvr",
        "ean": "w_ean",
        "email": "w_email",
        "telephoneAndFaxNumber": "w_phone",
    },
    "dinero": {
        "ContactGuid": "rid_guid",
        "Name": "w_name",
        "Street": "w_address",
        "ZipCode": "w_postal",
        "City": "w_city",
        "CountryKey": "w_country_code",
        "Phone": "w_phone",
        "Email": "w_email",
        "AttPerson": "w_att_person",
        "VatNumber": "w_cvr",
        "EanNumber": "w_ean",
        "IsPerson": "w_is_person",
        "UpdatedAt": "w_updated_iso",
    },
    "billy": {
        "contactNo": "rid_num",
        "type": "w_type",
        "name": "w_name",
        "street": "w_address",
        "zipcodeText": "w_postal",
        "cityText": "w_city",
        "countryId": "w_country_code",
        "phone": "w_phone",
        "email": "w_email",
        "registrationNo": "w_cvr",
        "ean": "w_ean",
        "createdTime": "w_created_iso",
    },
    "hubspot": {
        "Record ID": "rid_hubspot",
        "First Name": "w_first",
        "Last Name": "w_last",
        "Company Name": "w_company",
        "Email": "w_email",
        "Phone Number": "w_phone",
        "Street Address": "w_address",
        "Postal Code": "w_postal",
        "City": "w_city",
        "Country/Region": "w_country",
        "CVR": "w_cvr",
        "EAN": "w_ean",
        "Last Modified Date": "w_updated_hubspot",
    },
    "salesforce": {
        "Account ID": "rid_salesforce",
        "Account Name": "w_name",
        "First Name": "w_person_first",
        "Last Name": "w_person_last",
        "BillingStreet": "w_address",
        "BillingPostalCode": "w_postal",
        "BillingCity": "w_city",
        "BillingCountry": "w_country",
        "Phone": "w_phone",
        "Email": "w_email",
        "CVR__c": "w_cvr",
        "EAN__c": "w_ean",
        "Last Modified Date": "w_updated_salesforce",
    },
    "english": {
        "Customer ID": "rid_seq",
        "Name": "w_name",
        "Address": "w_address",
        "Postal Code": "w_postal",
        "City": "w_city",
        "Country": "w_country",
        "CVR": "w_cvr",
        "EAN": "w_ean",
        "Email": "w_email",
        "Phone": "w_phone",
        "Last Updated": "w_updated_dk",
    },
}

TRUTH_COLUMNS = {
    "source_row": "source_row",
    "record_id": "record_id",
    "entity_id": "entity_id",
    "scenario": "scenario",
    "expected_flags": "expected_flags",
    "true_name": "t_name",
    "true_legal_form": "t_legal_form",
    "true_street": "t_street",
    "true_house_number": "t_house_number",
    "true_floor": "t_floor",
    "true_door": "t_door",
    "true_postal_code": "t_postal_code",
    "true_city": "t_city",
    "true_phone_e164": "t_phone_e164",
    "true_email": "t_email",
    "true_cvr": "t_cvr",
    "true_ean": "t_ean",
    "true_customer_type": "t_customer_type",
}


@dataclass(frozen=True)
class Dataset:
    """A generated CRM export, its ground truth and the registry documents it is checked against.

    ``registry`` has one row per ERST document, ordered by CVR: ``cvr`` (text) and ``_source``
    (a struct holding ``Vrvirksomhed``), so ``registry.select("_source")`` written as JSON lines
    gives exactly the ``{"_source": {"Vrvirksomhed": {...}}}`` lines of the ERST API.
    """

    customers: pl.DataFrame
    truth: pl.DataFrame
    registry: pl.DataFrame
    dialect: str
    seed: int

    def registry_jsonl(self) -> bytes:
        """The registry as JSON lines (UTF-8), exactly as written to ``registry.jsonl.gz``."""
        return b"".join(self.registry_chunks())

    def registry_chunks(self, rows_per_chunk: int = 50_000) -> Iterator[bytes]:
        """The registry JSON lines in pieces, so a million documents never sit in memory as text."""
        documents = self.registry.select("_source")
        for start in range(0, documents.height, rows_per_chunk):
            buffer = io.BytesIO()
            documents.slice(start, rows_per_chunk).write_ndjson(buffer)
            yield buffer.getvalue()


def _record_ids(rng: Rng, rows: pl.DataFrame) -> pl.DataFrame:
    key = rows["rkey"]
    hi = rng.u64("id.guid_hi", key)
    lo = rng.u64("id.guid_lo", key)

    def hex_of(u: pl.Series, digits: int) -> pl.Series:
        value = u % (16**digits) if digits < 16 else u
        chars = []
        for i in range(digits):
            nibble = (value // (16 ** (digits - 1 - i))) % 16
            chars.append(
                nibble.cast(pl.Int64).replace_strict(
                    dict(enumerate("0123456789abcdef")), return_dtype=pl.String
                )
            )
        return pl.select(pl.concat_str([pl.lit(c) for c in chars])).to_series()

    h = hex_of(hi, 16)
    lo_hex = hex_of(lo, 16)
    guid = pl.select(
        pl.concat_str(
            [
                pl.lit(h).str.slice(0, 8),
                pl.lit("-"),
                pl.lit(h).str.slice(8, 4),
                pl.lit("-4"),
                pl.lit(h).str.slice(13, 3),
                pl.lit("-a"),
                pl.lit(lo_hex).str.slice(0, 3),
                pl.lit("-"),
                pl.lit(lo_hex).str.slice(3, 12),
            ]
        )
    ).to_series()
    base36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = rows["source_row"]
    sf_chars = [
        ((n // (36 ** (7 - i))) % 36).replace_strict(
            dict(enumerate(base36)), return_dtype=pl.String
        )
        for i in range(8)
    ]
    sf = pl.select(
        pl.concat_str([pl.lit("0015g00000")] + [pl.lit(c) for c in sf_chars])
    ).to_series()
    day = rng.integers("id.updated_day", key, 3650)
    sec = rng.integers("id.updated_sec", key, 86_400)
    created_back = rng.integers("id.created_back", key, 2000)
    return rows.with_columns(
        rid_seq=(pl.col("source_row") + 10_000).cast(pl.String),
        rid_num=pl.col("source_row").cast(pl.String),
        rid_guid=guid,
        rid_hubspot=(pl.col("source_row") * 7919 + 5_100_000_000).cast(pl.String),
        rid_salesforce=sf,
        updated=pl.datetime(2015, 1, 1) + pl.duration(days=pl.lit(day), seconds=pl.lit(sec)),
    ).with_columns(
        created=pl.col("updated") - pl.duration(days=pl.lit(created_back)),
    )


def _dialect_columns(rows: pl.DataFrame) -> pl.DataFrame:
    person = pl.col("ctype") == "person"
    return rows.with_columns(
        w_company=pl.when(~person).then("w_name"),
        w_person_first=pl.when(person).then("w_first"),
        w_person_last=pl.when(person).then("w_last"),
        w_att_person=pl.when(~person).then(pl.col("first") + pl.lit(" ") + pl.col("last")),
        w_is_person=pl.when(person).then(pl.lit("true")).otherwise(pl.lit("false")),
        w_type=pl.when(person).then(pl.lit("person")).otherwise(pl.lit("company")),
        w_updated_iso=pl.col("updated").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        w_created_iso=pl.col("created").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        w_updated_hubspot=pl.col("updated").dt.strftime("%Y-%m-%d %H:%M"),
        w_updated_salesforce=pl.col("updated").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        w_updated_dk=pl.col("updated").dt.strftime("%d-%m-%Y"),
    )


def generate(n_rows: int, seed: int, *, dialect: str = "danish") -> Dataset:
    """Generate ``n_rows`` CRM rows (in ``dialect``), their truth and the registry documents."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if n_rows < 1:
        raise ValueError("n_rows must be at least 1")
    rng = Rng(seed)
    pool = pools()
    counts = record_counts(rng, n_rows)
    entities = build_entities(rng, counts, pool)
    # Rows before registry documents: the two are independent draws, and building the rows is the
    # memory peak, which the finished registry would otherwise sit on top of.
    rows = build_rows(rng, entities, pool)
    registry = build_registry(rng, entities)
    del entities
    rows = _record_ids(rng, rows)
    rows = _dialect_columns(rows)
    mapping = DIALECTS[dialect]
    rows = rows.with_columns(record_id=pl.col(mapping[next(iter(mapping))]))
    customers = rows.select(
        [pl.col(source).cast(pl.String).alias(header) for header, source in mapping.items()]
    )
    truth = rows.select([pl.col(source).alias(name) for name, source in TRUTH_COLUMNS.items()])
    return Dataset(customers=customers, truth=truth, registry=registry, dialect=dialect, seed=seed)


CSV_ROWS_PER_CHUNK = 100_000


def _ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The same chunks in the same order, the next one rendered in a thread while the caller
    compresses the current one (both release the GIL: ~40 % less wall time on two cores)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


def _csv_bytes(frame: pl.DataFrame, *, delimiter: str, header: bool = True) -> str:
    buffer = io.StringIO()
    frame.write_csv(
        buffer,
        separator=delimiter,
        quote_style="necessary",
        line_terminator="\r\n",
        include_header=header,
    )
    return buffer.getvalue()


def write_dataset(
    ds: Dataset,
    out_dir: str | Path,
    *,
    encoding: str = "cp1252",
    delimiter: str = ";",
    file_format: str = "csv",
    compresslevel: int = 1,
) -> dict[str, Path]:
    """Write ``customers.<ext>``, ``truth.parquet`` and ``registry.jsonl.gz`` into ``out_dir``.

    CSV is written with CRLF line ends (as Excel and most CRMs export) in ``encoding``, no BOM;
    characters the encoding cannot hold become ``?`` (what a cp1252 export does). The gzip member
    has mtime 0 and no file name, so the same dataset always gives the same bytes.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if file_format == "csv":
        path = out / "customers.csv"
        with path.open("wb") as handle:
            # In slices, so a million rows never sit in memory as one Python string.
            for start in range(0, max(ds.customers.height, 1), CSV_ROWS_PER_CHUNK):
                part = ds.customers.slice(start, CSV_ROWS_PER_CHUNK)
                text = _csv_bytes(part, delimiter=delimiter, header=start == 0)
                handle.write(text.encode(encoding, errors="replace"))
    elif file_format == "xlsx":
        path = out / "customers.xlsx"
        ds.customers.write_excel(path, worksheet="Kunder", autofit=False)
    elif file_format == "parquet":
        path = out / "customers.parquet"
        ds.customers.write_parquet(path, statistics=False)
    elif file_format == "jsonl":
        path = out / "customers.jsonl"
        ds.customers.write_ndjson(path)
    else:
        raise ValueError(f"unknown format {file_format!r}")
    written["customers"] = path
    truth_path = out / "truth.parquet"
    ds.truth.write_parquet(truth_path, statistics=False)
    written["truth"] = truth_path
    registry_path = out / "registry.jsonl.gz"
    with (
        registry_path.open("wb") as raw,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=compresslevel
        ) as gz,
    ):
        for chunk in _ahead(ds.registry_chunks()):
            gz.write(chunk)
    written["registry"] = registry_path
    return written


def describe(ds: Dataset) -> str:
    """A Markdown summary of what a dataset contains: entities, duplicates, planted cases."""
    truth = ds.truth
    sizes = truth.group_by("entity_id").len()
    types = dict(truth["true_customer_type"].value_counts().iter_rows())
    lines = [
        f"- {truth.height} rows, {sizes.height} distinct customers (entities); "
        f"{int((sizes['len'] > 1).sum())} customers have 2-4 records "
        f"({int(sizes.filter(pl.col('len') > 1)['len'].sum())} rows)",
        f"- customer types: {types.get('company', 0)} company, {types.get('public', 0)} public, "
        f"{types.get('person', 0)} person rows",
        f"- {ds.registry.height} registry documents",
        "",
        "| expected flag | rows |",
        "|---|---|",
    ]
    flags = truth["expected_flags"].explode().drop_nulls().value_counts()
    for code, count in sorted(flags.iter_rows()):
        lines.append(f"| `{code}` | {count} |")
    lines += ["", "| scenario tag | rows |", "|---|---|"]
    tags = truth["scenario"].explode().drop_nulls().value_counts()
    for tag, count in sorted(tags.iter_rows()):
        lines.append(f"| `{tag}` | {count} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dialect", default="danish", choices=sorted(DIALECTS))
    parser.add_argument("--encoding", default="cp1252")
    parser.add_argument("--delimiter", default=";")
    parser.add_argument("--format", default="csv", choices=["csv", "xlsx", "parquet", "jsonl"])
    parser.add_argument("--compresslevel", type=int, default=1, help="gzip level of the registry")
    parser.add_argument("--summary", action="store_true", help="print a Markdown summary")
    args = parser.parse_args(argv)
    delimiter = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter
    start = time.perf_counter()
    ds = generate(args.rows, args.seed, dialect=args.dialect)
    generated = time.perf_counter()
    write_dataset(
        ds,
        args.out,
        encoding=args.encoding,
        delimiter=delimiter,
        file_format=args.format,
        compresslevel=args.compresslevel,
    )
    done = time.perf_counter()
    if args.summary:
        print(describe(ds))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{args.rows:,} rows, {ds.registry.height:,} registry documents: generated in "
        f"{generated - start:.1f} s ({args.rows / (generated - start):,.0f} rows/s), written in "
        f"{done - generated:.1f} s; total {done - start:.1f} s wall "
        f"({args.rows / (done - start):,.0f} rows/s), {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
        f"peak RSS {usage.ru_maxrss / 1024:,.0f} MB -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
