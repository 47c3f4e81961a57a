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
PARSER_VERSION: Final = 2

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

        status = meta.get("sammensatStatus")
        history = _current(vr.get("virksomhedsstatus"))
        history_status = history.get("status") if history else None
        severity = max(_severity(status), _severity(history_status))
        if severity < _BANKRUPT and any(
            s.get("kreditoplysningtekst") == "Konkurs" for s in _open(vr.get("status"))
        ):
            severity = _BANKRUPT
        life = _current(vr.get("livsforloeb"), newest_if_none=True)
        end_date = (life.get("periode") or _NOTHING).get("gyldigTil") if life else None
        if end_date:
            severity = _DISSOLVED
        c["registry_status"].append(status if status else history_status)
        c["registry_status_class"].append(STATUS_CLASSES[severity])
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
        return frame.with_columns(
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
