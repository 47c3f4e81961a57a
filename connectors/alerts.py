"""Monitoring alerts out of the process: alerts.csv/json, webhooks, e-mail, and the outbox.

Targets (``--notify``):

- ``https://hooks.slack.com/…`` — a Slack incoming webhook (Slack message JSON, blocks);
- ``https://….webhook.office.com/…`` — a Microsoft Teams connector (MessageCard JSON);
- ``https://….logic.azure.com/…`` — a Teams workflow (Power Automate: Adaptive Card JSON);
- any other ``http(s)://`` URL — a JSON POST signed with HMAC-SHA256 over
  ``"<X-Datavask-Timestamp>.<body>"`` with the secret ``DATAVASK_WEBHOOK_SECRET`` (or the
  Prefect Secret block ``datavask-webhook-secret``), sent as ``X-Datavask-Signature: sha256=…``;
- ``mailto:a@example.dk,b@example.dk`` — e-mail over SMTP with STARTTLS; server and login from
  ``DATAVASK_SMTP_HOST``/``_PORT``/``_USER``/``_PASSWORD``/``_FROM`` (password also from the
  Prefect Secret block ``datavask-smtp-password``), never from a config file.

``slack+``, ``teams+``, ``teams-workflow+`` and ``webhook+`` in front of a URL choose the format
for a host the rules above do not recognise (a Mattermost server speaks Slack's format).

Delivery retries transient failures (connection errors, timeouts, 429, 5xx) with bounded
exponential back-off. What still fails stays in the outbox (``outbox.json`` in the state
directory) and is sent again on the next run; every alert carries a stable ``alert_id`` so a
receiver can drop one it has already seen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import httpx
import polars as pl
from jinja2 import Environment, select_autoescape

from datavask.connectors.errors import ConnectorError, InputError
from datavask.connectors.http import retry_after_seconds
from datavask.connectors.output import write_excel_csv
from datavask.connectors.secret_blocks import SecretBlockUnavailable, secret_block
from datavask.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT: Final = "datavask (credit monitoring)"
ALERT_COLUMNS: Final = (
    "cvr",
    "record_ids",
    "name",
    "alert",
    "before",
    "after",
    "registry_changed_at",
    "detected_at",
    "alert_id",
)
# Alerts per message: Slack allows 50 blocks, Teams cards get unreadable beyond a screenful.
_PER_MESSAGE: Final = {"slack": 20, "teams": 20, "teams-workflow": 20, "webhook": 100, "email": 500}
_KINDS: Final = ("slack", "teams", "teams-workflow", "webhook")
SECRET_WEBHOOK: Final = "datavask-webhook-secret"
SECRET_SMTP_PASSWORD: Final = "datavask-smtp-password"

# Danish labels for people reading the messages.
ALERT_LABELS: Final[Mapping[str, str]] = {
    "BANKRUPT": "Konkurs",
    "DISSOLVED": "Ophørt",
    "DISTRESSED": "Under tvangsopløsning/rekonstruktion",
    "STATUS_CHANGED": "Status ændret",
    "NAME_CHANGED": "Navn ændret",
    "ADDRESS_CHANGED": "Adresse ændret",
    "OWNER_CHANGED": "Ejere ændret",
    "MANAGEMENT_CHANGED": "Ledelse ændret",
    "MERGED": "Fusioneret",
    "CVR_NOT_FOUND": "CVR-nummer findes ikke",
}


class DeliveryConfigError(InputError):
    """A notification target cannot be used as given (unknown kind, no secret, no SMTP host)."""


class DeliveryError(ConnectorError):
    """A message could not be delivered after the retries."""


# Secrets and servers for delivery are fields of the one settings object (DATAVASK_SMTP_*, …).
DeliverySettings = Settings


# --------------------------------------------------------------------------- files


def write_alert_files(alerts: pl.DataFrame, directory: Path) -> None:
    """``alerts.csv`` (UTF-8 with BOM, ``;``, no live formulas: opens cleanly in Danish Excel)
    and ``alerts.json`` (a list of objects, the values as they are)."""
    frame = alerts.select(ALERT_COLUMNS)
    write_excel_csv(frame, directory / "alerts.csv")
    text = json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2)
    (directory / "alerts.json").write_text(text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One ``--notify`` value: its format (``kind``) and where to send (``address``)."""

    text: str
    kind: str  # slack | teams | teams-workflow | webhook | email
    address: str  # the URL, or the comma-joined recipients

    @property
    def safe(self) -> str:
        """Safe to log: webhook URLs carry their secret in the path, so only the host is shown."""
        if self.kind == "email":
            return f"mailto:{self.address}"
        return f"{self.kind} {urlsplit(self.address).hostname}"


def parse_target(text: str) -> Target:
    """The target of a ``--notify`` value; :class:`DeliveryConfigError` if it is not one.

    >>> parse_target("https://hooks.slack.com/services/T0/B0/x").kind
    'slack'
    >>> parse_target("mailto:kredit@example.dk").address
    'kredit@example.dk'
    >>> parse_target("slack+http://127.0.0.1:8080/hook").address
    'http://127.0.0.1:8080/hook'
    """
    value = text.strip()
    if value.lower().startswith("mailto:"):
        recipients = [unquote(r).strip() for r in value[7:].split("?")[0].split(",")]
        if not recipients or not all("@" in r for r in recipients):
            raise DeliveryConfigError(f"--notify {value}: give e-mail addresses after mailto:")
        return Target(value, "email", ",".join(recipients))
    kind, _, rest = value.partition("+")
    if kind in _KINDS and rest.lower().startswith(("http://", "https://")):
        return Target(value, kind, _encrypted_or_local(rest))
    if not value.lower().startswith(("http://", "https://")):
        raise DeliveryConfigError(
            f"--notify {value!r}: give an https:// webhook URL or mailto:addresses"
        )
    _encrypted_or_local(value)
    host = (urlsplit(value).hostname or "").lower()
    if host == "hooks.slack.com":
        return Target(value, "slack", value)
    if host.endswith(".webhook.office.com"):
        return Target(value, "teams", value)
    if host.endswith("logic.azure.com"):
        return Target(value, "teams-workflow", value)
    return Target(value, "webhook", value)


_LOOPBACK: Final = ("127.0.0.1", "::1", "localhost")


def _encrypted_or_local(url: str) -> str:
    """``url`` if it is https, or plain http to this machine (a relay, a test receiver): alerts
    name customers and their troubles, and a hook's path is its password. Plain http to another
    host was accepted, though the contract said https.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and (parts.hostname or "").lower() not in _LOOPBACK:
        raise DeliveryConfigError(
            f"--notify: http://{parts.hostname} is not encrypted; give an https:// URL (plain "
            "http only to 127.0.0.1 or localhost)"
        )
    return url


def check_targets(targets: Sequence[Target], settings: DeliverySettings) -> None:
    """Refuse before any work what cannot be delivered: every problem in one message."""
    problems = []
    if any(t.kind == "webhook" for t in targets) and _webhook_secret(settings) is None:
        problems.append(
            "a generic webhook is signed: set DATAVASK_WEBHOOK_SECRET or create the Prefect "
            f"Secret block {SECRET_WEBHOOK!r}"
        )
    if any(t.kind == "email" for t in targets) and not (settings.smtp_host and settings.smtp_from):
        problems.append("e-mail needs DATAVASK_SMTP_HOST and DATAVASK_SMTP_FROM")
    if problems:
        raise DeliveryConfigError("; ".join(problems))


def _secret_block(name: str) -> str | None:
    """A Prefect Secret block's value, or None when Prefect or the block is not there."""
    try:
        return secret_block(name)
    except SecretBlockUnavailable:  # the caller says what is missing
        return None


def _webhook_secret(settings: DeliverySettings) -> str | None:
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    return _secret_block(SECRET_WEBHOOK)


# --------------------------------------------------------------------------- messages


def _title(alerts: Sequence[Mapping[str, Any]]) -> str:
    return f"datavask: {len(alerts)} ændring(er) i CVR-registret for jeres kunder"


def _line(alert: Mapping[str, Any]) -> str:
    label = ALERT_LABELS.get(alert["alert"], alert["alert"])
    change = " → ".join(str(v) for v in (alert.get("before"), alert.get("after")) if v)
    when = f" (fra {alert['registry_changed_at']})" if alert.get("registry_changed_at") else ""
    return f"{label}: {alert.get('name') or '?'} (CVR {alert['cvr']}){when} {change}".strip()


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _title(alerts)[:150]}}
    ]
    for alert in alerts:
        text = (
            f"*{_slack_escape(_line(alert))}*\nKunder: {_slack_escape(alert['record_ids'] or '')}"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    return {"text": _title(alerts), "blocks": blocks}


def _facts(alert: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (title, str(alert[key]))
        for title, key in (
            ("Før", "before"),
            ("Nu", "after"),
            ("Gældende fra", "registry_changed_at"),
            ("Kundenumre", "record_ids"),
            ("alert_id", "alert_id"),
        )
        if alert.get(key)
    ]


def teams_message_card(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": _title(alerts),
        "themeColor": "B00020",
        "title": _title(alerts),
        "sections": [
            {
                "activityTitle": _line({**alert, "before": None, "after": None}),
                "facts": [{"name": n, "value": v} for n, v in _facts(alert)],
            }
            for alert in alerts
        ],
    }


def teams_adaptive_card(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _title(alerts), "weight": "Bolder", "size": "Medium"}
    ]
    for alert in alerts:
        body.append(
            {
                "type": "TextBlock",
                "text": _line({**alert, "before": None, "after": None}),
                "wrap": True,
                "weight": "Bolder",
            }
        )
        body.append(
            {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in _facts(alert)]}
        )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    return {"type": "message", "attachments": [attachment]}


def webhook_body(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"source": "datavask", "type": "datavask.registry.alerts", "alerts": list(alerts)}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``"<timestamp>.<body>"``.

    >>> sign("s3cret", "1700000000", b'{"alerts": []}')[:15]
    'sha256=99ab0126'
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


_MAIL = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_MAIL_HTML = _MAIL.from_string(
    """<!doctype html><html lang="da"><body>
<h2>{{ title }}</h2>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>Hændelse</th><th>Kunde</th><th>CVR</th><th>Før</th><th>Nu</th><th>Gældende fra</th>
<th>Kundenumre</th></tr>
{% for a in alerts %}<tr><td>{{ labels.get(a.alert, a.alert) }}</td><td>{{ a.name }}</td>
<td>{{ a.cvr }}</td><td>{{ a.before or "" }}</td><td>{{ a.after or "" }}</td>
<td>{{ a.registry_changed_at or "" }}</td><td>{{ a.record_ids or "" }}</td></tr>
{% endfor %}</table></body></html>"""
)


def email_message(
    alerts: Sequence[Mapping[str, Any]], *, sender: str, recipients: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _title(alerts)
    message["From"] = sender
    message["To"] = recipients
    ids = ",".join(sorted(a["alert_id"] for a in alerts))
    domain = sender.rpartition("@")[2] or "datavask.local"
    message["Message-ID"] = make_msgid(hashlib.sha256(ids.encode()).hexdigest()[:24], domain)
    message["X-Datavask-Alert-Ids"] = ids.replace(",", ", ")  # spaces let the header fold
    message.set_content("\n".join([_title(alerts), "", *(_line(a) for a in alerts)]) + "\n")
    message.add_alternative(
        _MAIL_HTML.render(title=_title(alerts), alerts=alerts, labels=ALERT_LABELS),
        subtype="html",
    )
    return message


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True, kw_only=True)
class DeliveryRetry:
    """Attempts per message and the back-off between them (doubling, capped)."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.max_delay, self.base_delay * 2**attempt)


class Sender:
    """Sends messages to targets; transient failures are retried, the rest raise DeliveryError."""

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        retry: DeliveryRetry | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.retry = retry or DeliveryRetry()
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.webhook_timeout),
            headers={"User-Agent": USER_AGENT},
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, target: Target, alerts: Sequence[Mapping[str, Any]]) -> None:
        if target.kind == "email":
            self._retrying(target, lambda: self._mail(target, alerts))
            return
        body, headers = self._http_body(target, alerts)
        self._retrying(target, lambda: self._post(target, body, headers))

    def _http_body(
        self, target: Target, alerts: Sequence[Mapping[str, Any]]
    ) -> tuple[bytes, dict[str, str]]:
        builders = {
            "slack": slack_message,
            "teams": teams_message_card,
            "teams-workflow": teams_adaptive_card,
            "webhook": webhook_body,
        }
        body = json.dumps(builders[target.kind](alerts), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if target.kind == "webhook":
            secret = _webhook_secret(self.settings)
            if secret is None:
                raise DeliveryConfigError("the webhook secret is not set")
            stamp = str(int(self._clock()))
            ids = ",".join(sorted(a["alert_id"] for a in alerts))
            headers |= {
                "X-Datavask-Timestamp": stamp,
                "X-Datavask-Signature": sign(secret, stamp, body),
                "Idempotency-Key": hashlib.sha256(ids.encode()).hexdigest(),
            }
        return body, headers

    def _post(self, target: Target, body: bytes, headers: dict[str, str]) -> float | None:
        """One POST; None when delivered, else raises _Transient (retry) or DeliveryError."""
        try:
            response = self._http.post(target.address, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}", None) from exc
        status = response.status_code
        if status < 300:
            return None
        if status == 429 or status >= 500:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise _Transient(f"HTTP {status}", wait)
        raise DeliveryError(f"{target.safe}: refused with HTTP {status}")

    def _mail(self, target: Target, alerts: Sequence[Mapping[str, Any]]) -> None:
        s = self.settings
        if not (s.smtp_host and s.smtp_from):
            raise DeliveryConfigError("e-mail needs DATAVASK_SMTP_HOST and DATAVASK_SMTP_FROM")
        message = email_message(alerts, sender=s.smtp_from, recipients=target.address)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    cafile = str(s.smtp_ca_file) if s.smtp_ca_file else None
                    smtp.starttls(context=ssl.create_default_context(cafile=cafile))
                    smtp.ehlo()
                password = (
                    s.smtp_password.get_secret_value()
                    if s.smtp_password is not None
                    else _secret_block(SECRET_SMTP_PASSWORD)
                )
                if s.smtp_user and password:
                    smtp.login(s.smtp_user, password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{target.safe}: the SMTP server refused the login") from exc
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            code = getattr(exc, "smtp_code", 500)
            if isinstance(code, int) and 400 <= code < 500:
                raise _Transient(f"SMTP {code}", None) from exc
            raise DeliveryError(f"{target.safe}: the SMTP server refused the message") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise _Transient(type(exc).__name__, None) from exc

    def _retrying(self, target: Target, attempt: Callable[[], object]) -> None:
        for number in range(self.retry.attempts):
            try:
                attempt()
                return
            except _Transient as exc:
                if number + 1 == self.retry.attempts:
                    raise DeliveryError(
                        f"{target.safe}: {exc.reason}, after {self.retry.attempts} attempts"
                    ) from None
                delay = self.retry.delay(number, exc.retry_after)
                log.warning("%s: %s; retrying in %.1f s", target.safe, exc.reason, delay)
                self._sleep(delay)


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


# --------------------------------------------------------------------------- the outbox

_OUTBOX_VERSION: Final = 2


class Outbox:
    """What is still to be delivered, per destination, in ``outbox.json`` of the state directory.

    Alerts are added before anything is sent and removed once their message got through, so
    a failure (or a crash) leaves them to the next run. The file is replaced atomically.

    A webhook URL is a secret (Slack and Teams put the key in the path), so the file never holds
    one: a destination is known by a salted scrypt hash of its format and address (the salt is
    the file's own) and shown by :attr:`Target.safe` (``slack hooks.slack.com``). The hash tells
    a run whether a destination is one it is configured for, without the URL.

    ``{"version": 2, "salt": hex, "destinations": {hash: {"label": safe, "pending": {alert_id:
    alert}, "delivered": [alert_id, ...]}}}`` — ``delivered`` lists the alerts this destination
    already got that are still pending for another, so re-addressing those never repeats them.
    A file from before (``{url: {alert_id: alert}}``) is read and rewritten in this form.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.salt = os.urandom(16).hex()
        self.destinations: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, str] = {}
        if path.is_file():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                if stored.get("version") == _OUTBOX_VERSION:
                    self.salt = str(stored["salt"])
                    self.destinations = dict(stored["destinations"])
                else:
                    self._read_by_url(stored)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise DeliveryConfigError(f"the outbox {path} cannot be read: {exc}") from None

    def _read_by_url(self, stored: Mapping[str, Mapping[str, Any]]) -> None:
        """The first outbox's form, keyed by the ``--notify`` text itself."""
        for text, queue in stored.items():
            try:
                target = parse_target(text)
            except DeliveryConfigError:
                target = Target(text, "webhook", "")  # unusable: kept, never contacted
            entry = self._entry(target)
            for alert_id, alert in queue.items():
                entry["pending"].setdefault(alert_id, alert)

    def identity(self, target: Target) -> str:
        """A destination's key in the file: not the URL, the same on every run for the same one."""
        key = f"{target.kind} {target.address}"
        if key not in self._ids:
            digest = hashlib.scrypt(
                key.encode(), salt=bytes.fromhex(self.salt), n=2**14, r=8, p=1, dklen=12
            )
            self._ids[key] = digest.hex()
        return self._ids[key]

    def _entry(self, target: Target) -> dict[str, Any]:
        return self.destinations.setdefault(
            self.identity(target), {"label": target.safe, "pending": {}, "delivered": []}
        )

    def add(self, targets: Iterable[Target], alerts: Sequence[Mapping[str, Any]]) -> None:
        for target in targets:
            entry = self._entry(target)
            for alert in alerts:
                if str(alert["alert_id"]) not in entry["delivered"]:
                    entry["pending"].setdefault(str(alert["alert_id"]), dict(alert))

    def readdress(self, targets: Sequence[Target]) -> list[str]:
        """Pending alerts of a destination no longer configured go to the configured ones
        (those that already got an alert do not get it again); with none configured they stay.
        Returns the labels of the destinations whose alerts stay for want of one."""
        configured = {self.identity(t): t for t in targets}
        stale = [
            key
            for key, entry in self.destinations.items()
            if key not in configured and entry["pending"]
        ]
        if not configured:
            return sorted({self.destinations[key]["label"] for key in stale})
        for key in stale:
            moved = self.destinations.pop(key)["pending"]
            for target in configured.values():
                entry = self._entry(target)
                had = set(entry["delivered"])
                for alert_id, alert in moved.items():
                    if alert_id not in had:
                        entry["pending"].setdefault(alert_id, alert)
        return []

    def delivered(self, target: Target, alert_ids: Iterable[str]) -> None:
        entry = self._entry(target)
        for alert_id in alert_ids:
            if entry["pending"].pop(alert_id, None) is not None:
                entry["delivered"].append(alert_id)

    def pending(self, target: Target) -> list[dict[str, Any]]:
        """The target's alerts still to send, oldest first."""
        queue = self.destinations.get(self.identity(target), {}).get("pending", {})
        return sorted(queue.values(), key=lambda a: (a.get("detected_at") or "", a["alert_id"]))

    def save(self) -> None:
        waiting = {i for entry in self.destinations.values() for i in entry["pending"]}
        for entry in self.destinations.values():
            entry["delivered"] = [i for i in entry["delivered"] if i in waiting]
        self.destinations = {
            key: entry
            for key, entry in self.destinations.items()
            if entry["pending"] or entry["delivered"]
        }
        content = {
            "version": _OUTBOX_VERSION,
            "salt": self.salt,
            "destinations": self.destinations,
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as fh:
            json.dump(content, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        temporary.replace(self.path)

    def count(self) -> int:
        return sum(len(entry["pending"]) for entry in self.destinations.values())


def deliver(outbox: Outbox, sender: Sender, targets: Sequence[Target]) -> dict[str, Any]:
    """Send the outbox's alerts to ``targets`` (this run's ``--notify``), target by target,
    message by message; save as it goes. A destination not among ``targets`` is not contacted:
    :meth:`Outbox.readdress` has given its alerts to these, or keeps them when there are none.

    Returns ``{"delivered": n, "pending": n, "failures": [...]}`` (targets shown safely).
    """
    delivered, failures = 0, []
    for target in {outbox.identity(t): t for t in targets}.values():
        alerts = outbox.pending(target)
        size = _PER_MESSAGE[target.kind]
        for start in range(0, len(alerts), size):
            batch = alerts[start : start + size]
            try:
                sender.send(target, batch)
            except DeliveryError as exc:
                failures.append(str(exc))
                log.warning("not delivered, kept for the next run: %s", exc)
                break
            outbox.delivered(target, [a["alert_id"] for a in batch])
            delivered += len(batch)
            outbox.save()
    outbox.save()
    return {"delivered": delivered, "pending": outbox.count(), "failures": failures}
