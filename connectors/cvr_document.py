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
    if text.startswith("opløst") or text in _DISSOLVED:
        return "dissolved"
    if "konkurs" in text:
        return "bankrupt"
    if text.startswith("under "):  # tvangsopløsning, frivillig likvidation, rekonstruktion…
        return "distressed"
    return None


_DISSOLVED: Final = frozenset({"tvangsopløst", "slettet", "ophørt", "ceased", "fusioneret"})


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
        text = f"{value:08d}"
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
        """Append the row of one ``Vrvirksomhed``; False (and nothing added) without a CVR."""
        cvr = cvr_text(vr.get("cvrNummer"))
        if cvr is None:
            return False
        meta = vr.get("virksomhedMetadata") or {}
        c = self._columns

        name_item = meta.get("nyesteNavn") or _current(vr.get("navne"), newest_if_none=True)
        name = _text(name_item.get("navn")) if name_item else None
        binavne = meta.get("nyesteBinavne")
        if binavne is None:
            binavne = [b.get("navn") for b in _open(vr.get("binavne"))]
        current = [n for n in (_text(b) for b in binavne) if n]
        former = _former_names(vr, {name, *current})

        statuses = []
        status = _text(meta.get("sammensatStatus"))
        history = _current(vr.get("virksomhedsstatus"))
        history_status = _text(history.get("status")) if history else None
        for text in (status, history_status):
            statuses.append(status_class(text))
        if any(s.get("kreditoplysningtekst") == "Konkurs" for s in _open(vr.get("status"))):
            statuses.append("bankrupt")
        life = _current(vr.get("livsforloeb"), newest_if_none=True)
        end_date = (life.get("periode") or {}).get("gyldigTil") if life else None
        if end_date:
            statuses.append("dissolved")
        known = [s for s in statuses if s]
        c["registry_status"].append(status or history_status)
        c["registry_status_class"].append(
            max(known, key=_SEVERITY.__getitem__) if known else "normal"
        )
        c["registry_end_date"].append(end_date[:10] if end_date else None)

        address = meta.get("nyesteBeliggenhedsadresse") or _current(vr.get("beliggenhedsadresse"))
        address = address or {}
        number = address.get("husnummerFra")
        postal = address.get("postnummer")
        c["registry_street"].append(_text(address.get("vejnavn")))
        c["registry_house_number"].append(
            f"{number}{(_text(address.get('bogstavFra')) or '').upper()}"
            if number is not None
            else None
        )
        c["registry_floor"].append(_text(address.get("etage")))
        c["registry_door"].append(_text(address.get("sidedoer")))
        c["registry_postal_code"].append(
            f"{postal:04d}" if isinstance(postal, int) else _text(postal)
        )
        c["registry_city"].append(_text(address.get("postdistrikt")))
        c["registry_co_name"].append(_text(address.get("conavn")))
        c["registry_po_box"].append(_text(address.get("postboks")))

        form = meta.get("nyesteVirksomhedsform") or _current(vr.get("virksomhedsform")) or {}
        code = form.get("virksomhedsformkode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        c["registry_form_code"].append(code)
        c["registry_form"].append(
            FORM_SHORT.get(code, _text(form.get("kortBeskrivelse")))
            if code is not None
            else _text(form.get("kortBeskrivelse"))
        )

        c["registry_phone"].append(_public_contact(vr.get("telefonNummer")))
        c["registry_email"].append(_public_contact(vr.get("elektroniskPost")))
        c["reklamebeskyttet"].append(bool(vr.get("reklamebeskyttet")))
        c["cvr"].append(cvr)
        c["registry_name"].append(name)
        c["registry_binavne"].append(current)
        c["registry_former_names"].append(former)
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
        schema = {**DOCUMENT_SCHEMA, "registry_end_date": pl.String(), _RANK: pl.String()}
        frame = pl.DataFrame(self._columns, schema=schema)
        return frame.with_columns(pl.col("registry_end_date").str.to_date("%Y-%m-%d", strict=False))


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


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _open(items: object) -> list[Mapping[str, Any]]:
    """Elements of a history list whose period is still open."""
    if not isinstance(items, list):
        return []
    return [
        item
        for item in items
        if isinstance(item, Mapping) and (item.get("periode") or {}).get("gyldigTil") is None
    ]


def _current(items: object, *, newest_if_none: bool = False) -> Mapping[str, Any] | None:
    """The open element of a history list (the newest if several); optionally the newest at all."""
    candidates = _open(items)
    if not candidates and newest_if_none and isinstance(items, list):
        candidates = [item for item in items if isinstance(item, Mapping)]
    if not candidates:
        return None
    return max(candidates, key=lambda item: str((item.get("periode") or {}).get("gyldigFra") or ""))


def _former_names(vr: Mapping[str, Any], current: set[str | None]) -> list[str]:
    """Closed names and secondary names, newest first, without the current ones."""
    closed: list[tuple[str, str]] = []
    for key in ("navne", "binavne"):
        items = vr.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, Mapping):
                continue
            until = (item.get("periode") or {}).get("gyldigTil")
            name = _text(item.get("navn"))
            if until is not None and name and name not in current:
                closed.append((str(until), name))
    closed.sort(reverse=True)
    return list(dict.fromkeys(name for _, name in closed))


def _public_contact(items: object) -> str | None:
    """The current non-secret value of a contact list (phone, e-mail), newest first."""
    public = [item for item in _open(items) if not item.get("hemmelig")]
    if not public:
        return None
    newest = max(public, key=lambda item: str((item.get("periode") or {}).get("gyldigFra") or ""))
    return _text(newest.get("kontaktoplysning"))
