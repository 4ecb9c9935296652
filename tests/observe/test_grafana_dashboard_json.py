"""The Grafana dashboard and provisioning files, checked offline.

Structure as Grafana's dashboard JSON (schemaVersion 39) expects it: unique panel ids, grid
positions inside 24 columns without overlaps, every query panel on the ``${datasource}``
variable, targets with refId/expr, the datasource/instance/tenant/rule variables. The committed
JSON must be what deploy/grafana/build_dashboard.py generates, and every metric a query names
must be one Sekisho exports (the spec list; the live test checks a real /metrics scrape).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from observe_support import (
    DASHBOARD_JSON,
    GRAFANA,
    alert_rules,
    dashboard_targets,
    exported_series_names,
    grafana_substitute,
    load_builder,
    metric_names,
    query_panels,
    spec_series_names,
    unknown_names,
)

PANEL_TYPES = {"row", "timeseries", "stat", "table", "bargauge", "gauge", "state-timeline"}
DS_REF = {"type": "prometheus", "uid": "${datasource}"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD_JSON.read_text(encoding="utf-8"))
    return data


def test_committed_json_is_generated() -> None:
    builder = load_builder()
    assert DASHBOARD_JSON.read_text(encoding="utf-8") == builder.render(), (
        "deploy/grafana/dashboards/sekisho.json is stale: run "
        "python deploy/grafana/build_dashboard.py"
    )
    assert builder.render() == builder.render()  # deterministic
    assert builder.main(["--check"]) == 0


def test_dashboard_top_level(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "sekisho"
    assert dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert "id" not in dashboard or dashboard["id"] is None  # provisioning assigns ids
    assert dashboard["time"]["from"].startswith("now-")
    assert isinstance(dashboard["panels"], list) and dashboard["panels"]
    assert {"list"} <= dashboard["annotations"].keys()


def test_template_variables(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert list(variables)[:1] == ["datasource"], "datasource must come first (others use it)"
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for name, metric in (("instance", "sekisho_in_flight_requests"),
                         ("tenant", "sekisho_routing_decisions_total"),
                         ("rule", "sekisho_routing_decisions_total")):
        var = variables[name]
        assert var["type"] == "query"
        assert var["datasource"] == DS_REF
        assert var["multi"] is True and var["includeAll"] is True
        assert var["allValue"] == ".*"
        assert var["definition"] == f"label_values({metric}, {name})"
        assert var["query"]["query"] == var["definition"]
        assert var["refresh"] in (1, 2)


def test_every_sekisho_series_is_narrowed_to_the_chosen_instances(
    dashboard: dict[str, Any]
) -> None:
    for _title, _ref, expr in dashboard_targets(dashboard):
        for selector in re.findall(r"sekisho_[a-z_]+(\{[^}]*\})?", expr):
            assert 'instance=~"$instance"' in selector, expr


def test_panels_structure(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in dashboard["panels"]]
    ids += [q["id"] for p in dashboard["panels"] for q in p.get("panels", [])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert all(isinstance(i, int) and i > 0 for i in ids)
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        assert panel["type"] in PANEL_TYPES, panel["type"]
        assert panel["title"]
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["y"] >= 0
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                 for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & occupied, f"{panel['title']!r} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            assert "targets" not in panel and grid["w"] == 24
            continue
        assert panel["datasource"] == DS_REF, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for t in panel["targets"]:
            assert re.fullmatch(r"[A-Z]", t["refId"])
            assert t["datasource"] == DS_REF
            assert t["expr"].strip()
            assert "legendFormat" in t
        assert "defaults" in panel["fieldConfig"] and "overrides" in panel["fieldConfig"]


def test_rate_windows_use_rate_interval(dashboard: dict[str, Any]) -> None:
    for title, ref, expr in dashboard_targets(dashboard):
        for window in re.findall(r"\b(?:rate|increase|irate)\s*\([^\[]*\[([^\]]*)\]", expr):
            assert window in ("$__rate_interval", "$__range"), f"{title}/{ref}: [{window}]"
        assert "$datasource" not in expr and "${datasource}" not in expr


def test_required_views_present(dashboard: dict[str, Any]) -> None:
    exprs = "\n".join(e for _, _, e in dashboard_targets(dashboard))
    metrics = set().union(*(metric_names(e) for _, _, e in dashboard_targets(dashboard)))
    families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in metrics}
    assert families >= {
        "sekisho_routing_decisions_total", "sekisho_pii_entities_total",
        "sekisho_fail_closed_total", "sekisho_request_duration_seconds",
        "sekisho_overhead_seconds", "sekisho_upstream_errors_total", "sekisho_upstream_up",
        "sekisho_tokens_total", "sekisho_cloud_cost_usd_total",
        "sekisho_cloud_cost_avoided_usd_total", "sekisho_policy_reloads_total",
        "sekisho_policy_info", "sekisho_shadow_disagreements_total",
    }
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}, sum by (le, route) (rate(sekisho_request_duration" in exprs
        assert f"histogram_quantile({q}, sum by (le) (rate(sekisho_overhead_seconds" in exprs
    assert 'tenant=~"$tenant"' in exprs and 'rule=~"$rule"' in exprs
    # every panel on sekisho_routing_decisions_total honours both filters
    for title, ref, expr in dashboard_targets(dashboard):
        for selector in re.findall(r"sekisho_routing_decisions_total(\{[^}]*\})?", expr):
            assert "$tenant" in selector and "$rule" in selector, f"{title}/{ref}"
    # the share panel covers the three routes by grouping on route
    titles = {p["title"] for p in query_panels(dashboard)}
    assert "Routing share: cloud / local / blocked" in titles


def test_queries_name_only_spec_metrics(dashboard: dict[str, Any]) -> None:
    exprs = [
        (f"panel {t!r} {r}", grafana_substitute(e)) for t, r, e in dashboard_targets(dashboard)
    ]
    exprs += [(f"alert {a['alert']}", a["expr"]) for a in alert_rules()]
    assert unknown_names(exprs, spec_series_names()) == []


def test_metric_name_parser() -> None:
    assert metric_names(
        'histogram_quantile(0.99, sum by (le, route) (rate(foo_bucket{a="x}y"}[1m])))'
    ) == {"foo_bucket"}
    assert metric_names("a / ignoring (route) group_left sum(b offset 5m) > 1e3") == {"a", "b"}
    assert metric_names("max by (version, path) (info == 1) or on () vector(0)") == {"info"}
    with pytest.raises(ValueError, match="unknown PromQL function"):
        metric_names("rates(x[1m])")
    exported = exported_series_names(
        "# HELP x_total help\n# TYPE x_total counter\n# TYPE h histogram\n"
        "# TYPE g gauge\ng 1.0\nx_total{a=\"b\"} 2.0\nx_created{a=\"b\"} 1.7e9\n"
    )
    assert {"x_total", "h_bucket", "h_sum", "h_count", "g"} <= exported
    assert unknown_names([("p", "rate(missing_total[1m]) + g")], exported) == [
        "p: missing_total  (in rate(missing_total[1m]) + g)"
    ]


def test_provisioning_files() -> None:
    dashboards = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "sekisho.yaml").read_text(encoding="utf-8")
    )
    assert dashboards["apiVersion"] == 1
    (provider,) = dashboards["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text(encoding="utf-8")
    )
    assert datasources["apiVersion"] == 1
    (ds,) = datasources["datasources"]
    assert ds["type"] == "prometheus" and ds["access"] == "proxy" and ds["url"].startswith("http")
    assert re.fullmatch(r"\d+[smh]", ds["jsonData"]["timeInterval"])


# Fields Grafana reads that the foundation SDK's dashboard model does not declare (it drops them
# on a round trip): the built-in annotation flag and a query variable's display definition.
SDK_UNMODELLED = {"/annotations/list[0]/builtIn", "/templating/list[1]/definition",
                  "/templating/list[2]/definition", "/templating/list[3]/definition"}


def _lost_in_round_trip(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Paths of keys the SDK dropped and values it changed (it may add defaults)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        lost = [f"{path}/{k}" for k in ours if k not in theirs]
        for key in ours.keys() & theirs.keys():
            lost += _lost_in_round_trip(ours[key], theirs[key], f"{path}/{key}")
        return lost
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [p for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
                for p in _lost_in_round_trip(a, b, f"{path}[{i}]")]
    return [] if ours == theirs else [f"{path} (changed)"]


def test_dashboard_survives_grafanas_typed_model(dashboard: dict[str, Any]) -> None:
    """Every key and value of the dashboard is one Grafana's schema knows.

    The grafana-foundation-sdk models the dashboard schema and each panel plugin's options and
    field config as typed classes; a misspelt key ("fieldConfg", "reduceOptons") or a value of
    the wrong shape does not survive loading and re-serialising.
    """
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    plugins.register_default_plugins()
    theirs = json.loads(json.dumps(Dashboard.from_json(dashboard), cls=JSONEncoder))
    assert set(_lost_in_round_trip(dashboard, theirs)) == SDK_UNMODELLED

    misspelt = json.loads(json.dumps(dashboard))
    misspelt["panels"][1]["fieldConfg"] = misspelt["panels"][1].pop("fieldConfig")
    theirs = json.loads(json.dumps(Dashboard.from_json(misspelt), cls=JSONEncoder))
    assert "/panels[1]/fieldConfg" in _lost_in_round_trip(misspelt, theirs)
