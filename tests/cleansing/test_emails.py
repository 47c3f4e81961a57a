"""E-mail addresses: corpora, the regex fast path against email-validator, frame rules."""

from __future__ import annotations

import doctest
import functools
import random
from typing import Any

import polars as pl
import pytest

from datavask.cleansing import emails
from datavask.cleansing.emails import email_tokens, normalise_emails, parse_emails
from tests.cleansing.corpora import read_corpus


def _frame(values: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({"raw_email": values}, schema={"raw_email": pl.String})


def test_doctests() -> None:
    result = doctest.testmod(emails)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("value", read_corpus("email_valid"))
def test_valid_email_corpus(value: str) -> None:
    out = normalise_emails(_frame([value]))
    assert out["email"][0] is not None
    assert out["emails"][0].to_list() == parse_emails(value)
    assert out["email_domain"][0] == out["email"][0].split("@")[1]
    assert out["flag_INVALID_EMAIL"][0] is False


@pytest.mark.parametrize("value", read_corpus("email_invalid"))
def test_invalid_email_corpus(value: str) -> None:
    out = normalise_emails(_frame([value]))
    assert out["email"][0] is None
    assert out["emails"][0].to_list() == []
    assert out["flag_INVALID_EMAIL"][0] is True


@pytest.mark.parametrize(
    ("value", "found", "flagged"),
    [
        ('"Hansen, Jens" <Jens@Firma.DK>', ["jens@firma.dk"], False),
        ("a@firma.dk; b@firma.dk, a@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        ("a@firma.dk / b@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        # a word joining two addresses separates them as ";" does
        ("info@vvs.dk og ordre@vvs.dk", ["info@vvs.dk", "ordre@vvs.dk"], False),
        ("a@firma.dk and b@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        ("a@firma.dk eller b@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        ("a@firma.dk & b@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        ("a@firma.dk + b@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        ("jens og mette@firma.dk", [], True),  # no address before it: a word glued to one
        ("a@firma.dk b@firma.dk", ["a@firma.dk", "b@firma.dk"], False),
        ("a@firma.dk; info@firma", ["a@firma.dk"], True),
        ("Jens: jens@firma.dk (privat)", ["jens@firma.dk"], False),
        ("n/a", [], True),
        ("ingen", [], True),
        ("   ", [], False),
        (None, [], False),
        ("ring til Jens", [], True),
        # written to keep it from harvesters
        ("jens(at)firma.dk", ["jens@firma.dk"], False),
        # a comma typed for the domain's full stop; not where the domain has one
        ("info@firma,dk", ["info@firma.dk"], False),
        ("a@b,dk;c@firma.dk", ["a@b.dk", "c@firma.dk"], False),
        ("a@firma.dk,info", ["a@firma.dk"], False),
        # a label ending in a full stop before the address
        ("att. jens@firma.dk", ["jens@firma.dk"], False),
        ("Att. Jens: jens@firma.dk", ["jens@firma.dk"], False),
        # a free-mail provider's name or .com mistyped; another country's domain of one is its own
        ("jens@gmial.com", ["jens@gmail.com"], False),
        ("JENS@HOTMIAL.DK", ["jens@hotmail.dk"], False),
        ("jens@gmail.con", ["jens@gmail.com"], False),
        ("j@yahoo.co", ["j@yahoo.com"], False),
        ("jens@hotmail.de", ["jens@hotmail.de"], False),
        ("x@email.com", ["x@email.com"], False),
        ("x@gmail.co.uk", ["x@gmail.co.uk"], False),
        ("x@cloud.com", ["x@cloud.com"], False),  # not icloud.com: a first letter is no typo
        ("Jens [AT] Firma.dk; b@firma.dk", ["jens@firma.dk", "b@firma.dk"], False),
        ("kat(at)", [], True),
    ],
)
def test_frame_rules(value: str | None, found: list[str], flagged: bool) -> None:
    out = normalise_emails(_frame([value]))
    assert out["emails"][0].to_list() == found
    assert out["email"][0] == (found[0] if found else None)
    assert out["flag_INVALID_EMAIL"][0] is flagged


def test_mistyped_providers_are_mended_in_their_rows_only() -> None:
    """Only the lists holding a mistyped provider are rewritten; the others, a second address
    beside a mended one and rows without any, stay as they were."""
    values = ["a@firma.dk", "jens@gmial.com; b@firma.dk", None, "x@hotmial.dk", "kat(at)"]
    out = normalise_emails(_frame(values))
    assert out["emails"].to_list() == [
        ["a@firma.dk"],
        ["jens@gmail.com", "b@firma.dk"],
        [],
        ["x@hotmail.dk"],
        [],
    ]
    assert out["email_domain"].to_list() == ["firma.dk", "gmail.com", None, "hotmail.dk", None]


def test_missing_column_counts_as_null() -> None:
    out = normalise_emails(pl.DataFrame({"record_id": ["1"]}))
    assert out.columns == ["record_id", "email", "emails", "email_domain", "flag_INVALID_EMAIL"]
    assert out.row(0) == ("1", None, [], None, False)


def test_tokens_match_the_scalar_reference() -> None:
    assert email_tokens("MAILTO:Jens @ Firma.dk;<b@c.dk>") == ["jens@firma.dk", "b@c.dk"]
    assert email_tokens(None) == []


# --- the fast path against email-validator ----------------------------------------------------

_LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789" * 3 + "._-+'!#$%&*=?^`{|}~" + 'æøå"@'
_DOMAIN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789" * 3 + "-_æø"
_TLDS = ("dk", "com", "se", "co.uk", "org", "gl", "d", "123", "local", "test", "museum", "x1")


def _random_address(rng: random.Random) -> str:
    local = "".join(rng.choice(_LOCAL_CHARS) for _ in range(rng.choice((1, 3, 6, 10, 20, 65))))
    labels = [
        "".join(rng.choice(_DOMAIN_CHARS) for _ in range(rng.choice((1, 2, 5, 9, 64))))
        for _ in range(rng.choice((1, 1, 2)))
    ]
    address = f"{local}@{'.'.join(labels)}.{rng.choice(_TLDS)}"
    roll = rng.random()
    if roll < 0.05:
        address = address.replace("@", "", 1)
    elif roll < 0.10:
        address = address.replace(".", "..", 1)
    elif roll < 0.15:
        address = address.upper()
    elif roll < 0.18:
        address = address.replace("@", "@@", 1)
    elif roll < 0.20:
        address = address.rsplit(".", 1)[0]
    return address


def _clean_address(rng: random.Random) -> str:
    """An ordinary address of the kind CRMs are full of."""
    first = rng.choice(("jens", "mette", "info", "faktura", "k.hansen", "ole-bo", "anne_m"))
    domain = rng.choice(("firma", "hansen-byg", "mail", "kommune", "tdc", "post.tele"))
    return f"{first}{rng.randrange(100)}@{domain}.{rng.choice(('dk', 'com', 'se', 'org'))}"


def test_fast_path_and_email_validator_agree_on_a_large_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(20240608)
    values: list[str | None] = []
    for _ in range(60_000):
        roll = rng.random()
        if roll < 0.6:
            values.append(_clean_address(rng))
        elif roll < 0.95:
            values.append(_random_address(rng))
        else:
            values.append(f"{_clean_address(rng)}; {_random_address(rng)}")
    slow_calls = 0
    reference = emails.check_email

    def counting(token: str, *, check_deliverability: bool = False) -> str | None:
        nonlocal slow_calls
        slow_calls += 1
        return reference(token, check_deliverability=check_deliverability)

    monkeypatch.setattr(emails, "check_email", counting)
    out = normalise_emails(_frame(values))
    monkeypatch.undo()

    # The reference is parse_emails per value; email-validator's verdict on a token is a pure
    # function of the token, so it is asked once per distinct token (half the test's time).
    validator = functools.lru_cache(maxsize=None)(reference)
    monkeypatch.setattr(emails, "check_email", validator)
    expected = [parse_emails(v) for v in values]
    got = out["emails"].to_list()
    mismatches = [(v, g, e) for v, g, e in zip(values, got, expected, strict=True) if g != e]
    assert mismatches == [], mismatches[:20]
    tokens = {t for v in values for t in email_tokens(v)}
    n_valid = sum(validator(t) is not None for t in tokens)
    monkeypatch.undo()
    assert 0.2 * len(tokens) < n_valid < 0.9 * len(tokens)
    # The regex settles most distinct tokens; email-validator sees only the doubtful ones.
    assert slow_calls < 0.5 * len(tokens), (slow_calls, len(tokens))


def test_check_deliverability_reaches_email_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class Checked:
        def __init__(self, email: str) -> None:
            self.normalized = email

    def fake_validate(email: str, **kwargs: Any) -> Checked:
        calls.append({"email": email, **kwargs})
        return Checked(email)

    monkeypatch.setattr(emails, "validate_email", fake_validate)
    out = normalise_emails(_frame(["jens@firma.dk", "nope"]), check_deliverability=True)
    assert out["email"].to_list() == ["jens@firma.dk", None]
    assert calls == [{"email": "jens@firma.dk", "check_deliverability": True}]

    calls.clear()
    normalise_emails(_frame(["jens@firma.dk", "info@æblemand.dk"]))
    assert calls == [{"email": "info@æblemand.dk", "check_deliverability": False}]


def test_an_address_that_held_a_cpr_number_is_no_way_to_reach_the_customer() -> None:
    """``0101901234@mail.dk`` is read masked, ``XXXXXX-XXXX@mail.dk``: a valid-looking address
    no mail reaches. It is invalid, so the customer is not taken for reachable by it."""
    frame = pl.DataFrame({"raw_email": ["XXXXXX-XXXX@mail.dk", "jens@firma.dk; XXXXXX-XXXX@b.dk"]})
    out = normalise_emails(frame)
    assert out["email"].to_list() == [None, "jens@firma.dk"]
    assert out["flag_INVALID_EMAIL"].to_list() == [True, True]
    assert parse_emails("XXXXXX-XXXX@mail.dk") == []


@pytest.mark.parametrize(
    "value",
    [
        "test@test.dk", "Test@Test.com", "a@a.dk", "x@x.dk", "xx@xx.com", "ingen@ingen.dk",
        "ingen@mail.dk", "jens@ingen.dk", "noreply@firma.dk", "no-reply@firma.dk",
        "donotreply@firma.dk", "dummy@firma.dk", "xxx@gmail.com", "faktura@example.com",
        "jan@example.org", "info@example.net", "jens@firma.example", "ukendt@ukendt.dk",
    ],
)  # fmt: skip
def test_a_placeholder_address_is_no_way_to_reach_the_customer(value: str) -> None:
    """``ingen@ingen.dk`` or ``test@test.dk``, typed because the field was required, is a valid
    address no customer reads: counted as one, the record looked collection-ready (no
    ``NO_CONTACT``). It is left out and flagged, as an address no mail reaches is."""
    out = normalise_emails(_frame([value, f"jens@firma.dk; {value}"]))
    assert out["email"].to_list() == [None, "jens@firma.dk"]
    assert out["emails"].to_list() == [[], ["jens@firma.dk"]]
    assert out["flag_INVALID_EMAIL"].to_list() == [True, True]
    assert parse_emails(value) == []


@pytest.mark.parametrize(
    "value",
    [
        "info@firma.dk", "kontakt@firma.dk", "post@firma.dk", "faktura@firma.dk",
        "mail@hansen-byg.dk", "no@firma.dk", "na@firma.dk", "x@gmail.com", "a@b.dk",
        "hansen@hansen.dk", "abc@abc.dk", "jens@example.dk", "testcenter@firma.dk",
    ],
)  # fmt: skip
def test_a_mailbox_a_firm_reads_is_no_placeholder(value: str) -> None:
    """A shared mailbox (``info@``, ``faktura@firma.dk``) and two letters that are someone's
    initials (``no@firma.dk``) reach the customer: a false reject would block collection."""
    out = normalise_emails(_frame([value]))
    assert out["email"].to_list() == [value]
    assert out["flag_INVALID_EMAIL"].to_list() == [False]
