"""The synthetic data generator: reproducible, internally consistent, realistic in the ways the
pipeline is measured on (planted cases, hard negatives, registry documents)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from functools import cache
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from email_validator import EmailNotValidError, validate_email
from stdnum import ean as stdnum_ean
from stdnum.dk import cvr as stdnum_cvr

from bench.generate import DIALECTS, Dataset, generate, main, write_dataset
from datavask.cleansing.reference import load_reference
from datavask.cleansing.schema import REASON_CODES

# Keys of ``Vrvirksomhed`` and of an address in the real ERST response
# (/work/shared/reference/erst_cvr_search_response_trimmed.json).
ERST_KEYS = {
    "cvrNummer",
    "regNummer",
    "brancheAnsvarskode",
    "reklamebeskyttet",
    "navne",
    "binavne",
    "postadresse",
    "beliggenhedsadresse",
    "telefonNummer",
    "telefaxNummer",
    "sekundaertTelefonNummer",
    "sekundaertTelefaxNummer",
    "elektroniskPost",
    "hjemmeside",
    "obligatoriskEmail",
    "livsforloeb",
    "hovedbranche",
    "bibranche1",
    "bibranche2",
    "bibranche3",
    "status",
    "virksomhedsstatus",
    "virksomhedsform",
    "aarsbeskaeftigelse",
    "kvartalsbeskaeftigelse",
    "maanedsbeskaeftigelse",
    "attributter",
    "penheder",
    "deltagerRelation",
    "fusioner",
    "spaltninger",
    "virksomhedMetadata",
    "samtId",
    "fejlRegistreret",
    "dataAdgang",
    "enhedsNummer",
    "enhedstype",
    "sidstIndlaest",
    "sidstOpdateret",
    "fejlVedIndlaesning",
    "naermesteFremtidigeDato",
    "fejlBeskrivelse",
    "virkningsAktoer",
}
ADDRESS_KEYS = {
    "landekode",
    "fritekst",
    "vejkode",
    "kommune",
    "husnummerFra",
    "adresseId",
    "sidstValideret",
    "husnummerTil",
    "bogstavFra",
    "bogstavTil",
    "etage",
    "sidedoer",
    "conavn",
    "postboks",
    "vejnavn",
    "bynavn",
    "postnummer",
    "postdistrikt",
    "periode",
    "sidstOpdateret",
}


@cache
def dataset(n_rows: int = 2000, seed: int = 11, dialect: str = "danish") -> Dataset:
    return generate(n_rows, seed, dialect=dialect)


@cache
def registry_docs(n_rows: int = 2000, seed: int = 11) -> dict[str, dict]:
    lines = dataset(n_rows, seed).registry_jsonl().decode("utf-8").splitlines()
    docs = [json.loads(line)["_source"]["Vrvirksomhed"] for line in lines]
    return {str(doc["cvrNummer"]): doc for doc in docs}


def _truth_rows(n_rows: int = 2000, seed: int = 11) -> list[dict]:
    return dataset(n_rows, seed).truth.to_dicts()


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate(300, 5)
    second = generate(300, 5)
    assert first.customers.equals(second.customers, null_equal=True)
    assert first.truth.equals(second.truth, null_equal=True)
    write_dataset(first, tmp_path / "a")
    write_dataset(second, tmp_path / "b")
    for name in ("customers.csv", "truth.parquet", "registry.jsonl.gz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_other_seed_gives_other_data() -> None:
    assert not generate(300, 5).customers.equals(generate(300, 6).customers)


def test_exact_row_count_and_aligned_truth() -> None:
    for n in (1, 7, 333):
        ds = generate(n, 2)
        assert ds.customers.height == n
        assert ds.truth["source_row"].to_list() == list(range(1, n + 1))
        assert ds.truth["record_id"].to_list() == ds.customers["Kundenr"].to_list()
    assert all(dtype == pl.String for dtype in dataset().customers.dtypes)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_dialect_headers(dialect: str) -> None:
    ds = generate(40, 3, dialect=dialect)
    assert ds.customers.columns == list(DIALECTS[dialect])
    assert ds.customers.height == 40
    # the truth does not depend on the dialect
    assert ds.truth.drop("record_id").equals(generate(40, 3).truth.drop("record_id"))


def test_required_dialect_headers_are_exact() -> None:
    assert list(DIALECTS["danish"]) == [
        "Kundenr",
        "Navn",
        "Adresse",
        "Postnr",
        "By",
        "Land",
        "CVR-nr",
        "EAN-nr",
        "E-mail",
        "Telefon",
    ]
    assert list(DIALECTS["economic"]) == [
        "customerNumber",
        "name",
        "address",
        "zip",
        "city",
        "country",
        "corporateIdentificationNumber",
        "ean",
        "email",
        "telephoneAndFaxNumber",
    ]
    assert {
        "First Name",
        "Last Name",
        "Company Name",
        "Street Address",
        "Postal Code",
        "Phone Number",
        "Email",
    } <= set(DIALECTS["hubspot"])
    assert {
        "Account Name",
        "BillingStreet",
        "BillingPostalCode",
        "BillingCity",
        "BillingCountry",
        "Phone",
    } <= set(DIALECTS["salesforce"])


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="dialect"):
        generate(10, 1, dialect="sap")


def test_true_identifiers_are_valid() -> None:
    truth = dataset().truth
    cvrs = truth["true_cvr"].drop_nulls().to_list()
    eans = truth.filter(pl.col("true_ean").is_not_null())
    assert cvrs and eans.height
    assert all(stdnum_cvr.is_valid(c) and len(c) == 8 for c in cvrs)
    assert all(stdnum_ean.is_valid(e) and len(e) == 13 for e in eans["true_ean"])
    public = eans.filter(pl.col("true_customer_type") == "public")["true_ean"]
    assert public.len() and all(e.startswith("5798") for e in public)


def test_true_phones_and_emails_are_valid() -> None:
    truth = dataset().truth
    phones = truth["true_phone_e164"].drop_nulls().to_list()
    assert len(phones) > 1000
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    assert any(p.startswith(("+299", "+298", "+46", "+47", "+49")) for p in phones)
    for email in truth["true_email"].drop_nulls().to_list():
        try:
            normalised = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:  # pragma: no cover - reported by the assert
            raise AssertionError(f"invalid true e-mail {email!r}") from exc
        assert normalised.lower() == email


def test_true_postal_codes_and_cities_are_official() -> None:
    names = dict(load_reference("dk_postal_codes").select("postal_code", "name").iter_rows())
    for row in _truth_rows():
        code = row["true_postal_code"]
        if code is None:
            assert "MISSING_ADDRESS" in row["expected_flags"]
        elif "UNKNOWN_POSTAL_CODE" in row["expected_flags"]:
            assert code not in names and row["true_city"] is None
        else:
            assert row["true_city"] == names[code]


def test_expected_flags_are_contract_codes() -> None:
    codes = set(dataset().truth["expected_flags"].explode().drop_nulls().to_list())
    assert codes <= set(REASON_CODES)


def test_registry_holds_every_registered_cvr_and_not_the_planted_unknown_ones() -> None:
    docs = registry_docs()
    for row in _truth_rows():
        cvr = row["true_cvr"]
        if cvr is None:
            continue
        if "CVR_NOT_FOUND" in row["expected_flags"]:
            assert cvr not in docs
        else:
            assert cvr in docs, row["record_id"]
    customer_cvrs = set(dataset().truth["true_cvr"].drop_nulls().to_list())
    assert len(set(docs) - customer_cvrs) > 0.1 * len(customer_cvrs)  # unrelated companies


def test_registry_documents_have_the_erst_shape() -> None:
    for doc in list(registry_docs().values())[:200]:
        assert set(doc) == ERST_KEYS
        assert isinstance(doc["cvrNummer"], int)
        for address in doc["beliggenhedsadresse"]:
            assert set(address) == ADDRESS_KEYS
            assert isinstance(address["postnummer"], int)
        current = [a for a in doc["beliggenhedsadresse"] if a["periode"]["gyldigTil"] is None]
        assert current == [doc["virksomhedMetadata"]["nyesteBeliggenhedsadresse"]]
        assert doc["virksomhedMetadata"]["nyesteVirksomhedsform"]["virksomhedsformkode"] in {
            10,
            30,
            40,
            60,
            70,
            80,
            81,
            230,
            245,
            250,
        }


def _status_of(doc: dict) -> str:
    return doc["virksomhedMetadata"]["sammensatStatus"].upper()


def test_registry_agrees_with_expected_status_flags() -> None:
    docs = registry_docs()
    seen: dict[str, int] = defaultdict(int)
    for row in _truth_rows():
        flags = set(row["expected_flags"])
        if row["true_cvr"] is None or "CVR_NOT_FOUND" in flags:
            continue
        doc = docs[row["true_cvr"]]
        status = _status_of(doc)
        ended = doc["livsforloeb"][-1]["periode"]["gyldigTil"] is not None
        if "COMPANY_BANKRUPT" in flags:
            seen["bankrupt"] += 1
            assert status == "UNDER KONKURS" and not ended
            assert any(
                s["kreditoplysningtekst"] == "Konkurs" and s["periode"]["gyldigTil"] is None
                for s in doc["status"]
            )
        elif "COMPANY_DISSOLVED" in flags:
            seen["dissolved"] += 1
            assert ended
        elif "COMPANY_DISTRESSED" in flags:
            seen["distressed"] += 1
            assert status.startswith("UNDER ") and status != "UNDER KONKURS"
        else:
            assert status in {"NORMAL", "AKTIV"} and not ended
        if (
            doc["virksomhedMetadata"]["nyesteVirksomhedsform"]["virksomhedsformkode"]
            in {230, 245, 250}
            and row["true_ean"] is None
            and "INVALID_EAN" not in flags
        ):
            assert "MISSING_EAN" in flags
    assert min(seen.values()) >= 5 and len(seen) == 3


def test_registry_agrees_with_name_and_address_mismatch() -> None:
    docs = registry_docs()
    checked = mismatched = 0
    for row in _truth_rows():
        flags = set(row["expected_flags"])
        cvr = row["true_cvr"]
        if cvr is None or "CVR_NOT_FOUND" in flags or row["true_name"] is None:
            continue
        meta = docs[cvr]["virksomhedMetadata"]
        registered = {meta["nyesteNavn"]["navn"].lower()} | {
            b.lower() for b in meta["nyesteBinavne"]
        }
        clean = not any(t in row["scenario"] for t in ("name:typo", "name:ascii_fold"))
        if "NAME_MISMATCH" in flags:
            mismatched += 1
            assert row["true_name"].lower() not in registered
            former = [n["navn"].lower() for n in docs[cvr]["navne"][:-1]]
            assert not clean or row["true_name"].lower() in former
        elif clean:
            checked += 1
            assert row["true_name"].lower() in registered, row
        address = meta["nyesteBeliggenhedsadresse"]
        registry_address = (address["vejnavn"], str(address["postnummer"]))
        row_address = (row["true_street"], row["true_postal_code"])
        if "ADDRESS_MISMATCH" in flags:
            assert row_address != registry_address
        elif (
            row["true_street"]
            and row["true_postal_code"]
            and not any(t in row["scenario"] for t in ("address:street_typo", "address:ascii_fold"))
        ):
            assert row_address == registry_address, row
    assert checked > 300 and mismatched >= 5


def test_planted_cases_are_present_in_a_sample_sized_file() -> None:
    ds = generate(400, 20260)
    counts = ds.truth["expected_flags"].explode().value_counts()
    per_code = dict(counts.drop_nulls().iter_rows())
    for code in (
        "COMPANY_BANKRUPT",
        "COMPANY_DISSOLVED",
        "COMPANY_DISTRESSED",
        "CVR_NOT_FOUND",
        "NAME_MISMATCH",
        "ADDRESS_MISMATCH",
        "MISSING_EAN",
        "INVALID_CVR",
        "MISSING_CVR",
        "INVALID_PHONE",
        "INVALID_EMAIL",
    ):
        assert per_code.get(code, 0) >= 2, (code, per_code)
    tags = set(ds.truth["scenario"].explode().drop_nulls().to_list())
    assert {
        "registry:secret_phone",
        "name:binavn",
        "dup:moved",
        "address:one_line",
        "name:legal_form_variant",
        "phone:two_numbers",
    } <= tags


def test_duplicates_share_an_entity_and_are_not_adjacent_copies() -> None:
    truth = dataset().truth
    sizes = truth.group_by("entity_id").len()
    assert 0.12 < (sizes["len"] > 1).mean() < 0.25
    assert sizes["len"].max() <= 4
    dup_rows = truth.filter(pl.col("scenario").list.contains("duplicate"))
    assert dup_rows.height > 0.1 * truth.height


def _rows_with(tag: str) -> pl.DataFrame:
    return dataset().truth.filter(pl.col("scenario").list.contains(tag))


def test_hard_negative_households() -> None:
    rows = _rows_with("hard_negative:household").with_columns(
        surname=pl.col("true_name").str.extract(r"(\S+)$", 1)
    )
    groups = rows.group_by("true_street", "true_house_number", "true_postal_code").agg(
        pl.col("entity_id").n_unique().alias("entities"),
        pl.col("true_name").str.extract(r"^(\S+)", 1).n_unique().alias("first_names"),
    )
    assert (groups["entities"] >= 2).sum() >= 3
    both = groups.filter(pl.col("entities") >= 2)
    assert (both["first_names"] >= 2).all()


def test_hard_negative_group_companies_and_business_centres() -> None:
    for tag in ("hard_negative:group_company", "hard_negative:business_centre"):
        rows = _rows_with(tag).filter(pl.col("true_cvr").is_not_null())
        groups = rows.group_by("true_street", "true_house_number", "true_postal_code").agg(
            pl.col("entity_id").n_unique().alias("entities"),
            pl.col("true_cvr").n_unique().alias("cvrs"),
        )
        shared = groups.filter(pl.col("entities") >= 2)
        assert shared.height >= 1, tag
        assert (shared["cvrs"] == shared["entities"]).all(), tag
    holdings = _rows_with("hard_negative:group_company")["true_name"]
    assert holdings.str.contains(" Holding ").any()


def test_hard_negative_common_names_live_apart() -> None:
    rows = _rows_with("hard_negative:common_name")
    groups = rows.group_by("true_name").agg(
        pl.col("entity_id").n_unique().alias("entities"),
        pl.col("true_postal_code").n_unique().alias("postal_codes"),
    )
    assert (groups["entities"] >= 2).any()
    assert (groups.filter(pl.col("entities") >= 2)["postal_codes"] >= 2).all()


def test_distinct_customers_never_share_a_mailbox_or_a_domain() -> None:
    truth = dataset(20_000, 5).truth
    emails = (
        truth.drop_nulls("true_email").group_by("true_email").agg(pl.col("entity_id").n_unique())
    )
    assert emails["entity_id"].max() == 1
    company = truth.filter(
        (pl.col("true_customer_type") != "person") & pl.col("true_email").is_not_null()
    ).with_columns(domain=pl.col("true_email").str.extract(r"@(.+)$", 1))
    domains = company.group_by("domain").agg(pl.col("entity_id").n_unique())
    assert domains["entity_id"].max() == 1
    # the same name, a domain of its own
    same_name = company.group_by("true_name").agg(pl.col("domain").n_unique(), pl.len())
    assert (same_name.filter(pl.col("len") >= 2)["domain"] >= 2).any()


def test_phone_numbers_are_shared_only_where_planted() -> None:
    truth = dataset(20_000, 5).truth
    shared = (
        truth.drop_nulls("true_phone_e164")
        .group_by("true_phone_e164")
        .agg(pl.col("entity_id").n_unique().alias("entities"), pl.col("scenario").list.explode())
        .filter(pl.col("entities") > 1)
    )
    assert shared.height > 0  # households, groups and business centres do share
    planted = shared["scenario"].list.eval(
        pl.element().is_in(
            [
                "hard_negative:household",
                "hard_negative:group_company",
                "hard_negative:business_centre",
            ]
        )
    )
    assert planted.list.any().all()


def test_command_line_writes_cp1252_csv_without_bom(tmp_path: Path) -> None:
    assert main(["--rows", "60", "--seed", "4", "--out", str(tmp_path)]) == 0
    raw = (tmp_path / "customers.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    header = raw.split(b"\r\n", 1)[0].decode("cp1252")
    assert header == ";".join(DIALECTS["danish"])
    back = pl.read_csv(raw.decode("cp1252").encode(), separator=";", infer_schema=False)
    assert back.height == 60
    truth = pl.read_parquet(tmp_path / "truth.parquet")
    assert truth.height == 60
    with gzip.open(tmp_path / "registry.jsonl.gz", "rt", encoding="utf-8") as fh:
        assert all("Vrvirksomhed" in json.loads(line)["_source"] for line in fh)


@pytest.mark.parametrize("file_format", ["xlsx", "parquet", "jsonl"])
def test_other_output_formats(tmp_path: Path, file_format: str) -> None:
    ds = generate(30, 8, dialect="economic")
    paths = write_dataset(ds, tmp_path, file_format=file_format)
    assert paths["customers"].suffix == f".{file_format}"
    if file_format == "xlsx":
        back = pl.read_excel(paths["customers"], infer_schema_length=0)
    elif file_format == "parquet":
        back = pl.read_parquet(paths["customers"])
    else:
        back = pl.read_ndjson(paths["customers"])
    assert back.columns == list(DIALECTS["economic"]) and back.height == 30


def test_committed_sample_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    """The sample's text files come back byte for byte. A Parquet file carries
    the writing polars' version in its footer, so the truth is compared by its
    schema and rows: a new polars release must not fail a fresh install."""
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    write_dataset(generate(400, 20260), tmp_path)
    for name in ("customers.csv", "registry.jsonl.gz"):
        assert (tmp_path / name).read_bytes() == (sample / name).read_bytes(), name
    made, committed = (pl.read_parquet(d / "truth.parquet") for d in (tmp_path, sample))
    assert made.schema == committed.schema
    assert made.equals(committed)
