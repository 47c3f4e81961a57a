"""ERST CVR documents (``Vrvirksomhed``) to one flat registry row per company.

Every source — snapshot file, ERST Elasticsearch API, cvrapi.dk — ends in a frame with
:data:`REGISTRY_SCHEMA`: one row per requested CVR number, ``found`` / ``lookup_failed`` saying
what the registry answered, and the current values the cleansing checks compare against.

History lists in an ERST document carry ``periode: {gyldigFra, gyldigTil}``; the open period
(``gyldigTil: null``) is the current value, ``virksomhedMetadata.nyeste*`` repeat the current
values. Contact values marked ``hemmelig`` (secret) are never taken.

>>> rows = DocumentColumns()
>>> rows.add({"cvrNummer": 21265837,
...           "navne": [{"navn": "Gaarde A/S", "periode": {"gyldigTil": None}}],
...           "virksomhedMetadata": {"sammensatStatus": "UNDER KONKURS"}})
True
>>> frame = rows.frame()
>>> frame.select("cvr", "registry_name", "registry_status_class").row(0)
('21265837', 'Gaarde A/S', 'bankrupt')
>>> DocumentColumns().add({"cvrNummer": None})
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

import polars as pl

# Bump when the flat row changes, so caches built by an older parser are not reused.
PARSER_VERSION: Final = 5

STATUS_CLASSES: Final = ("normal", "distressed", "bankrupt", "dissolved")
_SEVERITY: Final = {name: rank for rank, name in enumerate(STATUS_CLASSES)}

# ERST virksomhedsformkode → short form. Codes whose short form ERST spells differently
# (e.g. "APS") are normalised to the contract's spelling; unknown codes keep kortBeskrivelse.
FORM_SHORT: Final[Mapping[int, str]] = {
    10: "ENK",
    15: "PMV",
    30: "I/S",
    40: "K/S",
    50: "PAR",
    60: "A/S",
    70: "P/S",
    80: "ApS",
    81: "IVS",
    90: "FON",
    100: "EFO",
    110: "FOR",
    115: "FFO",
    140: "AMBA",
    150: "FMBA",
    151: "SMBA",
    152: "FMBA",
    160: "EØFG",
    195: "SCE",
    230: "STA",
    235: "SOV",
    240: "AMT",
    245: "REG",
    250: "KOM",
    260: "FKI",
    290: "SE",
}

# Columns a document yields, in order; REGISTRY_SCHEMA adds found / lookup_failed after cvr.
DOCUMENT_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "cvr": pl.String(),
    "registry_status": pl.String(),
    "registry_status_class": pl.String(),
    "registry_name": pl.String(),
    "registry_binavne": pl.List(pl.String()),
    "registry_former_names": pl.List(pl.String()),
    "registry_street": pl.String(),
    "registry_house_number": pl.String(),
    "registry_floor": pl.String(),
    "registry_door": pl.String(),
    "registry_postal_code": pl.String(),
    "registry_city": pl.String(),
    "registry_co_name": pl.String(),
    "registry_po_box": pl.String(),
    "registry_form_code": pl.Int32(),
    "registry_form": pl.String(),
    "registry_phone": pl.String(),
    "registry_email": pl.String(),
    "reklamebeskyttet": pl.Boolean(),
    "registry_end_date": pl.Date(),
}

REGISTRY_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "cvr": pl.String(),
    "found": pl.Boolean(),
    "lookup_failed": pl.Boolean(),
    **{name: dtype for name, dtype in DOCUMENT_SCHEMA.items() if name != "cvr"},
}

# The parts of a document the row is made of: `_source` filtering for the ERST API and the sync.
SOURCE_FIELDS: Final = tuple(
    f"Vrvirksomhed.{field}"
    for field in (
        "cvrNummer",
        "navne",
        "binavne",
        "beliggenhedsadresse",
        "virksomhedsform",
        "virksomhedsstatus",
        "status",
        "livsforloeb",
        "telefonNummer",
        "elektroniskPost",
        "reklamebeskyttet",
        "fejlRegistreret",
        "sidstOpdateret",
        "virksomhedMetadata.sammensatStatus",
        "virksomhedMetadata.nyesteNavn",
        "virksomhedMetadata.nyesteBinavne",
        "virksomhedMetadata.nyesteBeliggenhedsadresse",
        "virksomhedMetadata.nyesteVirksomhedsform",
    )
)

_RANK: Final = "_rank"
_LIST_SEP: Final = "\x1f"  # ASCII unit separator
_NOTHING: Final[Mapping[str, Any]] = {}
_BANKRUPT: Final = STATUS_CLASSES.index("bankrupt")
_DISSOLVED: Final = STATUS_CLASSES.index("dissolved")
# Text columns whose whitespace raw_frame() tidies.
_TEXT_COLUMNS: Final = (
    "registry_status",
    "registry_name",
    "registry_street",
    "registry_house_number",
    "registry_floor",
    "registry_door",
    "registry_postal_code",
    "registry_city",
    "registry_co_name",
    "registry_po_box",
    "registry_form",
    "registry_phone",
    "registry_email",
)


def status_class(status: str | None) -> str | None:
    """Classify an ERST status text (any casing); None when the text says nothing known.

    >>> [status_class(s) for s in ("NORMAL", "Aktiv", "UNDER KONKURS", "Opløst efter konkurs",
    ...                            "under tvangsopløsning", "TVANGSOPLØST", "Ophørt", "")]
    ['normal', 'normal', 'bankrupt', 'dissolved', 'distressed', 'dissolved', 'dissolved', None]
    """
    if not status:
        return None
    text = " ".join(status.split()).casefold()
    if text in ("normal", "aktiv", "active"):
        return "normal"
    if text.startswith("opløst") or text in _DISSOLVED_TEXTS:
        return "dissolved"
    if "konkurs" in text:
        return "bankrupt"
    if text.startswith("under "):  # tvangsopløsning, frivillig likvidation, rekonstruktion…
        return "distressed"
    return None


_DISSOLVED_TEXTS: Final = frozenset({"tvangsopløst", "slettet", "ophørt", "ceased", "fusioneret"})


def unwrap(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``Vrvirksomhed`` object of a search hit, a ``_source`` or a bare document."""
    source = document.get("_source", document)
    if not isinstance(source, Mapping):
        return None
    inner = source.get("Vrvirksomhed")
    return inner if isinstance(inner, Mapping) else None


def cvr_text(value: object) -> str | None:
    """An ERST ``cvrNummer`` (int or text) as 8 digits, None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)  # no zero-padding: a CVR number never starts with 0
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return text if len(text) == 8 and text.isascii() and text.isdigit() else None


class DocumentColumns:
    """Accumulates flat registry rows column by column (cheaper than row tuples for 500k docs)."""

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in DOCUMENT_SCHEMA}
        self._columns[_RANK] = []

    def __len__(self) -> int:
        return len(self._columns["cvr"])

    def add(self, vr: Mapping[str, Any]) -> bool:
        """Append the row of one ``Vrvirksomhed``; False (and nothing added) when the document
        has no CVR number or is not shaped like an ERST document."""
        size = len(self)
        try:
            return self._add(vr)
        except (AttributeError, TypeError, ValueError):
            for column in self._columns.values():  # undo a half-appended row
                del column[size:]
            return False

    def _add(self, vr: Mapping[str, Any]) -> bool:
        # This runs once per document of a 500,000-document snapshot, so it only picks values;
        # whitespace is tidied for all rows at once in raw_frame().
        cvr = vr.get("cvrNummer")
        if type(cvr) is int and 10_000_000 <= cvr <= 99_999_999:
            cvr = str(cvr)
        else:
            cvr = cvr_text(cvr)
            if cvr is None:
                return False
        meta = vr.get("virksomhedMetadata") or _NOTHING
        c = self._columns

        name_item = meta.get("nyesteNavn") or _current(vr.get("navne"), newest_if_none=True)
        name = name_item.get("navn") if name_item else None
        binavne = meta.get("nyesteBinavne")
        if binavne is None:
            binavne = [b.get("navn") for b in _open(vr.get("binavne"))]
        current = [b for b in binavne if isinstance(b, str) and b]
        c["cvr"].append(cvr)
        c["registry_name"].append(name)
        # Lists travel as one joined string: polars builds list columns from Python lists
        # ~100x slower than it splits strings.
        c["registry_binavne"].append(_LIST_SEP.join(current) if current else None)
        former = _former_names(vr, name, current)
        c["registry_former_names"].append(_LIST_SEP.join(former) if former else None)

        history = _current(vr.get("virksomhedsstatus"))
        status, severity = _status_in_force(meta, history)
        if severity < _BANKRUPT:
            for credit in _open(vr.get("status")):
                if credit.get("kreditoplysningtekst") == "Konkurs":
                    status, severity = _with_credit(status, "Konkurs"), _BANKRUPT
                    break
        life = _current(vr.get("livsforloeb"), newest_if_none=True)
        end_date = (life.get("periode") or _NOTHING).get("gyldigTil") if life else None
        if end_date:
            severity = _DISSOLVED
        c["registry_status"].append(status)
        # A document that says nothing of the company's state (no sammensatStatus, status
        # history, credit status or life span: a snapshot synced with too few fields) has no
        # class: unknown is not "normal", and the cleansing reads it as unchecked.
        said = meta.get("sammensatStatus") or any(
            vr.get(field) for field in ("virksomhedsstatus", "status", "livsforloeb")
        )
        c["registry_status_class"].append(STATUS_CLASSES[severity] if said else None)
        c["registry_end_date"].append(str(end_date)[:10] if end_date else None)

        address = meta.get("nyesteBeliggenhedsadresse") or _current(vr.get("beliggenhedsadresse"))
        address = address or _NOTHING
        number = address.get("husnummerFra")
        letter = address.get("bogstavFra")
        postal = address.get("postnummer")
        c["registry_street"].append(address.get("vejnavn"))
        c["registry_house_number"].append(
            None
            if number is None
            else f"{number}{letter.strip().upper()}"
            if letter
            else str(number)
        )
        c["registry_floor"].append(address.get("etage"))
        c["registry_door"].append(address.get("sidedoer"))
        c["registry_postal_code"].append(f"{postal:04d}" if type(postal) is int else postal)
        c["registry_city"].append(address.get("postdistrikt"))
        c["registry_co_name"].append(address.get("conavn"))
        c["registry_po_box"].append(address.get("postboks"))

        form = meta.get("nyesteVirksomhedsform") or _current(vr.get("virksomhedsform")) or _NOTHING
        code = form.get("virksomhedsformkode")
        code = code if type(code) is int else None
        c["registry_form_code"].append(code)
        c["registry_form"].append(FORM_SHORT.get(code) or form.get("kortBeskrivelse"))  # type: ignore[arg-type]

        c["registry_phone"].append(_public_contact(vr.get("telefonNummer")))
        c["registry_email"].append(_public_contact(vr.get("elektroniskPost")))
        c["reklamebeskyttet"].append(bool(vr.get("reklamebeskyttet")))
        # Several documents for one CVR happen; prefer the one not marked as an error, then the
        # most recently updated.
        c[_RANK].append(
            ("0" if vr.get("fejlRegistreret") else "1") + str(vr.get("sidstOpdateret") or "")
        )
        return True

    def frame(self) -> pl.DataFrame:
        """The rows so far, one per CVR, with :data:`DOCUMENT_SCHEMA`."""
        return deduplicate(self.raw_frame())

    def raw_frame(self) -> pl.DataFrame:
        """The rows so far, duplicates kept, with a ranking column for :func:`deduplicate`."""
        schema = {
            **DOCUMENT_SCHEMA,
            "registry_end_date": pl.String(),
            "registry_binavne": pl.String(),
            "registry_former_names": pl.String(),
            _RANK: pl.String(),
        }
        # strict=False: a number where ERST usually has text (etage: 2) is read as text.
        frame = pl.DataFrame(self._columns, schema=schema, strict=False)
        no_names = pl.lit([], dtype=pl.List(pl.String()))
        frame = frame.with_columns(
            *(_tidy(pl.col(name)) for name in _TEXT_COLUMNS),
            *(
                pl.col(name)
                .str.split(_LIST_SEP)
                .list.eval(_tidy(pl.element()).drop_nulls())
                .fill_null(no_names)
                for name in ("registry_binavne", "registry_former_names")
            ),
            pl.col("registry_end_date").str.to_date("%Y-%m-%d", strict=False),
        )
        return mask_registry_text(frame, MASKED_DOCUMENT_COLUMNS)


# What a document's row says in words; a CPR number in any of them is masked.
MASKED_DOCUMENT_COLUMNS: Final = (*_TEXT_COLUMNS, "registry_binavne", "registry_former_names")


def mask_registry_text(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """``frame`` with every CPR number in ``columns`` masked, in any form, as in a customer's
    name: a sole proprietorship's name may carry its owner's (``Jens Hansen 010190-1234 VVS``,
    ``Jens Hansen XXXXXX-XXXX VVS``), and the registry's values reach records, report,
    worklist, the monitor's alerts and its state. Masked where the documents are read, every
    consumer (and every cache of parsed documents) sees the masked value only."""
    from datavask.cleansing.cpr import mask_cpr

    text = [c for c in columns if c in frame.columns]
    if not text or frame.is_empty():
        return frame
    masked = mask_cpr(frame.select(text), person_text=frozenset(text))
    return frame.with_columns(masked.select(text))


def _tidy(text: pl.Expr) -> pl.Expr:
    """Runs of whitespace as one space, ends trimmed, blank as null."""
    return text.str.replace_all(r"\s+", " ").str.strip_chars().replace("", None)


def deduplicate(raw: pl.DataFrame) -> pl.DataFrame:
    """One row per CVR from raw rows (see :meth:`DocumentColumns.raw_frame`), sorted by CVR."""
    return (
        raw.sort(["cvr", _RANK], descending=[False, True])
        .unique("cvr", keep="first", maintain_order=True)
        .drop(_RANK)
    )


def empty_document_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(DOCUMENT_SCHEMA))


def registry_frame(
    requested: Iterable[str], found: pl.DataFrame, failed: Iterable[str] = ()
) -> pl.DataFrame:
    """One row per requested CVR (first-seen order): the document row if found, else an empty row.

    ``failed`` are CVR numbers whose look-up did not get an answer: ``lookup_failed`` is true and
    ``found`` false for them — unknown, not "not found".
    """
    wanted = requested_cvrs(requested)
    failed_set = set(failed)
    request = pl.DataFrame(
        {"cvr": wanted, "lookup_failed": [cvr in failed_set for cvr in wanted]},
        schema={"cvr": pl.String(), "lookup_failed": pl.Boolean()},
    )
    found = found.select(list(DOCUMENT_SCHEMA)).with_columns(_found=pl.lit(True))
    joined = request.join(found, on="cvr", how="left", maintain_order="left")
    return joined.with_columns(
        found=pl.col("_found").fill_null(False) & ~pl.col("lookup_failed"),
    ).select([pl.col(name).cast(dtype) for name, dtype in REGISTRY_SCHEMA.items()])


def requested_cvrs(cvrs: Iterable[object]) -> list[str]:
    """Distinct non-null requested values as stripped text, in first-seen order."""
    seen: dict[str, None] = {}
    for value in cvrs:
        if value is None:
            continue
        text = str(value).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _severity(status: object) -> int:
    """Index in :data:`STATUS_CLASSES` of a status text (0, normal, when it says nothing known)."""
    return _text_severity(status) if isinstance(status, str) else 0


@lru_cache(maxsize=4096)
def _text_severity(status: str) -> int:
    return _SEVERITY[status_class(status) or "normal"]


def _status_in_force(
    meta: Mapping[str, Any], history: Mapping[str, Any] | None
) -> tuple[str | None, int]:
    """The status text a reader is shown, and the severity of the graver of ERST's two words:
    ``sammensatStatus``, unless the open, newest ``virksomhedsstatus`` (``history``) is graver
    (``[UNDER KONKURS (open), NORMAL (ended)]`` beside a ``sammensatStatus`` still ``NORMAL`` is
    ``UNDER KONKURS``): the text shown is the one the class, and so the flag, was read from."""
    text = meta.get("sammensatStatus")
    history_text = history.get("status") if history else None
    text_severity, history_severity = _severity(text), _severity(history_text)
    if history_text and (not text or history_severity > text_severity):
        return history_text, history_severity
    return text, max(text_severity, history_severity)


def _with_credit(status: str | None, credit: str) -> str:
    """The status with the credit status that outweighs it, as monitor writes it: ``NORMAL,
    kreditstatus: Konkurs``."""
    return f"{status}, kreditstatus: {credit}" if status else f"kreditstatus: {credit}"


def _open(items: object) -> list[Mapping[str, Any]]:
    """Elements of a history list whose period is still open."""
    if not items or not isinstance(items, list):
        return []
    return [
        item
        for item in items
        if isinstance(item, Mapping) and (item.get("periode") or _NOTHING).get("gyldigTil") is None
    ]


def _current(items: object, *, newest_if_none: bool = False) -> Mapping[str, Any] | None:
    """The open element of a history list (the newest if several); optionally the newest at all."""
    candidates = _open(items)
    if not candidates and newest_if_none and isinstance(items, list):
        candidates = [item for item in items if isinstance(item, Mapping)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    return max(candidates, key=_valid_from)


def _valid_from(item: Mapping[str, Any]) -> str:
    return str((item.get("periode") or _NOTHING).get("gyldigFra") or "")


def _former_names(vr: Mapping[str, Any], name: object, current: list[str]) -> list[str]:
    """Closed names and secondary names, newest first, without the current ones."""
    names, binavne = vr.get("navne"), vr.get("binavne")
    if (not names or len(names) == 1) and not binavne:
        return []  # the usual case: one name, never renamed
    keep = {" ".join(n.split()) for n in (name, *current) if isinstance(n, str)}
    closed: list[tuple[str, str]] = []
    for items in (names, binavne):
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, Mapping):
                continue
            until = (item.get("periode") or _NOTHING).get("gyldigTil")
            text = item.get("navn")
            if until is None or not isinstance(text, str):
                continue
            text = " ".join(text.split())
            if text and text not in keep:
                closed.append((str(until), text))
    closed.sort(reverse=True)
    return list(dict.fromkeys(text for _, text in closed))


def _public_contact(items: object) -> str | None:
    """The current non-secret value of a contact list (phone, e-mail), newest first."""
    if not items:
        return None
    public = [item for item in _open(items) if not item.get("hemmelig")]
    if not public:
        return None
    value = max(public, key=_valid_from).get("kontaktoplysning")
    return None if value is None else str(value)


# --------------------------------------------------------------------------- monitoring facts
#
# `datavask monitor` compares more of a document than cleansing does: owners and management,
# mergers, the credit status, industry, and when each fact took effect. FactColumns reads them
# into one flat row per company with FACTS_SCHEMA; each fact has a ``*_since`` column holding
# the registry's effective date (``periode.gyldigFra`` of the current value, or of the latest
# change among the relations), falling back to the document's ``sidstOpdateret``.
#
# A fact the document does not carry at all (a snapshot synced before owners were downloaded,
# cvrapi.dk) is null — unknown — while a carried but empty list is "" (no owners): monitoring
# only compares facts known on both sides.

FACTS_VERSION: Final = 4

FACTS_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "cvr": pl.String(),
    "status": pl.String(),
    "status_class": pl.String(),
    "status_since": pl.String(),
    "credit_status": pl.String(),
    "name": pl.String(),
    "name_since": pl.String(),
    "address": pl.String(),
    "address_id": pl.String(),
    "address_since": pl.String(),
    "legal_form": pl.String(),
    "industry_code": pl.String(),
    "industry": pl.String(),
    "owners": pl.String(),
    "owners_since": pl.String(),
    "management": pl.String(),
    "management_since": pl.String(),
    "merged_into": pl.String(),
    "merged_since": pl.String(),
    "end_date": pl.String(),
    "updated_at": pl.String(),
}

# What monitoring asks the ERST API for (and what `registry sync` keeps beside SOURCE_FIELDS).
FACT_FIELDS: Final = (
    *SOURCE_FIELDS,
    "Vrvirksomhed.hovedbranche",
    "Vrvirksomhed.deltagerRelation",
    "Vrvirksomhed.fusioner",
    "Vrvirksomhed.virksomhedMetadata.nyesteHovedbranche",
)

# Owner registers (hovedtype REGISTER) and management bodies (hovedtype LEDELSESORGAN).
_OWNER_REGISTERS: Final = frozenset({"ejerregister", "reelle ejere", "reel ejer register"})
_SHARE_TYPES: Final = ("EJERANDEL_PROCENT", "EJERANDEL_STEMMERET_PROCENT")


def format_address(address: Mapping[str, Any]) -> str | None:
    """One line for an ERST address object: ``Vestergade 12A, 2. tv, 8000 Aarhus C``.

    >>> format_address({"vejnavn": "Vestergade", "husnummerFra": 12, "bogstavFra": "a",
    ...                 "etage": "2", "sidedoer": "tv", "postnummer": 8000,
    ...                 "postdistrikt": "Aarhus C"})
    'Vestergade 12A, 2. tv, 8000 Aarhus C'
    >>> format_address({}) is None
    True
    """
    number, letter = address.get("husnummerFra"), address.get("bogstavFra")
    street = " ".join(
        str(part)
        for part in (
            address.get("vejnavn"),
            None if number is None else f"{number}{str(letter or '').strip().upper()}",
        )
        if part
    )
    unit = ". ".join(str(p) for p in (address.get("etage"), address.get("sidedoer")) if p)
    postal = address.get("postnummer")
    town = " ".join(
        str(p)
        for p in (f"{postal:04d}" if type(postal) is int else postal, address.get("postdistrikt"))
        if p
    )
    box = address.get("postboks")
    parts = [
        f"c/o {address['conavn']}" if address.get("conavn") else None,
        street or None,
        unit or None,
        f"Postboks {box}" if box else None,
        town or None,
    ]
    line = ", ".join(" ".join(str(p).split()) for p in parts if p)
    return line or None


def _text(value: object) -> str | None:
    return " ".join(str(value).split()) or None if value is not None else None


def _since(item: Mapping[str, Any] | None) -> str | None:
    if not item:
        return None
    start = (item.get("periode") or _NOTHING).get("gyldigFra")
    return str(start)[:10] if start else None


def _participant_name(participant: Mapping[str, Any]) -> str:
    item = _current(participant.get("navne"), newest_if_none=True)
    name = item.get("navn") if item else None
    number = participant.get("enhedsNummer")
    text = " ".join(str(name).split()) if name else "?"
    return f"{text} ({number})" if number is not None else text


def _attribute_values(attributes: object, kind: str) -> list[Mapping[str, Any]]:
    """Every value element of the attributes of ``kind`` (open and closed)."""
    if not isinstance(attributes, list):
        return []
    return [
        value
        for attribute in attributes
        if isinstance(attribute, Mapping) and attribute.get("type") == kind
        for value in attribute.get("vaerdier") or []
        if isinstance(value, Mapping)
    ]


def _member_attributes(organisation: Mapping[str, Any]) -> list[Any]:
    return [
        attribute
        for member in organisation.get("medlemsData") or []
        if isinstance(member, Mapping)
        for attribute in member.get("attributter") or []
    ]


def _share(value: object) -> str:
    """ERST gives ownership as a fraction ("0.5") or an interval bound; shown as a percentage."""
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    percent = number * 100 if number <= 1 else number
    return f"{percent:.2f}".rstrip("0").rstrip(".") + "%"


def _period_dates(items: list[Mapping[str, Any]]) -> list[str]:
    dates = []
    for item in items:
        period = item.get("periode") or _NOTHING
        dates += [str(d)[:10] for d in (period.get("gyldigFra"), period.get("gyldigTil")) if d]
    return dates


def _relations(vr: Mapping[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """``(owners, owners_since, management, management_since)`` from ``deltagerRelation``.

    Owners: members of an owner register (EJERREGISTER, Reelle ejere) with an open share, as
    ``Name (enhedsNummer) 50%``. Management: members of a LEDELSESORGAN (Direktion, Bestyrelse)
    with an open function, as ``Bestyrelse: Name (enhedsNummer) FORMAND``. Both sorted, ``; ``
    joined; the dates are the latest start or end among the relations' periods.
    """
    if "deltagerRelation" not in vr:
        return None, None, None, None
    owners: set[str] = set()
    board: set[str] = set()
    owner_dates: list[str] = []
    board_dates: list[str] = []
    for relation in vr.get("deltagerRelation") or []:
        if not isinstance(relation, Mapping):
            continue
        who = _participant_name(relation.get("deltager") or _NOTHING)
        for organisation in relation.get("organisationer") or []:
            if not isinstance(organisation, Mapping):
                continue
            kind = str(organisation.get("hovedtype") or "").upper()
            body_item = _current(organisation.get("organisationsNavn"), newest_if_none=True)
            body = str(body_item.get("navn") or "") if body_item else ""
            attributes = _member_attributes(organisation)
            if kind == "REGISTER" and body.casefold() in _OWNER_REGISTERS:
                values = [v for t in _SHARE_TYPES for v in _attribute_values(attributes, t)]
                owner_dates += _period_dates(values)
                shares = _open(values)
                if shares:
                    owners.add(f"{who} {_share(max(shares, key=_valid_from).get('vaerdi'))}")
            elif kind == "LEDELSESORGAN":
                values = _attribute_values(attributes, "FUNKTION")
                board_dates += _period_dates(values)
                functions = _open(values)
                if functions:
                    role = max(functions, key=_valid_from).get("vaerdi")
                    board.add(f"{body}: {who} {role}".strip())
    return (
        "; ".join(sorted(owners)),
        max(owner_dates, default=None),
        "; ".join(sorted(board)),
        max(board_dates, default=None),
    )


def _merger(vr: Mapping[str, Any], own: str, *, ceased: bool) -> tuple[str | None, str | None]:
    """``(successor CVR, since)`` of the newest merger this company entered, if any.

    A ``fusioner`` entry names the counterpart in its ``udgaaende``/``indgaaende`` attributes;
    the successor is the first value there that is a CVR number other than this company's own.
    A merger without such a value is the company absorbing another (it continues: None) unless
    the company has ceased, when the successor is unknown (``"?"``) but the merger is reported.
    ERST's documents name the counterpart only through the merger's organisation
    (``enhedsNummerOrganisation``), not by CVR number, so a real document's successor is ``?``.

    The merger starts at the first date of its values, else at its organisation's name
    (``organisationsNavn[].periode.gyldigFra``: ``Fusion`` from ``2026-06-01``); None when it
    carries no date (the caller then takes the start of the status in force).
    """
    mergers = [m for m in vr.get("fusioner") or [] if isinstance(m, Mapping)]
    if not mergers:
        # "OPLØST EFTER FUSION" without the merger itself (a trimmed document): merged, successor
        # unknown.
        status = (vr.get("virksomhedMetadata") or _NOTHING).get("sammensatStatus")
        if ceased and isinstance(status, str) and "fusion" in status.casefold():
            return "?", None
        return None, None
    newest = max(mergers, key=lambda m: max(_merger_dates(m), default=""))
    values = _merger_values(newest)
    successor = next(
        (
            text
            for value in values
            if (text := cvr_text(value.get("vaerdi"))) is not None and text != own
        ),
        "?" if ceased else None,
    )
    if successor is None:
        return None, None
    return successor, min(_period_dates(values) or _merger_dates(newest), default=None)


def _merger_dates(merger: Mapping[str, Any]) -> list[str]:
    """Every date a ``fusioner`` entry carries: its values' periods and its organisation name's
    start (a merger whose ``udgaaende`` holds no values is dated by its name alone)."""
    names = [n for n in merger.get("organisationsNavn") or [] if isinstance(n, Mapping)]
    started = [str(d)[:10] for n in names if (d := (n.get("periode") or _NOTHING).get("gyldigFra"))]
    return _period_dates(_merger_values(merger)) + started


def _merger_values(merger: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        value
        for side in ("udgaaende", "indgaaende")
        for attribute in merger.get(side) or []
        if isinstance(attribute, Mapping)
        for value in attribute.get("vaerdier") or []
        if isinstance(value, Mapping)
    ]


class FactColumns:
    """Accumulates monitoring rows (:data:`FACTS_SCHEMA`), one per document, column by column."""

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in FACTS_SCHEMA}
        self._columns[_RANK] = []

    def __len__(self) -> int:
        return len(self._columns["cvr"])

    def add(self, vr: Mapping[str, Any]) -> bool:
        """Append the row of one ``Vrvirksomhed``; False (nothing added) for a malformed one."""
        try:
            row = self._row(vr)
        except (AttributeError, TypeError, ValueError):
            return False
        if row is None:
            return False
        for name, value in row.items():
            self._columns[name].append(value)
        return True

    def _row(self, vr: Mapping[str, Any]) -> dict[str, Any] | None:
        cvr = cvr_text(vr.get("cvrNummer"))
        if cvr is None:
            return None
        meta = vr.get("virksomhedMetadata") or _NOTHING
        updated_raw = vr.get("sidstOpdateret")
        updated = str(updated_raw or "")[:10] or None
        name_item = meta.get("nyesteNavn") or _current(vr.get("navne"), newest_if_none=True)
        address = meta.get("nyesteBeliggenhedsadresse") or _current(vr.get("beliggenhedsadresse"))
        form = meta.get("nyesteVirksomhedsform") or _current(vr.get("virksomhedsform")) or _NOTHING
        industry = meta.get("nyesteHovedbranche") or _current(vr.get("hovedbranche")) or _NOTHING
        code = form.get("virksomhedsformkode")
        status, status_cls, status_since, credit = _status(vr, meta)
        life = _current(vr.get("livsforloeb"), newest_if_none=True)
        end = (life.get("periode") or _NOTHING).get("gyldigTil") if life else None
        owners, owners_since, board, board_since = _relations(vr)
        merged, merged_since = _merger(vr, cvr, ceased=status_cls == "dissolved")
        industry_code = industry.get("branchekode")
        return {
            "cvr": cvr,
            "status": status,
            "status_class": status_cls,
            "status_since": (str(end)[:10] if end and status_cls == "dissolved" else status_since)
            or updated,
            "credit_status": credit,
            "name": _text(name_item.get("navn")) if name_item else None,
            "name_since": _since(name_item) or updated,
            "address": format_address(address) if address else None,
            "address_id": (address or _NOTHING).get("adresseId"),
            "address_since": _since(address) or updated,
            "legal_form": (FORM_SHORT.get(code) if type(code) is int else None)
            or form.get("kortBeskrivelse"),
            "industry_code": None if industry_code is None else str(industry_code),
            "industry": industry.get("branchetekst"),
            "owners": owners,
            "owners_since": owners_since or (updated if owners is not None else None),
            "management": board,
            "management_since": board_since or (updated if board is not None else None),
            "merged_into": merged,
            # A merger without a date of its own started when the status in force did (``OPLØST
            # EFTER FUSION`` from 2026-06-01), not when the document was last touched.
            "merged_since": merged_since
            or ((status_since or (str(end)[:10] if end else None) or updated) if merged else None),
            "end_date": str(end)[:10] if end else None,
            "updated_at": updated,
            _RANK: ("0" if vr.get("fejlRegistreret") else "1") + str(updated_raw or ""),
        }

    def frame(self) -> pl.DataFrame:
        """The rows so far, one per CVR (the preferred document of duplicates)."""
        return deduplicate(self.raw_frame())

    def raw_frame(self) -> pl.DataFrame:
        schema = {**FACTS_SCHEMA, _RANK: pl.String()}
        frame = pl.DataFrame(self._columns, schema=schema, strict=False)
        return mask_registry_text(frame, _MASKED_FACT_COLUMNS)


# The facts said in words (not the CVR numbers, dates, codes or DAR's address id).
_MASKED_FACT_COLUMNS: Final = (
    "status", "credit_status", "name", "address", "legal_form", "industry", "owners", "management",
)  # fmt: skip


def _status(
    vr: Mapping[str, Any], meta: Mapping[str, Any]
) -> tuple[str | None, str | None, str | None, str | None]:
    """``(status text, status class, since, credit-status text)`` of a document.

    The class is the most severe of ``sammensatStatus``, the open ``virksomhedsstatus`` and the
    credit status (``Konkurs`` is bankrupt, any other open credit status distressed); an ended
    ``livsforloeb`` is dissolved. The text is the graver of the first two
    (:func:`_status_in_force`); the credit status stays apart (alerts write them together).
    A document with none of them says nothing of the company's state: class None, not normal
    (a trimmed document alerted ``Normal → ''`` and the state forgot the bankruptcy it held).
    """
    history = _current(vr.get("virksomhedsstatus"))
    text, severity = _status_in_force(meta, history)
    credits = [c for c in _open(vr.get("status")) if c.get("kreditoplysningtekst")]
    credit_item = max(credits, key=_valid_from) if credits else None
    credit = str(credit_item.get("kreditoplysningtekst")) if credit_item else None
    since = _since(history)
    if credit_item is not None:
        credit_severity = _BANKRUPT if credit.casefold() == "konkurs" else 1  # type: ignore[union-attr]
        if credit_severity >= severity:  # the credit status is the newer evidence
            severity, since = credit_severity, _since(credit_item) or since
    life = _current(vr.get("livsforloeb"), newest_if_none=True)
    if life and (life.get("periode") or _NOTHING).get("gyldigTil"):
        severity = _DISSOLVED
    if not text and credit_item is None and not life:
        return None, None, None, None
    return (" ".join(str(text).split()) if text else None), STATUS_CLASSES[severity], since, credit


def empty_facts_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(FACTS_SCHEMA))


def facts_frame(
    requested: Iterable[str], found: pl.DataFrame, failed: Iterable[str] = ()
) -> pl.DataFrame:
    """One row per requested CVR: ``found`` / ``lookup_failed`` and the facts (null if none)."""
    wanted = requested_cvrs(requested)
    failed_set = set(failed)
    request = pl.DataFrame(
        {"cvr": wanted, "lookup_failed": [cvr in failed_set for cvr in wanted]},
        schema={"cvr": pl.String(), "lookup_failed": pl.Boolean()},
    )
    found = found.select(list(FACTS_SCHEMA)).with_columns(_found=pl.lit(True))
    joined = request.join(found, on="cvr", how="left", maintain_order="left")
    facts = [pl.col(name).cast(dtype) for name, dtype in FACTS_SCHEMA.items() if name != "cvr"]
    return joined.select(
        "cvr",
        (pl.col("_found").fill_null(False) & ~pl.col("lookup_failed")).alias("found"),
        "lookup_failed",
        *facts,
    )


def facts_from_registry(registry: pl.DataFrame) -> pl.DataFrame:
    """Monitoring facts from registry rows (:data:`REGISTRY_SCHEMA`), for sources that give no
    documents (cvrapi.dk): status, name, address and legal form; the rest unknown (null)."""
    street = pl.concat_str(
        pl.col("registry_street"), pl.col("registry_house_number"), separator=" ", ignore_nulls=True
    )
    unit = pl.concat_str(
        pl.col("registry_floor"), pl.col("registry_door"), separator=". ", ignore_nulls=True
    )
    town = pl.concat_str(
        pl.col("registry_postal_code"), pl.col("registry_city"), separator=" ", ignore_nulls=True
    )
    address = pl.concat_str(
        pl.lit("c/o ") + pl.col("registry_co_name"),
        street.replace("", None),
        unit.replace("", None),
        pl.lit("Postboks ") + pl.col("registry_po_box"),
        town.replace("", None),
        separator=", ",
        ignore_nulls=True,
    ).replace("", None)
    unknown = pl.lit(None, dtype=pl.String())
    end = pl.col("registry_end_date").cast(pl.String())
    return registry.select(
        "cvr",
        "found",
        "lookup_failed",
        status=pl.col("registry_status"),
        status_class=pl.col("registry_status_class"),
        status_since=end,
        credit_status=unknown,
        name=pl.col("registry_name"),
        name_since=unknown,
        address=address,
        address_id=unknown,
        address_since=unknown,
        legal_form=pl.col("registry_form"),
        industry_code=unknown,
        industry=unknown,
        owners=unknown,
        owners_since=unknown,
        management=unknown,
        management_since=unknown,
        merged_into=unknown,
        merged_since=unknown,
        end_date=end,
        updated_at=unknown,
    )
