"""Generate the Sekisho Grafana dashboard: ``dashboards/sekisho.json``.

Plain Python dicts, written deterministically (same input, same bytes), so the committed JSON can
be checked against this script:

    python deploy/grafana/build_dashboard.py           # (re)write dashboards/sekisho.json
    python deploy/grafana/build_dashboard.py --check   # exit 1 if the committed file is stale

Every panel queries the data source chosen in the ``datasource`` variable; ``tenant`` and
``rule`` filter the panels built on metrics that carry those labels. Rate windows use
``$__rate_interval``; set the data source's scrape interval ("timeInterval", see
provisioning/datasources/prometheus.yaml) to the scrape interval of the Sekisho job.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "dashboards" / "sekisho.json"

UID = "sekisho"
TITLE = "Sekisho: routing, privacy and upstreams"
SCHEMA_VERSION = 39  # Grafana 10.4 / 11.x dashboard JSON
DS: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}

RI = "$__rate_interval"
SEL = 'tenant=~"$tenant", rule=~"$rule"'  # for sekisho_routing_decisions_total
QUANTILES = ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))

Json = dict[str, Any]


class Layout:
    """Assigns panel ids and grid positions row by row (24 columns wide)."""

    def __init__(self) -> None:
        self.panels: list[Json] = []
        self._next_id = 1
        self._x = 0
        self._y = 0
        self._row_height = 0

    def _id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "type": "row",
                "id": self._id(),
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self._y},
                "panels": [],
            }
        )
        self._y += 1

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_height
            self._x = 0
            self._row_height = 0

    def add(self, panel: Json, w: int, h: int) -> None:
        if self._x + w > 24:
            self._newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self._x, "y": self._y}
        self._x += w
        self._row_height = max(self._row_height, h)
        self.panels.append(panel)


# Every Sekisho series a panel reads is narrowed to the instances picked in $instance.
_SERIES = re.compile(r"\b(sekisho_[a-z_]+)(\{([^}]*)\})?")
INSTANCE = 'instance=~"$instance"'


def scoped(expr: str) -> str:
    """``expr`` with ``instance=~"$instance"`` added to every Sekisho series selector."""
    def add(m: re.Match[str]) -> str:
        inner = m.group(3)
        return f"{m.group(1)}{{{inner}, {INSTANCE}}}" if inner else f"{m.group(1)}{{{INSTANCE}}}"

    return _SERIES.sub(add, expr)


def target(ref: str, expr: str, legend: str = "__auto", *, instant: bool = False,
           fmt: str = "time_series") -> Json:
    return {
        "datasource": dict(DS),
        "refId": ref,
        "expr": scoped(expr),
        "legendFormat": legend,
        "range": not instant,
        "instant": instant,
        "format": fmt,
        "editorMode": "code",
    }


def targets(*items: tuple[str, str]) -> list[Json]:
    return [target(chr(ord("A") + i), expr, legend) for i, (expr, legend) in enumerate(items)]


def timeseries(title: str, description: str, tgts: list[Json], *, unit: str = "short",
               stack: bool = False, draw: str = "line", fill: int = 10,
               minimum: float | None = 0, overrides: list[Json] | None = None) -> Json:
    defaults: Json = {
        "unit": unit,
        "color": {"mode": "palette-classic"},
        "custom": {
            "drawStyle": draw,
            "lineWidth": 1,
            "fillOpacity": fill,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        },
    }
    if minimum is not None:
        defaults["min"] = minimum
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": dict(DS),
        "targets": tgts,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": {
            "legend": {"displayMode": "table", "placement": "right", "showLegend": True,
                       "calcs": ["mean", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(title: str, description: str, tgts: list[Json], *, unit: str = "short",
         thresholds: list[Json] | None = None, mappings: list[Json] | None = None,
         text_mode: str = "auto", color_mode: str = "value") -> Json:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": dict(DS),
        "targets": tgts,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "color": {"mode": "thresholds"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": thresholds or [{"color": "green", "value": None}],
                },
                "mappings": mappings or [],
            },
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": color_mode,
            "graphMode": "none",
            "textMode": text_mode,
            "justifyMode": "auto",
            "orientation": "auto",
        },
    }


def color_override(name: str, color: str) -> Json:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}],
    }


def quantile_targets(metric: str, by: str, legend: str) -> list[Json]:
    group = f"le, {by}" if by else "le"
    return targets(*(
        (f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RI}])))",
         f"{name} {legend}".strip())
        for q, name in QUANTILES
    ))


def panels() -> list[Json]:
    lay = Layout()
    decisions = f"sekisho_routing_decisions_total{{{SEL}}}"
    # Requests refused before any decision (bad JSON, unknown key, oversize) are not routing.
    decided = f'sekisho_routing_decisions_total{{{SEL}, rule!="none"}}'
    route_colors = [color_override("cloud", "blue"), color_override("local", "green"),
                    color_override("block", "red")]

    # ---------------------------------------------------------------- overview
    lay.row("Overview")
    lay.add(stat("Requests/s", "All requests Sekisho answered (selected tenants and rules).",
                 targets((f"sum(rate({decisions}[{RI}]))", "requests/s")), unit="reqps"), 6, 4)
    lay.add(stat("Kept on-prem", "Share of requests served by the local upstream.",
                 targets((f'sum(rate(sekisho_routing_decisions_total{{route="local", {SEL}}}'
                          f"[{RI}])) / sum(rate({decisions}[{RI}]))", "local share")),
                 unit="percentunit"), 6, 4)
    lay.add(stat("Fail-closed (range)",
                 "Requests kept off the cloud because Sekisho could not clear them, over the "
                 "dashboard's time range.",
                 targets(("sum(increase(sekisho_fail_closed_total[$__range]))", "fail-closed")),
                 thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 1}]),
            6, 4)
    lay.add(stat("Upstreams", "Health per upstream (1 = up); DOWN when any instance sees it down.",
                 targets(("min by (upstream) (sekisho_upstream_up)", "{{upstream}}")),
                 mappings=[{"type": "value", "options": {
                     "0": {"text": "DOWN", "color": "red", "index": 0},
                     "1": {"text": "UP", "color": "green", "index": 1}}}],
                 thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}],
                 color_mode="background"), 6, 4)

    # ---------------------------------------------------------------- routing
    lay.row("Routing decisions")
    lay.add(timeseries(
        "Routing share: cloud / local / blocked",
        "Share of requests per route. local = stayed on-prem (policy or fail-closed), "
        "block = refused (block rule, conversation pinned to the cloud, local unavailable). "
        "Requests rejected before a decision (rule none) are left out.",
        targets((f"sum by (route) (rate({decided}[{RI}])) / ignoring (route) group_left "
                 f"sum(rate({decided}[{RI}]))", "{{route}}")),
        unit="percentunit", stack=True, fill=60, overrides=route_colors), 12, 8)
    lay.add(timeseries(
        "Decisions by rule",
        "Requests per second by the policy rule that decided (default = no rule matched, "
        "fail_closed = the detector could not clear the request, none = rejected before a "
        "decision: malformed, oversized or unauthenticated).",
        targets((f"sum by (rule, route) (rate({decisions}[{RI}]))", "{{rule}} → {{route}}")),
        unit="reqps"), 12, 8)
    lay.add(timeseries(
        "Decisions by action and endpoint",
        "forward, redact, pseudonymize, fallback (cloud failed, served locally), fail_closed.",
        targets((f"sum by (action, endpoint) (rate({decisions}[{RI}]))",
                 "{{action}} {{endpoint}}")),
        unit="reqps"), 12, 8)
    lay.add(timeseries(
        "Detected entities by type",
        "Entities found per second by type (never their values), split by language.",
        targets((f"sum by (entity_type, language) (rate(sekisho_pii_entities_total[{RI}]))",
                 "{{entity_type}} ({{language}})")),
        unit="short", stack=True), 12, 8)
    lay.add(timeseries(
        "Fail-closed events by reason",
        "detection_timeout / detection_error: sent local instead of cloud; "
        "local_unavailable: refused with 503 because the local upstream is down.",
        targets((f"sum by (reason) (rate(sekisho_fail_closed_total[{RI}]))", "{{reason}}")),
        unit="reqps", draw="bars", fill=80), 12, 8)
    lay.add(timeseries(
        "Shadow policy disagreements",
        "Requests the shadow policy would have routed differently (evaluated only, never acted "
        "on). rule = the shadow policy's deciding rule.",
        targets((f'sum by (active_route, shadow_route, rule) (rate('
                 f'sekisho_shadow_disagreements_total{{rule=~"$rule"}}[{RI}]))',
                 "{{active_route}} → {{shadow_route}} ({{rule}})")),
        unit="reqps"), 12, 8)

    # ---------------------------------------------------------------- latency
    lay.row("Latency")
    lay.add(timeseries(
        "Request latency p50 / p95 / p99 by route",
        "Time from request received to response finished, upstream time included.",
        quantile_targets("sekisho_request_duration_seconds", "route", "{{route}}"),
        unit="s"), 12, 8)
    lay.add(timeseries(
        "Sekisho overhead p50 / p95 / p99",
        "Time Sekisho adds to a request: total minus time waiting on upstreams.",
        quantile_targets("sekisho_overhead_seconds", "", ""), unit="s"), 12, 8)
    lay.add(timeseries(
        "Detection time p95 by language",
        "Per language analysed (en, ja) and per request (all).",
        targets((f"histogram_quantile(0.95, sum by (le, language) "
                 f"(rate(sekisho_detection_duration_seconds_bucket[{RI}])))", "p95 {{language}}"),
                (f"histogram_quantile(0.5, sum by (le, language) "
                 f"(rate(sekisho_detection_duration_seconds_bucket[{RI}])))", "p50 {{language}}")),
        unit="s"), 12, 8)
    lay.add(timeseries(
        "Upstream latency and time to first token (p95)",
        "Upstream: until the answer was fully relayed. TTFT: first streamed chunk.",
        targets((f"histogram_quantile(0.95, sum by (le, upstream) "
                 f"(rate(sekisho_upstream_duration_seconds_bucket[{RI}])))",
                 "p95 total {{upstream}}"),
                (f"histogram_quantile(0.95, sum by (le, upstream) "
                 f"(rate(sekisho_upstream_ttft_seconds_bucket[{RI}])))", "p95 TTFT {{upstream}}")),
        unit="s"), 12, 8)

    # ---------------------------------------------------------------- upstreams
    lay.row("Upstreams")
    lay.add(timeseries(
        "Upstream up",
        "1 when the upstream answered its last health probe or request (lowest over "
        "instances: one instance that cannot reach it shows 0).",
        targets(("min by (upstream) (sekisho_upstream_up)", "{{upstream}}")),
        unit="bool_on_off", minimum=0, fill=0), 8, 8)
    lay.add(timeseries(
        "Upstream errors by kind",
        "connect, timeout, status_4xx, status_5xx, stream_interrupted, protocol, models.",
        targets((f"sum by (upstream, kind) (rate(sekisho_upstream_errors_total[{RI}]))",
                 "{{upstream}} {{kind}}")),
        unit="reqps", draw="bars", fill=80), 8, 8)
    lay.add(timeseries(
        "Fallbacks and in-flight requests",
        "Clean requests served locally after a cloud failure; requests being processed.",
        targets((f"sum by (from, to) (rate(sekisho_fallbacks_total[{RI}]))",
                 "fallback {{from}} → {{to}}"),
                ("sum(sekisho_in_flight_requests)", "in flight")),
        unit="short"), 8, 8)

    # ---------------------------------------------------------------- tokens and cost
    lay.row("Tokens and cost")
    lay.add(timeseries(
        "Tokens by upstream and model",
        "Tokens per second reported by the upstreams (usage), streams included.",
        targets((f"sum by (upstream, model, kind) (rate(sekisho_tokens_total[{RI}]))",
                 "{{upstream}} {{model}} {{kind}}")),
        unit="short", stack=True), 12, 8)
    lay.add(timeseries(
        "Cloud cost and cost avoided (USD/hour)",
        "Cloud spend estimated from usage and the price table; cost avoided = what requests "
        "served locally would have cost on the requested cloud model.",
        targets((f"sum by (model) (rate(sekisho_cloud_cost_usd_total[{RI}])) * 3600",
                 "spent {{model}}"),
                (f"sum by (model) (rate(sekisho_cloud_cost_avoided_usd_total[{RI}])) * 3600",
                 "avoided {{model}}")),
        unit="currencyUSD"), 12, 8)
    lay.add(stat("Cloud spend (range)", "Estimated cloud spend over the time range.",
                 targets(("sum(increase(sekisho_cloud_cost_usd_total[$__range]))", "spent")),
                 unit="currencyUSD"), 12, 4)
    lay.add(stat("Cost avoided (range)",
                 "Estimated cloud cost of requests served locally over the time range.",
                 targets(("sum(increase(sekisho_cloud_cost_avoided_usd_total[$__range]))",
                          "avoided")),
                 unit="currencyUSD"), 12, 4)

    # ---------------------------------------------------------------- policy
    lay.row("Policy")
    lay.add(stat("Active policy version",
                 "The policies in force (sekisho_policy_info == 1): version hash and file.",
                 [target("A", "max by (version, path) (sekisho_policy_info == 1)",
                         "{{version}} {{path}}", instant=True)],
                 text_mode="name"), 12, 6)
    lay.add(timeseries(
        "Policy reloads by result",
        "Reloads of edited policy/keys files. An error leaves the last good version in force.",
        targets((f"sum by (result) (increase(sekisho_policy_reloads_total[{RI}]))",
                 "{{result}}")),
        unit="short", draw="bars", fill=80,
        overrides=[color_override("success", "green"), color_override("error", "red")]), 12, 6)
    return lay.panels


def variable_query(name: str, label: str, metric: str) -> Json:
    query = f"label_values({metric}, {label})"
    return {
        "type": "query",
        "name": name,
        "label": name.capitalize(),
        "datasource": dict(DS),
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor"},
        "definition": query,
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
    }


def build() -> Json:
    return {
        "uid": UID,
        "title": TITLE,
        "description": "Every routing decision of Sekisho: where requests went and why, what "
                       "was detected, what failed closed, latency, upstream health, cost and "
                       "policy reloads.",
        "tags": ["sekisho", "llm", "privacy"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "templating": {"list": [
            {
                "type": "datasource",
                "name": "datasource",
                "label": "Data source",
                "query": "prometheus",
                "current": {},
                "options": [],
                "regex": "",
                "refresh": 1,
                "hide": 0,
                "multi": False,
                "includeAll": False,
            },
            variable_query("instance", "instance", "sekisho_in_flight_requests"),
            variable_query("tenant", "tenant", "sekisho_routing_decisions_total"),
            variable_query("rule", "rule", "sekisho_routing_decisions_total"),
        ]},
        "panels": panels(),
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed JSON differs from the generated one")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
