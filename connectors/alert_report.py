"""``report.html`` of a monitor run, and the alerts block a cleanse report can include.

Rendered by Jinja2 with autoescape on: names and addresses from the registry are text, never
markup. The page is self-contained (no scripts, no external files) and readable offline. Times
and dates are written as the cleanse report writes them (:class:`~datavask.connectors.report_text.
Text`: ``7. dec. 2026 kl. 08.31``, Copenhagen time; ``15. okt. 2026``); alerts.csv keeps ISO.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import polars as pl
from jinja2 import Environment, select_autoescape

from datavask.connectors.alerts import ALERT_LABELS
from datavask.connectors.report_text import Text

_ENV: Final = Environment(
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

ALERTS_BLOCK: Final = _ENV.from_string(
    """<section class="alerts">
<h2>Ændringer i CVR-registret ({{ alerts|length }})</h2>
{% if not alerts %}
<p>Ingen ændringer siden sidste kørsel.</p>
{% else %}
<table>
<thead><tr><th>Hændelse</th><th>Virksomhed</th><th>CVR</th><th>Før</th><th>Nu</th>
<th>Gældende fra</th><th>Kundenumre</th></tr></thead>
<tbody>
{% for a in alerts %}
<tr class="{{ a.alert|lower }}"><td>{{ labels.get(a.alert, a.alert) }}</td>
<td>{{ a.name or "" }}</td><td>{{ a.cvr }}</td><td>{{ a.before or "" }}</td>
<td>{{ a.after or "" }}</td>
<td>{{ t.date(a.registry_changed_at) }}</td><td>{{ a.record_ids or "" }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
</section>"""
)

_PAGE: Final = _ENV.from_string(
    """<!doctype html>
<html lang="da"><head><meta charset="utf-8">
<title>datavask kreditmonitorering {{ t.time(run.started_at) }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
tr.bankrupt td:first-child, tr.dissolved td:first-child { color: #b00020; font-weight: 600; }
.meta { color: #666; }
</style></head><body>
<h1>Kreditmonitorering</h1>
<p class="meta">Kørt {{ t.time(run.started_at) }} ({{ t("copenhagen_time") }}) ·
{{ t.number(counts.customers) }} kunder med CVR-nummer · {{ t.number(counts.checked) }} slået op ·
{{ t.number(counts.unchecked) }} kunne ikke slås op ·
{{ t.number(counts.not_found) }} ikke fundet{% if run.first_run %} · første kørsel: kun kunder, der
allerede er i krise, giver en besked{% endif %}</p>
{{ block }}
</body></html>
"""
)


def alerts_section(alerts: pl.DataFrame) -> str:
    """The alerts as one HTML ``<section>``, for inclusion in another report."""
    return ALERTS_BLOCK.render(alerts=alerts.to_dicts(), labels=ALERT_LABELS, t=Text("da"))


def render_alert_report(alerts: pl.DataFrame, run: dict[str, Any], path: Path) -> Path:
    from markupsafe import Markup

    block = Markup(alerts_section(alerts))  # rendered with autoescape above
    html = _PAGE.render(run=run, counts=run.get("counts", {}), block=block, t=Text("da"))
    path.write_text(html, encoding="utf-8")
    return path
