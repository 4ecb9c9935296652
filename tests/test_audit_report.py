"""The audit log and ``sekisho report``: answers from types and counts, never content."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import ROOT, Stack

from proxy.observe.report import parse_time, report_file

EMAIL = "kenji.mori@example-factory.jp"
REDACT_POLICY = """
default: {route: cloud}
rules:
  - name: redact-email
    when: {entities: [EMAIL_ADDRESS]}
    route: cloud
    action: redact
  - name: people-local
    when: {entities: [PERSON]}
    route: local
"""


def drive(stack: Stack) -> None:
    client = stack.openai()
    client.chat.completions.create(model="gpt-4o-mini",
                                   messages=[{"role": "user", "content": "What is TCP?"}])
    client.chat.completions.create(model="gpt-4o-mini",
                                   messages=[{"role": "user", "content": f"Mail {EMAIL}"}])
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Draft a note to Margaret Thompson"}])


def test_report_summarises_routes_kept_entities_and_redactions(
    make_stack: Any, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    policy = tmp_path / "p.yaml"
    policy.write_text(REDACT_POLICY)
    stack = make_stack(audit_log=str(audit), policy=policy)
    drive(stack)
    stack.stop_local()
    with pytest.raises(openai.APIStatusError):
        stack.openai().chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Draft a note to Margaret Thompson"}])
    report = report_file(audit, None, None).as_dict()
    assert report["requests"] == 4
    assert report["by_route"] == {"block": 1, "cloud": 2, "local": 1}
    assert report["entities_kept_on_prem"] == {"PERSON": 1}
    assert report["entities_redacted_before_cloud"] == {"EMAIL_ADDRESS": 1}
    assert report["personal_data_to_cloud"] == []
    assert report["fail_closed"] == {"local_unavailable": 1}
    assert EMAIL not in audit.read_text() and "Margaret" not in audit.read_text()


def test_report_flags_personal_data_that_reached_the_cloud_and_exits_3(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    records = [
        {"time": "2026-10-01T09:00:00.000Z", "request_id": "r1", "tenant": "default",
         "route": "cloud", "action": "forward", "rule": "default", "entities": {"URL": 1}},
        {"time": "2026-10-02T09:00:00.000Z", "request_id": "r2", "tenant": "sales",
         "route": "cloud", "action": "forward", "rule": "too-loose",
         "entities": {"PERSON": 2, "DATE_TIME": 1}},
        {"time": "2026-11-02T09:00:00.000Z", "request_id": "r3", "tenant": "sales",
         "route": "cloud", "action": "forward", "rule": "too-loose",
         "entities": {"EMAIL_ADDRESS": 1}},
        {"time": "2026-10-03T09:00:00.000Z", "request_id": "r4", "route": "local",
         "action": "fail_closed", "rule": "fail_closed", "fail_reason": "detection_timeout",
         "entities": {"DETECTION_FAILED": 1}},
    ]
    audit.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    october = report_file(audit, parse_time("2026-10-01"), parse_time("2026-11-01")).as_dict()
    assert october["requests"] == 3
    assert [p["request_id"] for p in october["personal_data_to_cloud"]] == ["r2"]
    assert october["personal_data_to_cloud"][0]["entities"] == {"PERSON": 2}
    assert october["fail_closed"] == {"detection_timeout": 1}
    assert october["invalid_lines"] == 1
    result = subprocess.run(
        [sys.executable, "-m", "proxy", "report", "--audit", str(audit), "--since", "2026-10-01",
         "--until", "2026-11-01"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 3
    assert "personal data sent to the cloud unredacted: 1" in result.stdout
    assert "r2 tenant sales rule too-loose: PERSON" in result.stdout
    clean = subprocess.run(
        [sys.executable, "-m", "proxy", "report", "--json", "--audit", str(audit), "--since",
         "2026-10-03"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert clean.returncode == 3  # r3 (November) is in range
    assert json.loads(clean.stdout)["requests"] == 2


def test_keyed_hashes_correlate_values_without_revealing_them(make_stack: Any, tmp_path: Path
                                                             ) -> None:
    audit = tmp_path / "audit.jsonl"
    stack = make_stack(audit_log=str(audit), audit_hmac_key="operator-secret")
    client = stack.openai()
    for text in ("電話は090-1234-5678です", "電話は０９０ー１２３４ー５６７８です"):
        client.chat.completions.create(model="gpt-4o-mini",
                                       messages=[{"role": "user", "content": text}])
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    first, second = (r["entity_hashes"]["JP_PHONE_NUMBER"] for r in records)
    assert first == second and len(first[0]) == 16
    assert "1234" not in audit.read_text()


def test_report_skips_malformed_lines_instead_of_failing() -> None:
    from proxy.observe.report import summarise

    good = json.dumps({"time": "2026-11-28T10:00:00Z", "route": "cloud", "action": "forward",
                       "rule": "default", "entities": {}})
    bad = ['{"time": 5}', '{"time": "2026-11-28T10:00:00Z", "entities": ["EMAIL_ADDRESS"]}',
           "[1, 2]", "not json"]
    report = summarise([good, *bad], None, None)
    assert report.requests == 1
    assert report.invalid_lines == len(bad)


def test_rejected_requests_are_audited_with_their_request_id_and_counted_apart(
    make_stack: Any, tmp_path: Path
) -> None:
    import aiohttp

    audit = tmp_path / "audit.jsonl"
    stack = make_stack(audit_log=str(audit))
    stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is TCP?"}])

    async def malformed() -> int:
        async with aiohttp.ClientSession() as session, session.post(
            stack.base_url + "/chat/completions", data=b"{not json",
            headers={"x-request-id": "req-malformed-1", "Content-Type": "application/json"},
        ) as resp:
            return resp.status

    assert stack.loop.run(malformed()) == 400
    first, rejected = (json.loads(line) for line in audit.read_text().splitlines())
    assert first["upstream"] == "cloud" and first["upstream_status"] == 200
    assert rejected["request_id"] == "req-malformed-1"
    assert (rejected["route"], rejected["rule"], rejected["status"]) == ("block", "none", 400)
    assert rejected["upstream_status"] is None
    report = report_file(audit, None, None)
    assert report.rejected == 1 and report.by_route == {"block": 1, "cloud": 1}


def test_pseudonymized_data_counts_as_kept_from_the_cloud_and_restorations_are_summed(
    make_stack: Any, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    stack = make_stack(audit_log=str(audit),
                       policy=ROOT / "policies" / "examples" / "customer-support.yaml")
    stack.cloud.reply_text = "Dear [[PERSON_1]], we will write to [[EMAIL_1]]."
    answer = stack.openai().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Draft a reply to Kenji Mori ({EMAIL})"}])
    assert answer.choices[0].message.content == f"Dear Kenji Mori, we will write to {EMAIL}."
    (line,) = [json.loads(x) for x in audit.read_text().splitlines()]
    assert line["pseudonymized_types"] == ["EMAIL_ADDRESS", "PERSON"]
    report = report_file(audit, None, None).as_dict()
    assert report["entities_pseudonymized_before_cloud"] == {"EMAIL_ADDRESS": 1, "PERSON": 1}
    assert report["placeholders_restored"] == 2
    assert report["personal_data_to_cloud"] == []
