"""E-mail addresses: every syntactically valid address in an e-mail field, lower-cased.

An e-mail field in a CRM export holds ``jens@firma.dk``, ``Jens@Firma.DK ``,
``mailto:jens@firma.dk``, ``jens @ firma.dk``, ``<jens@firma.dk>``,
``"Jens Hansen" <jens@firma.dk>``, several addresses (``a@firma.dk; b@firma.dk``,
``a@firma.dk / b@firma.dk``), or rubbish.

The rules (the reference is :func:`parse_emails`, one value at a time with email-validator):

- the value is lower-cased, ``mailto:`` is removed, ``(at)`` and ``[at]`` are ``@``
  (``jens(at)firma.dk``), spaces around ``@`` are closed up, and a comma typed for the full stop
  of a domain that has none is one (``jens@firma,dk``);
- a word joining two addresses (``info@vvs.dk og ordre@vvs.dk``: ``og``, ``and``, ``eller``,
  ``or``, ``&``, ``+``) separates them as ``;`` does;
- it is split into tokens at ``;``, ``,``, ``/``, ``<``, ``>`` and whitespace; quotes, brackets and
  colons are trimmed off each token (``(jens@firma.dk)``), a full stop is not
  (``jens@firma.dk.`` is invalid); a word glued by a space to an address
  (``josefine andreasen@hotmail.com``) makes the whole token invalid, unless it ends in a full
  stop (``att. jens@firma.dk``);
- tokens without ``@`` are display names or noise and are dropped;
- a token holding a masked CPR number (``xxxxxx-xxxx@mail.dk``, read from
  ``0101901234@mail.dk``) is invalid: no mail reaches it;
- every other token is checked by ``email_validator.validate_email`` with its defaults (no
  quoted local parts, no IP-address domains, no special-use domains such as ``.local`` or
  ``.test``, internationalised domains such as ``æblemand.dk`` allowed) and, only when asked,
  a DNS deliverability check; the valid ones are kept in order without repeats;
- a free-mail provider's domain mistyped is mended (:func:`provider_domain`: ``gmial.com``,
  ``hotmial.dk``, ``gmail.con``); ``hotmail.de`` and ``email.com`` are domains of their own;
- a placeholder typed because the field was required (:func:`placeholder_email`:
  ``ingen@ingen.dk``, ``test@test.dk``, ``x@x.dk``, ``noreply@firma.dk``,
  ``faktura@example.com``) is no address of the customer: it is left out, as an invalid token is.

:func:`normalise_emails` settles the plainly valid tokens (ASCII dot-atom local part, ordinary
host names under an alphabetic top-level domain, within the length limits) and the plainly
invalid ones (no single ``@`` with text on both sides, no dot in an ASCII domain) with polars
regular expressions, and asks email-validator only about the rest, once per distinct token.
A field that is not one plain address is tokenised once per distinct value, not once per row.
``tests/cleansing/test_emails.py`` shows the fast path and email-validator agree on a large corpus.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

import polars as pl
from email_validator import EmailNotValidError, validate_email

from datavask.cleansing.cpr import MASK
from datavask.cleansing.reference import load_reference
from datavask.cleansing.schema import flag, raw, stage_text

# Unicode White_Space, spelled out so Python's re and polars' regex engine split alike.
_WHITESPACE: Final = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SEPARATORS: Final = f"[;,/<>{_WHITESPACE}]+"
# ``@``, or ``(at)`` / ``[at]`` as addresses are written to keep them from harvesters
_AROUND_AT: Final = f"[{_WHITESPACE}]*(?:@|\\(at\\)|\\[at\\])[{_WHITESPACE}]*"
# Quotes and brackets are wrapping; a trailing full stop is not (email-validator rejects
# ``jens@firma.dk.``, and so do we: the address may have lost its last label).
_TRIM: Final = "\"'()[]{}:"
# ``josefine andreasen@hotmail.com``: a word glued by a space to a local part is part of a broken
# address, not a display name; the space becomes a character no address may hold, so the token
# stays whole and is rejected instead of yielding ``andreasen@hotmail.com``.
_LOCAL_CHAR: Final = "[a-z0-9._%+\\-]"
# A word ending in a full stop (``att. jens@firma.dk``) is a label before the address: no local
# part ends in one.
_BROKEN_LOCAL: Final = f"(^|[^a-z0-9._%+\\-@])({_LOCAL_CHAR}*[a-z0-9_%+\\-])[ ]+({_LOCAL_CHAR}+@)"
# ``jens@firma,dk``: a comma typed for the full stop of a domain that has none, before its end.
_COMMA_DOMAIN: Final = f"(@[a-z0-9-]+),([a-z]{{2,6}})($|[;/<>{_WHITESPACE}\"')\\]])"
_BROKEN_LOCAL_MARK: Final = "\x01"
# ``info@vvs.dk og ordre@vvs.dk``: a word after an address joining it to the next is a separator
# (``;``), not a word glued to the next address's local part (which would make it invalid).
_JOINED: Final = (
    f"(@[^;,/<>{_WHITESPACE}]+)[{_WHITESPACE}]+(?:og|and|eller|or|&|\\+)[{_WHITESPACE}]+"
)

_ATEXT: Final = "[a-z0-9!#$%&'*+=?^_`{|}~-]"
_LABEL: Final = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Plainly valid: dot-atom local part, host labels, alphabetic TLD — the shape of 99 % of addresses.
_PLAIN_VALID: Final = f"^{_ATEXT}+(?:\\.{_ATEXT}+)*@(?:{_LABEL}\\.)+[a-z]{{2,63}}$"
# …unless email-validator would still object: special-use TLDs, IDNA's "ab--" rule.
_NEEDS_A_CLOSER_LOOK: Final = r"\.(?:arpa|invalid|local|localhost|onion|test)$|@.*--"
# Plainly invalid: not exactly one @ with text on both sides, or an ASCII domain without a dot;
# or holding a masked CPR number (``0101901234@mail.dk`` was read as ``xxxxxx-xxxx@mail.dk``: an
# address no mail reaches, which must not count as a way to reach the customer).
_MASKED_CPR: Final = MASK.lower()  # tokens are lower-cased
_PLAIN_INVALID: Final = rf"^[^@]*$|^@|@$|@.*@|^[\x00-\x7f]*@[^.]*$|{re.escape(_MASKED_CPR)}"
# Shorter than these limits, email-validator checks nothing more about lengths.
_MAX_LOCAL: Final = 64
_MAX_ADDRESS: Final = 254

_SEPARATORS_RE: Final = re.compile(_SEPARATORS)
_BROKEN_LOCAL_RE: Final = re.compile(_BROKEN_LOCAL)
_AROUND_AT_RE: Final = re.compile(_AROUND_AT)
_COMMA_DOMAIN_RE: Final = re.compile(_COMMA_DOMAIN)
_JOINED_RE: Final = re.compile(_JOINED)


def email_tokens(value: str | None) -> list[str]:
    """The candidate addresses in ``value``: lower-cased, unwrapped, split, with an ``@``.

    >>> email_tokens('"Jens Hansen" <Jens@Firma.DK>; mailto:b @ firma.dk')
    ['jens@firma.dk', 'b@firma.dk']
    """
    if value is None:
        return []
    text = _AROUND_AT_RE.sub("@", value.lower().replace("mailto:", ""))
    text = _COMMA_DOMAIN_RE.sub("\\1.\\2\\3", text)
    text = _JOINED_RE.sub("\\1;", text)
    text = _BROKEN_LOCAL_RE.sub(f"\\1\\2{_BROKEN_LOCAL_MARK}\\3", text)
    tokens = (token.strip(_TRIM) for token in _SEPARATORS_RE.split(text))
    return [token for token in tokens if "@" in token]


def check_email(token: str, *, check_deliverability: bool = False) -> str | None:
    """The normalised, lower-cased address when email-validator accepts ``token``, else None.

    >>> check_email('jens@æblemand.dk')
    'jens@æblemand.dk'
    >>> check_email('jens@firma') is None
    True
    >>> check_email('XXXXXX-XXXX@mail.dk') is None  # a CPR number, masked
    True
    """
    if _MASKED_CPR in token.lower():
        return None
    try:
        checked = validate_email(token, check_deliverability=check_deliverability)
    except EmailNotValidError:
        return None
    return checked.normalized.lower()


@cache
def free_mail_domains() -> frozenset[str]:
    """Free-mail and consumer ISP domains (``data/reference/free_mail_domains.csv``)."""
    return frozenset(load_reference("free_mail_domains")["domain"].str.to_lowercase())


# What ``.com`` of a free-mail domain is typed as: ``gmail.con``, ``hotmail.cm``. (``.co`` and
# ``.cm`` are countries' domains too, but not Gmail's, Hotmail's or Yahoo's.)
_COM_TYPOS: Final = frozenset({"con", "cmo", "comm", "co", "cm", "om", "vom", "xom", "cpm", "coom"})
# A provider's name shorter than this is too near other names to be mended (``mail``, ``live``).
_PROVIDER_LENGTH: Final = 5


def provider_domain(domain: str) -> str:
    """``domain``, or the free-mail domain it is plainly a typo of: its provider's name one edit
    off under the same top-level domain (``gmial.com``, ``hotmial.dk``), or the provider's own
    name with ``.com`` mistyped (``gmail.con``). A domain of the list, or whose name is a listed
    provider's (``hotmail.de``, ``email.com``), is itself.

    >>> provider_domain("gmial.com"), provider_domain("yahoo.con"), provider_domain("hotmail.de")
    ('gmail.com', 'yahoo.com', 'hotmail.de')
    """
    return _mistyped_providers().get(domain, domain)


_DOMAIN_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz0123456789-"


def _one_edit(word: str) -> set[str]:
    """Every word one deletion, transposition, substitution or insertion away from ``word``,
    after its first letter: ``cloud`` and ``telia``'s ``delia`` are names of their own."""
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in _DOMAIN_LETTERS}
        | {a + c + b for a, b in splits for c in _DOMAIN_LETTERS}
    ) - {word}


@cache
def _mistyped_providers() -> dict[str, str]:
    """Each mistyped free-mail domain :func:`provider_domain` mends, and its domain.

    Spelled out once from the list (some twenty thousand), so mending a file is a look-up.
    """
    known = free_mail_domains()
    names = {d.rpartition(".")[0] for d in known}
    typos: dict[str, set[str]] = {}
    for domain in known:
        name, _, tld = domain.rpartition(".")
        if tld == "com":
            for typo in _COM_TYPOS:
                typos.setdefault(f"{name}.{typo}", set()).add(domain)
        if len(name) >= _PROVIDER_LENGTH:
            for other in _one_edit(name) - names:
                typos.setdefault(f"{other}.{tld}", set()).add(domain)
    # A listed domain is itself; a typo of two providers' names is neither's.
    return {
        typo: next(iter(to)) for typo, to in typos.items() if len(to) == 1 and typo not in known
    }


def _mend_providers(emails: pl.Series) -> pl.Series:
    """Lists of addresses with the free-mail domains :func:`provider_domain` mends, mended."""
    mistyped = _mistyped_providers()
    addresses = emails.rename("address").to_frame().with_row_index("row").explode("address")
    address = pl.col("address")
    typo = address.str.split("@").list.last().is_in(list(mistyped)).fill_null(False)
    if not addresses.select(typo.any()).item():
        return emails
    # Only the lists the mend changes are rewritten, the others kept (at 1M records rewriting
    # every list cost 1.1 CPU-s): a list with a mistyped domain, or with an address the rewrite
    # would not give back as it is (no ``@`` with text after it on the address's first line).
    kept = address.str.contains(r"^[^\n]*@[^@]+$").fill_null(True)
    rows = addresses.filter(typo | ~kept)["row"]
    rewritten = pl.repeat(False, emails.len(), dtype=pl.Boolean, eager=True).scatter(rows, True)
    local = pl.element().str.extract(r"^(.*@)")
    domain = pl.element().str.extract(r"@([^@]+)$")
    mended = (
        emails.filter(rewritten)
        .to_frame()
        .select(pl.col(emails.name).list.eval(pl.concat_str(local, domain.replace(mistyped))))
        .to_series()
    )
    # each rewritten row's place among the rewritten ones
    place = pl.select(pl.when(rewritten).then(rewritten.cum_sum() - 1)).to_series()
    return pl.select(
        pl.when(rewritten).then(mended.gather(place)).otherwise(emails).alias(emails.name)
    ).to_series()


@cache
def _placeholders() -> dict[str, frozenset[str]]:
    """The addresses of ``email_placeholders.csv`` by part: local, name, domain, tld."""
    table = load_reference("email_placeholders")
    return {
        part: frozenset(table.filter(pl.col("part") == part)["value"].str.to_lowercase())
        for part in ("local", "name", "domain", "tld")
    }


# A local part and a domain name of one character, or one repeated, the same: ``a@a.dk``,
# ``x@x.dk``, ``xx@xx.com`` (``a@b.dk`` may be someone's). Spelled out per character, as polars'
# regex engine has no back-references.
_ONE_CHARACTER: Final = "|".join(f"{c}+@{c}+" for c in "abcdefghijklmnopqrstuvwxyz0123456789")
_REPEATED_CHARACTER: Final = f"^(?:{_ONE_CHARACTER})\\.[^.@]+$"
_REPEATED_CHARACTER_RE: Final = re.compile(_REPEATED_CHARACTER)


def placeholder_email(address: pl.Expr) -> pl.Expr:
    """Whether a lower-cased, valid address is a placeholder typed because the field was required
    and no address was known (``data/reference/email_placeholders.csv``): ``ingen@ingen.dk``,
    ``ingen@mail.dk``, ``test@test.dk``, ``noreply@firma.dk``, ``x@x.dk``, ``a@a.dk``, an address
    at a domain reserved for examples (``faktura@example.com``, ``jens@firma.example``). A
    mailbox a firm reads is none: ``info@firma.dk``, ``kontakt@…``, ``post@…``,
    ``faktura@firma.dk``, and two letters are initials (``no@firma.dk``).

    >>> addresses = pl.Series(["x@x.dk", "noreply@firma.dk", "info@firma.dk", "no@firma.dk"])
    >>> addresses.to_frame("a").select(placeholder_email(pl.col("a")))["a"].to_list()
    [True, True, False, False]
    """
    places = _placeholders()
    local = address.str.extract(r"^(.*)@", 1)
    domain = address.str.extract(r"@([^@]*)$", 1)
    labels = domain.str.split(".")
    return (
        local.is_in(sorted(places["local"]))
        | domain.is_in(sorted(places["domain"]))
        | (
            (labels.list.len() > 1)
            & (
                labels.list.first().is_in(sorted(places["name"]))
                | labels.list.last().is_in(sorted(places["tld"]))
            )
        )
        | address.str.contains(_REPEATED_CHARACTER)
    ).fill_null(False)


def _is_placeholder(address: str) -> bool:
    """:func:`placeholder_email` of one address, for :func:`parse_emails`."""
    places = _placeholders()
    local, _, domain = address.rpartition("@")
    labels = domain.split(".")
    return (
        local in places["local"]
        or domain in places["domain"]
        or (len(labels) > 1 and (labels[0] in places["name"] or labels[-1] in places["tld"]))
        or _REPEATED_CHARACTER_RE.search(address) is not None
    )


def parse_emails(value: str | None, *, check_deliverability: bool = False) -> list[str]:
    """Every valid address in ``value`` but placeholders, lower-cased, in order, without repeats.

    >>> parse_emails('Jens Hansen <Jens@Firma.DK>, jens@firma.dk / info@firma')
    ['jens@firma.dk']
    >>> parse_emails('ring til Jens'), parse_emails('ingen@ingen.dk')
    ([], [])
    """
    found: list[str] = []
    for token in email_tokens(value):
        address = check_email(token, check_deliverability=check_deliverability)
        if address is not None:
            local, _, domain = address.rpartition("@")
            address = f"{local}@{provider_domain(domain)}"
            if address not in found and not _is_placeholder(address):
                found.append(address)
    return found


def _unwrapped(value: pl.Expr) -> pl.Expr:
    """An e-mail cell lower-cased, without ``mailto:``, its ``(at)`` / `` @ `` read as ``@``."""
    return (
        value.str.to_lowercase()
        .str.replace_all("mailto:", "", literal=True)
        .str.replace_all(_AROUND_AT, "@")
    )


def _tokens_expr(value: pl.Expr) -> pl.Expr:
    """The same tokens as :func:`email_tokens`, as a list column."""
    text = (
        _unwrapped(value)
        .str.replace_all(_COMMA_DOMAIN, "${1}.${2}${3}")
        .str.replace_all(_JOINED, "${1};")
        .str.replace_all(_BROKEN_LOCAL, f"${{1}}${{2}}{_BROKEN_LOCAL_MARK}${{3}}")
        .str.replace_all(_SEPARATORS, "\x00")
    )
    tokens = text.str.split("\x00").list.eval(pl.element().str.strip_chars(_TRIM))
    return tokens.list.filter(pl.element().str.contains("@", literal=True))


# What an e-mail cell may hold beside its addresses and still say nothing more: a label that only
# says it is an e-mail (``E-mail:``, ``mailto:``), wrapping, separators and joining words.
_MAIL_LABEL: Final = r"(?-u:\b)(?:e-?mail|mail|e-post|email-adresse|e-mail-adresse)\s*:"
_ADDRESS_TOKEN: Final = f"[^;,/<>{_WHITESPACE}]*@[^;,/<>{_WHITESPACE}]*"
_NOTHING_MORE: Final = (
    f"[;,/<>\"'()\\[\\]{{}}:&+{_WHITESPACE}]|(?-u:\\b)(?:og|and|eller|or)(?-u:\\b)"
)


def email_note(value: pl.Expr) -> pl.Expr:
    """Whether an e-mail cell holds a note beside its addresses: words that are no address, no
    label saying it is one and no joining word (``info@ejendom.dk (faktura)``, ``faktura:
    info@shape.dk``, ``"Jens Hansen" <jens@firma.dk>``; not ``E-mail: Info@Firma.dk``,
    ``mailto:jens@firma.dk`` or ``info@vvs.dk og ordre@vvs.dk``). Such a note is the customer's,
    as a phone cell's is. Null where ``value`` is.
    """
    text = (
        _unwrapped(value)
        .str.replace_all(_ADDRESS_TOKEN, " ")
        .str.replace_all(_MAIL_LABEL, " ")
        .str.replace_all(_NOTHING_MORE, "")
    )
    return text != ""


def _plainly_valid(token: pl.Expr) -> pl.Expr:
    local_length = token.str.find("@", literal=True)
    return (
        token.str.contains(_PLAIN_VALID)
        & ~token.str.contains(_NEEDS_A_CLOSER_LOOK)
        & ~token.str.contains(_MASKED_CPR, literal=True)
        & (local_length <= _MAX_LOCAL)
        & (token.str.len_bytes() <= _MAX_ADDRESS)
    )


def _checked_tokens(tokens: pl.Series, *, check_deliverability: bool) -> pl.DataFrame:
    """Each distinct token and its address (null if invalid): regex first, then the validator."""
    table = pl.DataFrame({"token": tokens}).unique()
    token = pl.col("token")
    plainly_valid = pl.lit(False) if check_deliverability else _plainly_valid(token)
    # DNS must be asked about every address that is not plainly broken; without DNS the
    # plainly valid ones need no second opinion.
    table = table.with_columns(
        settled=plainly_valid | token.str.contains(_PLAIN_INVALID),
        address=pl.when(plainly_valid).then(token),
    )
    pending = table.filter(~pl.col("settled"))["token"]
    checked = pl.Series(
        "checked",
        [check_email(t, check_deliverability=check_deliverability) for t in pending],
        dtype=pl.String,
    )
    looked_up = pl.DataFrame({"token": pending, "checked": checked})
    return table.join(looked_up, on="token", how="left").select(
        "token", address=pl.coalesce("address", "checked")
    )


def _field_addresses(values: pl.Series, *, check_deliverability: bool) -> pl.DataFrame:
    """``emails`` and ``n_invalid`` (tokens with ``@`` that are not addresses) per distinct value.

    The values are tokenised once each; a value without such tokens is left out.
    """
    distinct = pl.DataFrame({"value": values}).unique()
    tokens = distinct.with_columns(token=_tokens_expr(pl.col("value"))).explode("token")
    tokens = tokens.filter(pl.col("token").is_not_null())
    addresses = _checked_tokens(tokens["token"], check_deliverability=check_deliverability)
    return (
        tokens.join(addresses, on="token", how="left", maintain_order="left")
        .group_by("value", maintain_order=True)
        .agg(
            emails=pl.col("address").drop_nulls().unique(maintain_order=True),
            n_invalid=pl.col("address").is_null().sum(),
        )
    )


def normalise_emails(df: pl.DataFrame, *, check_deliverability: bool = False) -> pl.DataFrame:
    """Add ``email``, ``emails``, ``email_domain`` and ``flag_INVALID_EMAIL``.

    Reads ``raw_email`` (a missing column counts as null). ``emails`` holds every valid address
    in order, ``email`` the first, ``email_domain`` its domain. The flag is raised when the field
    is not blank and either yields no valid address (``n/a`` included) or has a token with ``@``
    that is not one; a placeholder (:func:`placeholder_email`) is not one. Examples:
    ``'"Jens" <Jens@Firma.DK>'`` gives ``jens@firma.dk`` (no flag); ``'jens@firma.dk; info@firma'``
    gives ``jens@firma.dk`` and the flag; ``'ring til Jens'`` and ``'ingen@ingen.dk'`` give null
    and the flag.
    With ``check_deliverability`` every address not plainly invalid is also looked up in DNS.
    """
    value = stage_text(df, "emails", raw("email"))
    cleaned = value.str.strip_chars().str.to_lowercase()
    # Most fields hold one plain address: it is its own only token, so it skips tokenising.
    # (Not with DNS checks, which every address must go through.)
    single = pl.lit(False)
    if not check_deliverability:
        single = (_plainly_valid(cleaned) & ~cleaned.str.contains(r"^['{}]")).fill_null(False)
    # Lazily, so the cleaned value is computed once for its several tests.
    staged = df.lazy().select(value=value, cleaned=cleaned, single=single).collect()
    # Every other field is tokenised and checked once per distinct value, not once per row.
    others = staged.filter(~pl.col("single") & pl.col("value").is_not_null())["value"]
    parsed = _field_addresses(others, check_deliverability=check_deliverability)
    no_addresses = pl.lit([], dtype=pl.List(pl.String))
    result = staged.join(parsed, on="value", how="left", maintain_order="left").select(
        present=pl.col("cleaned").is_not_null() & (pl.col("cleaned") != ""),
        emails=pl.when("single")
        .then(pl.concat_list("cleaned"))
        .otherwise(pl.col("emails").fill_null(no_addresses)),
        n_invalid=pl.col("n_invalid").fill_null(0),
    )
    result = result.with_columns(_mend_providers(result["emails"]))
    # A placeholder reaches no customer: like a broken token, it is left out and flagged, so
    # ``ingen@ingen.dk`` never makes a customer reachable (NO_CONTACT) nor two customers one.
    # Each address is judged once (a million of them cost a CPU-second), its verdict both
    # counted and used to keep the others.
    result = result.with_columns(
        _placeholder=pl.col("emails").list.eval(placeholder_email(pl.element()))
    )
    placeholder = pl.col("_placeholder")
    result = result.with_columns(
        emails=pl.col("emails").list.gather(placeholder.list.eval(pl.element().not_().arg_true())),
        n_invalid=pl.col("n_invalid") + placeholder.list.sum(),
    )
    email = pl.col("emails").list.first()
    result = result.select(
        email=email,
        emails="emails",
        email_domain=email.str.split("@").list.last(),
        **{
            flag("INVALID_EMAIL"): pl.col("present")
            & ((pl.col("emails").list.len() == 0) | (pl.col("n_invalid") > 0))
        },
    )
    return df.with_columns(result.get_columns())
