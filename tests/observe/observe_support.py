"""Helpers for the deploy/ tests (Grafana, Prometheus): dashboard, PromQL, /metrics names."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GRAFANA = DEPLOY / "grafana"
PROMETHEUS_DIR = DEPLOY / "prometheus"
DASHBOARD_JSON = GRAFANA / "dashboards" / "sekisho.json"
ALERTS = PROMETHEUS_DIR / "alerts.yml"

# The metric names Sekisho exports at GET /metrics (README "Observability" / the spec).
SPEC_COUNTERS = {
    "sekisho_routing_decisions_total",
    "sekisho_pii_entities_total",
    "sekisho_upstream_errors_total",
    "sekisho_fallbacks_total",
    "sekisho_fail_closed_total",
    "sekisho_tokens_total",
    "sekisho_cloud_cost_usd_total",
    "sekisho_cloud_cost_avoided_usd_total",
    "sekisho_policy_reloads_total",
    "sekisho_shadow_disagreements_total",
}
SPEC_HISTOGRAMS = {
    "sekisho_request_duration_seconds",
    "sekisho_detection_duration_seconds",
    "sekisho_upstream_duration_seconds",
    "sekisho_upstream_ttft_seconds",
    "sekisho_overhead_seconds",
}
SPEC_GAUGES = {"sekisho_in_flight_requests", "sekisho_upstream_up", "sekisho_policy_info"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def spec_series_names() -> set[str]:
    names = set(SPEC_COUNTERS) | set(SPEC_GAUGES)
    for family in SPEC_HISTOGRAMS:
        names |= {family + suffix for suffix in HISTOGRAM_SUFFIXES}
    return names


def load_builder() -> ModuleType:
    """deploy/grafana/build_dashboard.py as a module (deploy/ is not a package)."""
    path = GRAFANA / "build_dashboard.py"
    spec = importlib.util.spec_from_file_location("sekisho_build_dashboard", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool(name: str) -> str | None:
    """A binary on PATH, or in /usr/bin (Debian's prometheus package) when PATH is narrow."""
    found = shutil.which(name)
    if found is None and Path("/usr/bin", name).is_file():
        found = str(Path("/usr/bin", name))
    return found


# --------------------------------------------------------------------------- dashboard


def query_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel that queries (rows are layout only), nested row panels included."""
    out: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            out.extend(p for p in panel.get("panels", []) if p.get("type") != "row")
        else:
            out.append(panel)
    return out


def dashboard_targets(dashboard: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(panel title, refId, expr) for every target of every panel."""
    return [
        (panel["title"], t["refId"], t["expr"])
        for panel in query_panels(dashboard)
        for t in panel.get("targets", [])
    ]


def grafana_substitute(expr: str, rate_interval: str = "1m", range_: str = "5m") -> str:
    """What Grafana sends to Prometheus with every template variable set to "All"."""
    out = expr
    for name, value in (
        ("$__rate_interval", rate_interval),
        ("${__rate_interval}", rate_interval),
        ("$__interval", "15s"),
        ("${__interval}", "15s"),
        ("$__range", range_),
        ("${__range}", range_),
        ("${tenant}", ".*"),
        ("$tenant", ".*"),
        ("${rule}", ".*"),
        ("$rule", ".*"),
        ("${instance}", ".*"),
        ("$instance", ".*"),
    ):
        out = out.replace(name, value)
    assert "$" not in out, f"unsubstituted variable in {out!r}"
    return out


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


# --------------------------------------------------------------------------- PromQL names

PROMQL_FUNCTIONS = frozenset(
    """
    sum min max avg group stddev stdvar count count_values bottomk topk quantile
    abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week
    day_of_year days_in_month delta deriv exp floor histogram_quantile holt_winters hour idelta
    increase irate label_join label_replace ln log2 log10 minute month predict_linear rate resets
    round scalar sgn sort sort_desc sqrt time timestamp vector year
    avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time
    stddev_over_time stdvar_over_time last_over_time present_over_time
    acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi
    """.split()
)
PROMQL_KEYWORDS = frozenset(
    "by without on ignoring group_left group_right and or unless bool offset atan2 inf nan".split()
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (2.42 syntax; no parser API there).

    Strings, label matchers, range/subquery brackets and grouping label lists are removed; an
    identifier followed by ``(`` must be a known function; numbers, durations and keywords are
    skipped; what remains are metric names.
    """
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        token = match.group(0)
        if token.lower() in PROMQL_KEYWORDS:
            continue
        if text[match.end():].lstrip().startswith("("):
            if token not in PROMQL_FUNCTIONS:
                raise ValueError(f"unknown PromQL function {token!r} in {expr!r}")
            continue
        names.add(token)
    return names


def exported_series_names(metrics_text: str) -> set[str]:
    """Series names a /metrics scrape exports, including families with no samples yet."""
    names: set[str] = set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            if kind == "counter":
                names.add(family if family.endswith("_total") else family + "_total")
            elif kind == "histogram":
                names |= {family + suffix for suffix in HISTOGRAM_SUFFIXES}
            else:
                names.add(family)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def unknown_names(exprs: list[tuple[str, str]], exported: set[str]) -> list[str]:
    """``where: name`` for every metric an expression names that is not exported."""
    problems = []
    for where, expr in exprs:
        for name in sorted(metric_names(expr) - exported):
            problems.append(f"{where}: {name}  (in {expr})")
    return problems
