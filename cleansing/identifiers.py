"""Danish business identifiers: CVR numbers, EAN/GLN location numbers and P-numbers.

CVR (Det Centrale Virksomhedsregister) number
    Eight digits, the first not ``0``, whose weighted sum with the weights
    ``2 7 6 5 4 3 2 1`` is divisible by 11. Written as ``12345678``, ``DK12345678``
    (the VAT form), ``DK-1234 5678``, ``12.34.56.78``; we strip a leading ``DK`` and
    spaces, dashes, dots, commas, slashes and colons — the same separators python-stdnum's
    ``stdnum.dk.cvr.compact`` strips, so both agree on every input — after removing a label
    typed in front (``CVR``, ``CVR-nr.:``, ``SE-nr.``), which stdnum does not know.
EAN (GLN, Global Location Number)
    The 13-digit number public-sector customers receive e-invoices (OIOUBL/Peppol) on.
    The last digit is the GS1 check digit: weights ``1 3 1 3 …`` from the left over the
    first twelve digits, check = ``(10 - sum mod 10) mod 10``. Eight-, twelve- and
    fourteen-digit GTINs are valid EANs for stdnum but are product codes, not locations,
    so they are rejected here. A label in front (``EAN``, ``EAN-nr.``, ``GLN:``) is removed.
Foreign VAT numbers
    A Danish CRM's CVR field holds its foreign customers' VAT numbers too (e-conomic's
    ``corporateIdentificationNumber`` does): ``DE129273398``, ``SE556012579001``,
    ``GB980780684``, ``NO974760673MVA``, ``CHE-116.281.710 MWST``. One written with its country
    prefix that python-stdnum validates (the EU member states' rules, Britain's, Norway's and
    Switzerland's) is the customer's ``vat_number`` (compact, prefix first) and no broken CVR
    number. ``DK…`` is a CVR number and read as one above. A Swiss company's UID written without
    the tax's suffix (``CHE-123.456.788``, the number on its letterhead and in the Swiss
    register) is its ``vat_number`` too (``CHE123456788``): the VAT number is the UID and a
    suffix naming the tax in the language of the canton (``MWST``, ``TVA``, ``IVA``), so
    matching compares Swiss numbers by their UID (:func:`legal_entity_number`).
P-number (produktionsenhedsnummer)
    Ten digits identifying a production unit of a CVR entity. It carries no public check
    digit, so only the shape can be checked: ten digits, the first not ``0``.

Only ASCII digits count: a full-width ``１２３４５６７８`` is not a CVR number.

The frame function :func:`normalise_identifiers` checks all rows at once with polars
expressions (no Python call per row); ``tests/cleansing/test_identifiers.py`` shows it agrees
with python-stdnum on a large corpus.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl
from stdnum.ch import uid as ch_uid
from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.fi import ytunnus as fi_business_id
from stdnum.fo import vn as fo_vn
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_mva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from datavask.cleansing.cpr import MASK
from datavask.cleansing.names import only_where
from datavask.cleansing.schema import flag, raw, require_columns, stage_text, whole_number

CVR_WEIGHTS: Final = (2, 7, 6, 5, 4, 3, 2, 1)
EAN_WEIGHTS: Final = (1, 3) * 6

# A label typed in front of the number: ``CVR 12345678``, ``CVR-nr.: DK12345678``, ``SE-nr. …``,
# ``EAN: 5790…``, ``GLN-nummer …``. It is removed before the python-stdnum rules apply.
_CVR_LABEL: Final = r"(?i)^\s*(?:cvr|se|vat|moms)\s*[.\-]?\s*(?:nr|nummer|no)?[.:\s]*"
_EAN_LABEL: Final = r"(?i)^\s*(?:ean|gln)\s*[.\-]?\s*(?:nr|nummer|no)?[.:\s]*"
_CVR_LABEL_RE: Final = re.compile(_CVR_LABEL)
# A Faroese company's V-tal (vinnutal, its tax and VAT number at TAKS) labelled so: ``V-tal
# 123456``, ``V-tal nr.: 123 456``, ``Vtal 123456``. The label names the country, as ``FO`` would.
_V_TAL: Final = r"(?i)^\s*v\s*[.\-]?\s*tal\s*[.\-]?\s*(?:nr|nummer|no)?[.:\s]*"
_V_TAL_RE: Final = re.compile(_V_TAL)
_EAN_LABEL_RE: Final = re.compile(_EAN_LABEL)
# The separators stdnum.dk.cvr.compact removes; EANs are written with spaces or dashes.
_CVR_SEPARATORS: Final = r"[ \-.,/:]"
_EAN_SEPARATORS: Final = r"[ \-]"


# A CVR number written as a decimal (``25313763.0``) has eight digits before its ``.0``.
CVR_DIGITS: Final = "8"


def compact_cvr(number: str) -> str:
    """The number without label, separators, surrounding whitespace and ``DK`` prefix.

    >>> compact_cvr('DK-1358 5628')
    '13585628'
    >>> compact_cvr('CVR-nr.: 13.58.56.28 ')
    '13585628'
    """
    number = _CVR_LABEL_RE.sub("", number)
    for separator in " -.,/:":
        number = number.replace(separator, "")
    number = number.strip().upper()
    return number[2:] if number.startswith("DK") else number


def _is_ascii_digits(number: str) -> bool:
    return number.isascii() and number.isdigit()


def is_valid_cvr(number: str | None) -> bool:
    """Whether ``number`` is a CVR number: eight digits, first not 0, modulus-11 checksum.

    >>> is_valid_cvr('DK 13585628')
    True
    >>> is_valid_cvr('13585627')
    False
    >>> is_valid_cvr('03585628')
    False
    """
    if number is None:
        return False
    number = compact_cvr(number)
    if len(number) != 8 or not _is_ascii_digits(number) or number[0] == "0":
        return False
    return sum(w * int(d) for w, d in zip(CVR_WEIGHTS, number, strict=True)) % 11 == 0


def compact_ean(number: str) -> str:
    """The number without label, spaces and dashes.

    >>> compact_ean('EAN: 5790-0012-34567 ')
    '5790001234567'
    """
    number = _EAN_LABEL_RE.sub("", number)
    return number.replace(" ", "").replace("-", "").strip()


def ean_check_digit(first_twelve: str) -> str:
    """The GS1 check digit for the first twelve digits of a GLN.

    >>> ean_check_digit('579000000000')
    '5'
    """
    total = sum(w * int(d) for w, d in zip(EAN_WEIGHTS, first_twelve, strict=True))
    return str((10 - total % 10) % 10)


def is_valid_ean(number: str | None) -> bool:
    """Whether ``number`` is a 13-digit GLN with a correct GS1 check digit.

    >>> is_valid_ean('5790000000005')
    True
    >>> is_valid_ean('5790000000009')
    False
    >>> is_valid_ean('73513537')  # an EAN-8 product code, not a location number
    False
    """
    if number is None:
        return False
    number = compact_ean(number)
    if len(number) != 13 or not _is_ascii_digits(number):
        return False
    return ean_check_digit(number[:12]) == number[12]


def is_valid_p_number(number: str | None) -> bool:
    """Whether ``number`` has the shape of a P-number (ten digits, first not 0).

    >>> is_valid_p_number('1007201377')
    True
    >>> is_valid_p_number('100720137')
    False
    """
    if number is None:
        return False
    number = number.replace(" ", "").replace("-", "").strip()
    return len(number) == 10 and _is_ascii_digits(number) and number[0] != "0"


def _weighted_sum(number: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    """Sum of digit × weight over an integer's decimal digits, most significant first."""
    n = len(weights)
    return pl.sum_horizontal(
        w * (number // 10 ** (n - 1 - i) % 10) for i, w in enumerate(weights) if w
    )


def cvr_candidate(value: pl.Expr) -> pl.Expr:
    """Expression: the compact value when it has the shape of a CVR number, else null."""
    compact = (
        value.str.replace(_CVR_LABEL, "")
        .str.replace_all(_CVR_SEPARATORS, "")
        .str.strip_chars()
        .str.to_uppercase()
        .str.strip_prefix("DK")
    )
    return pl.when(compact.str.contains(r"^[1-9][0-9]{7}$")).then(compact)


def ean_candidate(value: pl.Expr) -> pl.Expr:
    """Expression: the compact value when it has the shape of a GLN (13 digits), else null."""
    compact = (
        value.str.replace(_EAN_LABEL, "").str.replace_all(_EAN_SEPARATORS, "").str.strip_chars()
    )
    return pl.when(compact.str.contains(r"^[0-9]{13}$")).then(compact)


def cvr_checked(candidate: pl.Expr) -> pl.Expr:
    """Expression: a :func:`cvr_candidate` whose modulus-11 checksum holds, else null."""
    number = candidate.cast(pl.UInt64)
    return pl.when(_weighted_sum(number, CVR_WEIGHTS) % 11 == 0).then(candidate)


def ean_checked(candidate: pl.Expr) -> pl.Expr:
    """Expression: an :func:`ean_candidate` whose GS1 check digit is right, else null."""
    body = candidate.cast(pl.UInt64) // 10
    check = (10 - _weighted_sum(body, EAN_WEIGHTS) % 10) % 10
    return pl.when(check == candidate.cast(pl.UInt64) % 10).then(candidate)


def _present(value: pl.Expr) -> pl.Expr:
    """A value someone typed: not null and not only whitespace."""
    return value.str.strip_chars().str.len_chars().fill_null(0) > 0


# The VAT rules python-stdnum has beside the EU's, by the prefix a number is written with. The
# Faroe Islands are outside the EU and the Danish CVR: a Faroese company's VAT number is its
# six-digit V-tal (``FO123456``; stdnum checks its length, it has no check digit).
_OTHER_VAT: Final = {"GB": gb_vat, "NO": no_mva, "CH": ch_vat, "FO": fo_vn}


def foreign_vat_number(value: str | None) -> str | None:
    """The compact foreign VAT number ``value`` is, written with its country prefix, else None.

    >>> foreign_vat_number("DE 129 273 398")
    'DE129273398'
    >>> foreign_vat_number("VAT: GB980 7806 84")
    'GB980780684'
    >>> foreign_vat_number("CHE-116.281.710 MWST")
    'CHE116281710MWST'
    >>> foreign_vat_number("CHE-116.281.710")  # a Swiss UID, the VAT number without its tax
    'CHE116281710'
    >>> foreign_vat_number("V-tal 602 590"), foreign_vat_number("FO602590")  # Faroese
    ('FO602590', 'FO602590')
    >>> foreign_vat_number("DE129273399") is None  # check digit wrong
    True
    >>> foreign_vat_number("DK13585628") is None  # a CVR number, read as one
    True
    """
    if not value:
        return None
    # With and without a label in front: "SE556…" is a Swedish number, not the "SE-nr." label;
    # "V-tal" is a Faroese one's.
    for text in (value, _CVR_LABEL_RE.sub("", value), _V_TAL_RE.sub("FO", value, count=1)):
        compact = re.sub(r"[\s\-.,/:]", "", text).upper()
        prefix = compact[:2]
        if not compact[:2].isalpha() or prefix == "DK":
            continue
        module = _OTHER_VAT.get(prefix)
        # Greece writes EL, which the member states' list names GR.
        if module is None and prefix.lower() not in (*eu_vat.MEMBER_STATES, "el"):
            continue
        try:
            number = str((module or eu_vat).validate(compact))
        except ValidationError:
            # A Swiss UID without the tax's suffix names the company as its VAT number does.
            if prefix != "CH" or not ch_uid.is_valid(compact):
                continue
            number = str(ch_uid.compact(compact))
        # Britain's rules give the number without its prefix; the EU's, Norway's and
        # Switzerland's with it.
        return number if number[:2] == prefix else prefix + number
    return None


# The suffix a Swiss VAT number adds to the company's UID: the tax's name in German, French,
# Italian or Romansh.
_SWISS_TAX_SUFFIX: Final = r"^(CHE[0-9]{9})(?:MWST|TVA|IVA|TPV)$"


def legal_entity_number(vat_number: pl.Expr) -> pl.Expr:
    """Expression: the part of a ``vat_number`` that names the legal entity, for matching.

    A Swiss VAT number is the company's UID with the tax's name after it, in the language the
    customer wrote it in: ``CHE116281710MWST``, ``CHE116281710TVA`` and the bare UID
    ``CHE116281710`` are one company, so all three give ``CHE116281710``. Other numbers are
    their own key.
    """
    return vat_number.str.replace(_SWISS_TAX_SUFFIX, "${1}")


# A CVR number noted in a name (the names stage's remark, ``(CVR 25313763)``, ``cvr-nr: DK 2531
# 3763``): the number, spaces and all.
CVR_IN_NAME: Final = (
    r"(?i)(?:^|[\s,;(\-–])cvr(?:-?nr)?\.?\s*:?\s*((?:DK)?\s*\d{2}\s?\d{2}\s?\d{2}\s?\d{2})\b"
)


def noted_cvr(name: pl.Expr) -> pl.Expr:
    """The CVR number a name notes (:data:`CVR_IN_NAME`), its digits only, else null.

    The pattern reads only the names that say ``cvr`` (a handful in a million: on every name it
    cost 0.2 CPU-s)."""
    says_cvr = name.str.contains("(?i)cvr")
    return only_where(says_cvr, name).str.extract(CVR_IN_NAME, 1).str.replace_all(r"\D", "")


# A CPR number typed in the CVR field, masked when the input was read (``150375-1234`` →
# ``XXXXXX-XXXX``, ``CPR_IN_DATA``), with a label or brackets around it (``(cpr XXXXXX-XXXX)``).
_MASKED_CPR: Final = (
    r"(?i)\(?\s*(?:(?:cpr|p|person)\W{0,3}(?:nr|nummer)?\W{0,3})?" + re.escape(MASK) + r"\s*\)?"
)


def without_masked_cpr(value: pl.Expr) -> pl.Expr:
    """Expression: a CVR field's value without a masked CPR number; null where nothing with a
    digit is left.

    A private customer's CPR number in the CVR field (common in small systems) is no CVR number,
    broken or not: read as one, the record was ``INVALID_CVR``, a person blocked from invoicing
    by a number the mask had already taken away (and the re-import empties the cell, so the next
    run had nothing to flag). The record has no CVR number in that cell: a company's
    ``MISSING_CVR``, a person's nothing. A number beside the mask is still read.

    >>> pl.select(without_masked_cpr(pl.Series(["XXXXXX-XXXX", "cpr-nr. XXXXXX-XXXX",
    ...     "12345674 (CPR XXXXXX-XXXX)", "DK 1234 5674"]))).to_series().to_list()
    [None, None, '12345674 ', 'DK 1234 5674']
    """
    rest = value.str.replace_all(_MASKED_CPR, "")
    masked = value.str.contains(MASK, literal=True).fill_null(False)
    return pl.when(~masked).then(value).when(rest.str.contains(r"\d")).then(rest)


# A value written as a CVR number (``DK…``, ``CVR-nr. 1234…``): no foreign VAT number to look for.
_CVR_WRITTEN: Final = r"(?i)^\s*(?:dk|cvr\W*(?:nr|nummer|no)?\W*\d)"


def _vat_numbers(raw_cvr: pl.Series) -> pl.Series:
    """:func:`foreign_vat_number` of each value, called once per distinct value that starts with
    two letters and is not written as a CVR number (most CVR fields hold none; a million
    Danish rows hold some 90,000 distinct ``DK…`` values)."""
    lettered = raw_cvr.str.contains(r"(?i)^\s*[a-z]{2}") | raw_cvr.str.contains(_V_TAL)
    lettered = lettered & ~raw_cvr.str.contains(_CVR_WRITTEN)
    lettered = raw_cvr.filter(lettered.fill_null(False)).unique()
    known = {v: foreign_vat_number(v) for v in lettered.to_list()}
    return raw_cvr.replace_strict(known, default=None, return_dtype=pl.String).alias("vat_number")


def normalise_identifiers(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``cvr``, ``vat_number``, ``ean``, ``flag_INVALID_CVR`` and ``flag_INVALID_EAN``.

    Reads ``raw_cvr`` and ``raw_ean`` (a missing column counts as all null), and ``raw_name`` for
    a CVR number noted in the name where the CVR field is empty. ``cvr`` is the
    eight-digit number when the value is a valid CVR number, else null; ``ean`` likewise the
    thirteen-digit GLN. A flag is raised when a value is present but not valid, e.g.
    ``raw_cvr = 'DK 1358 5627'`` gives ``cvr = null, flag_INVALID_CVR = true`` and
    ``raw_cvr = 'DK 1358 5628'`` gives ``cvr = '13585628', flag_INVALID_CVR = false``. A valid
    foreign VAT number in the CVR field is ``vat_number`` and raises no flag; a masked CPR number
    (``XXXXXX-XXXX``) is no CVR number, valid or broken: the field is read without it
    (:func:`without_masked_cpr`).
    """
    written = stage_text(df, "identifiers", raw("cvr"))
    written = whole_number(without_masked_cpr(written), CVR_DIGITS)
    raw_ean = whole_number(stage_text(df, "identifiers", raw("ean")), "13")
    # A CVR column left empty, the number noted in the name instead: ``Hansen Byg ApS (CVR
    # 25313763)``. Read like a typed one; the names stage takes the remark off the name.
    noted = noted_cvr(stage_text(df, "identifiers", raw("name")))
    raw_cvr = pl.when(_present(written)).then(written).otherwise(noted)
    # Two steps: the candidates are materialised once, not re-derived for every digit; lazily,
    # so each compact value is computed once for both its shape test and its value.
    staged = (
        df.lazy()
        .select(
            cvr_candidate=cvr_candidate(raw_cvr),
            ean_candidate=ean_candidate(raw_ean),
            cvr_present=_present(raw_cvr),
            ean_present=_present(raw_ean),
            raw_cvr=raw_cvr,
        )
        .collect()
    )
    vat_number = _vat_numbers(staged["raw_cvr"])
    result = (
        staged.lazy()
        .select(
            cvr=cvr_checked(pl.col("cvr_candidate")),
            ean=ean_checked(pl.col("ean_candidate")),
            cvr_present="cvr_present",
            ean_present="ean_present",
            vat_number=vat_number,
        )
        .select(
            "cvr",
            "vat_number",
            "ean",
            (
                pl.col("cvr_present") & pl.col("cvr").is_null() & pl.col("vat_number").is_null()
            ).alias(flag("INVALID_CVR")),
            (pl.col("ean_present") & pl.col("ean").is_null()).alias(flag("INVALID_EAN")),
        )
        .collect()
    )
    return df.with_columns(result.get_columns())


# The countries whose companies the Danish CVR registers: Denmark's and Greenland's (not the
# Faroe Islands', whose companies have a V-tal of their own: ``123456`` of a Faroese P/F).
_IN_THE_CVR: Final = ("DK", "GL")
# A foreign company's own registration number, written in the CVR field without a country prefix
# (``556012-5790`` of a Swedish AB, ``974760673`` of a Norwegian AS): the neighbours whose numbers
# carry a check digit python-stdnum knows.
_COMPANY_NUMBERS: Final = {"SE": se_orgnr, "NO": no_orgnr, "FI": fi_business_id}


def _foreign_number(value: str, country: str) -> tuple[bool, str | None]:
    """Whether ``value`` is a valid company or VAT number of ``country`` written without its
    prefix, and the VAT number it is (``129273398`` of a German record: ``DE129273398``)."""
    # Greece writes EL before its VAT numbers, Switzerland CHE before its UIDs.
    prefix = {"GR": "EL", "CH": "CHE"}.get(country, country)
    vat = foreign_vat_number(prefix + value)
    if vat is not None:
        return True, vat
    module = _COMPANY_NUMBERS.get(country)
    return (module is not None and bool(module.is_valid(value))), None


def read_foreign_company_numbers(df: pl.DataFrame) -> pl.DataFrame:
    """A foreign record's broken CVR number that is its country's company or VAT number.

    The identifiers stage runs before a record's country is known, so a Swedish AB's
    ``556012-5790`` or a German GmbH's ``129273398`` (a VAT number without its ``DE``) in the CVR
    field was ``INVALID_CVR``, and a foreign customer unfit for invoicing. Once the addresses
    stage has named the country, such a value that is valid by that country's rules raises no
    flag; a VAT number becomes the record's ``vat_number`` with its prefix. A value valid nowhere
    stays ``INVALID_CVR``. A Faroese record is foreign here, its companies being no CVR's: its
    six digits (``123456``) are its V-tal, ``FO123456``. Looked up once per distinct value and
    country.
    """
    require_columns(df, "abroad")
    country = stage_text(df, "abroad", "country")
    value = whole_number(stage_text(df, "abroad", raw("cvr"), blank_as_null=True), CVR_DIGITS)
    broken = pl.col("flag_INVALID_CVR") & country.is_not_null() & ~country.is_in(_IN_THE_CVR)
    rows = df.select(broken.fill_null(False)).to_series()
    if not rows.any():
        return df
    asked = df.select(_value=value, _country=country)
    found = {
        (v, c): _foreign_number(v, c)
        for v, c in asked.filter(rows).unique().iter_rows()
        if v is not None
    }
    looked_up = pl.DataFrame(
        [(v, c, ok, vat) for (v, c), (ok, vat) in found.items()],
        schema={"_value": pl.String, "_country": pl.String, "_ok": pl.Boolean, "_vat": pl.String},
        orient="row",
    )
    answers = asked.join(looked_up, on=["_value", "_country"], how="left", maintain_order="left")
    ok = pl.lit(rows) & pl.lit(answers["_ok"]).fill_null(False)
    return df.with_columns(
        vat_number=pl.when(ok).then(pl.lit(answers["_vat"])).otherwise("vat_number"),
        flag_INVALID_CVR=pl.col("flag_INVALID_CVR") & ~ok,
    )
