"""The full policy language: every condition and action as a table of cases."""

from __future__ import annotations

import pytest

from proxy.policy import Facts, PolicyError, Route, decide, parse_policy
from proxy.policy.text import estimate_tokens, fold
from proxy.values import Action, Endpoint

POLICY = parse_policy(
    """
default: {route: cloud}
rules:
  - name: radiology-tenant
    when: {tenants: [radiology]}
    route: local
  - name: team-header
    when: {headers: {x-team: [legal, audit]}}
    route: local
  - name: reasoning-models
    when: {models: ["o1*", o3-mini]}
    route: block
    message: Reasoning models are not approved.
  - name: confidential-marking
    when: {keywords: [社外秘, confidential]}
    route: local
  - name: part-numbers
    when: {regex: ['\\bpn-\\d{5}\\b']}
    route: local
  - name: images
    when: {non_text: true}
    route: local
  - name: long-prompts
    when: {min_tokens: 1000}
    route: local
  - name: support-contacts
    when: {entities: [EMAIL_ADDRESS, PERSON]}
    route: cloud
    action: redact
    entity_actions: {JP_MY_NUMBER: local, SECRET_*: block}
"""
)


def facts(**kwargs: object) -> Facts:
    values: dict[str, object] = {"endpoint": Endpoint.CHAT, "entities": ()}
    values.update(kwargs)
    return Facts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "route", "rule"),
    [
        (facts(), Route.CLOUD, "default"),
        (facts(tenant="radiology"), Route.LOCAL, "radiology-tenant"),
        (facts(tenant="sales"), Route.CLOUD, "default"),
        (facts(headers={"x-team": "legal"}), Route.LOCAL, "team-header"),
        (facts(headers={"x-team": "sales"}), Route.CLOUD, "default"),
        (facts(model="o1-preview"), Route.BLOCK, "reasoning-models"),
        (facts(model="o3-mini"), Route.BLOCK, "reasoning-models"),
        (facts(model="gpt-4o"), Route.CLOUD, "default"),
        (facts(text=fold("この資料は社外秘です")), Route.LOCAL, "confidential-marking"),
        (facts(text=fold("ＣＯＮＦＩＤＥＮＴＩＡＬ draft")), Route.LOCAL, "confidential-marking"),
        (facts(text=fold("Order PN-12345 today")), Route.LOCAL, "part-numbers"),
        (facts(text=fold("Order PN-1234 today")), Route.CLOUD, "default"),
        (facts(entities=(("CONTENT_IMAGE", 1.0),)), Route.LOCAL, "images"),
        (facts(tokens=1000), Route.LOCAL, "long-prompts"),
        (facts(tokens=999), Route.CLOUD, "default"),
    ],
)
def test_conditions(case: Facts, route: Route, rule: str) -> None:
    decision = decide(POLICY, case)
    assert (decision.route, decision.rule) == (route, rule)


def test_redact_rule_redacts_its_types_and_forwards_to_the_cloud() -> None:
    decision = decide(POLICY, facts(entities=(("EMAIL_ADDRESS", 1.0), ("URL", 0.5))))
    assert decision.route is Route.CLOUD and decision.action is Action.REDACT
    assert decision.redact_types == {"EMAIL_ADDRESS", "PERSON"}
    assert decision.rule == "support-contacts"


def test_entity_actions_force_local_and_block_outranks_local() -> None:
    local = decide(POLICY, facts(entities=(("EMAIL_ADDRESS", 1.0), ("JP_MY_NUMBER", 1.0))))
    assert local.route is Route.LOCAL and not local.redact_types
    blocked = decide(POLICY, facts(entities=(
        ("PERSON", 0.9), ("JP_MY_NUMBER", 1.0), ("SECRET_JWT", 0.95))))
    assert blocked.route is Route.BLOCK
    assert blocked.entity_types == {"JP_MY_NUMBER", "SECRET_JWT"}


def test_all_conditions_of_a_rule_must_hold() -> None:
    policy = parse_policy(
        "default: {route: cloud}\nrules:\n  - name: both\n"
        "    when: {tenants: [hr], entities: [PERSON]}\n    route: local\n"
    )
    assert decide(policy, facts(tenant="hr")).route is Route.CLOUD
    assert decide(policy, facts(entities=(("PERSON", 0.9),))).route is Route.CLOUD
    assert decide(policy, facts(tenant="hr", entities=(("PERSON", 0.9),))).route is Route.LOCAL


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ("    when: {entities: [PERSON]}\n    route: local\n    action: pseudonymize\n",
         "action 'pseudonymize' only applies to route 'cloud'"),
        ("    when: {}\n    route: cloud\n    action: pseudonymize\n",
         "action 'pseudonymize' needs when.entities"),
        ("    when: {entities: [PERSON]}\n    route: local\n    action: redact\n",
         "action 'redact' only applies to route 'cloud'"),
        ("    when: {}\n    route: cloud\n    action: redact\n",
         "action 'redact' needs when.entities"),
        ("    when: {regex: ['(unclosed']}\n    route: local\n", "invalid regex '(unclosed'"),
        ("    when: {}\n    route: cloud\n    entity_actions: {EMAL: redact}\n",
         "unknown entity type 'EMAL'"),
        ("    when: {}\n    route: cloud\n    entity_actions: {PERSON: cloud}\n",
         "expected redact|pseudonymize|local|block"),
        ("    when: {keywords: ['  ']}\n    route: local\n", "keywords must not be empty"),
        ("    when: {endpoints: [chats]}\n    route: local\n",
         "expected chat|completions|embeddings|responses"),
    ],
)
def test_invalid_rules_are_load_errors_with_lines(rule: str, error: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy("default: {route: cloud}\nrules:\n  - name: r\n" + rule, "p.yaml")
    assert error in str(info.value)
    assert str(info.value).startswith("p.yaml:")


def test_token_estimate() -> None:
    assert estimate_tokens(["abcd" * 10]) == 10
    assert estimate_tokens(["日本語"]) == 3


ALLOWING = parse_policy(
    """
default: {route: cloud}
allow:
  - values: [support@acme.example, 0120-123-456]
    patterns: ['[^@]+@example\\.(com|org|net)']
    entities: [EMAIL_ADDRESS, PHONE_NUMBER, JP_PHONE_NUMBER]
    fictional_phone_numbers: true
thresholds:
  PERSON: 0.8
rules:
  - name: contacts
    when: {entities: [EMAIL_ADDRESS, PHONE_NUMBER, JP_PHONE_NUMBER], min_score: 0.4}
    route: local
  - name: people
    when: {entities: [PERSON]}
    route: local
"""
)


@pytest.mark.parametrize(
    ("entity", "score", "value", "route"),
    [
        ("EMAIL_ADDRESS", 1.0, "docs@example.com", Route.CLOUD),
        ("EMAIL_ADDRESS", 1.0, "Support@ACME.example", Route.CLOUD),
        ("EMAIL_ADDRESS", 1.0, "taro@example.co.jp", Route.LOCAL),
        ("EMAIL_ADDRESS", 1.0, "evil@example.com.attacker.jp", Route.LOCAL),
        ("PHONE_NUMBER", 0.4, "(415) 555-0142", Route.CLOUD),
        ("PHONE_NUMBER", 0.4, "(415) 555-2671", Route.LOCAL),
        ("PERSON", 0.85, "Taro Yamada", Route.LOCAL),
        ("PERSON", 0.7, "Taro", Route.CLOUD),
    ],
)
def test_allow_lists_and_thresholds(entity: str, score: float, value: str, route: Route
                                    ) -> None:
    decision = decide(ALLOWING, facts(entities=((entity, score),), values=(value,)))
    assert decision.route is route


def test_allow_list_never_sets_aside_a_detection_failure() -> None:
    policy = parse_policy(
        "default: {route: cloud}\nallow: [{patterns: ['.*']}]\nrules:\n  - name: media\n"
        "    when: {entities: ['CONTENT_*']}\n    route: local\n"
    )
    decision = decide(policy, facts(entities=(("DETECTION_FAILED", 1.0),), values=("",)))
    assert decision.route is Route.LOCAL and decision.rule == "fail_closed"
    media = decide(policy, facts(entities=(("CONTENT_IMAGE", 1.0),), values=("",)))
    assert media.rule == "media"
    allowed = decide(policy, facts(entities=(("PERSON", 0.9),), values=("Bob",)))
    assert allowed.allowed == ("PERSON",)


def test_regex_written_in_upper_case_matches_the_folded_text() -> None:
    policy = parse_policy(
        "default: {route: cloud}\nrules:\n  - name: project\n"
        "    when: {regex: ['PRJ-[0-9]{4}']}\n    route: local\n"
    )
    assert decide(policy, facts(text=fold("Status of PRJ-1234?"))).route is Route.LOCAL
    assert decide(policy, facts(text=fold("Status of ＰＲＪ－１２３４?"))).route is Route.LOCAL
    assert decide(policy, facts(text=fold("Status of PRJ-12?"))).route is Route.CLOUD


def test_allow_pattern_written_in_upper_case_matches_the_folded_value() -> None:
    policy = parse_policy(
        "default: {route: cloud}\nallow: [{patterns: ['[A-Z]+@EXAMPLE\\.COM']}]\nrules:\n"
        "  - name: contacts\n    when: {entities: [EMAIL_ADDRESS]}\n    route: local\n"
    )
    decision = decide(policy, facts(entities=(("EMAIL_ADDRESS", 1.0),),
                                    values=("Docs@example.com",)))
    assert decision.route is Route.CLOUD and decision.allowed == ("EMAIL_ADDRESS",)


def test_every_duplicate_key_is_reported_and_none_silently_wins() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(
            "default: {route: local}\nrules:\n  - name: ids\n    when: {entities: [PERSON]}\n"
            "    route: local\n    route: cloud\ndefault: {route: cloud}\n", "p.yaml"
        )
    assert info.value.errors == ["p.yaml:6: duplicate key 'route'",
                                 "p.yaml:7: duplicate key 'default'"]


def test_a_merged_key_may_still_be_overridden() -> None:
    policy = parse_policy(
        "default: {route: cloud}\nrules:\n  - &ids {name: ids, when: {entities: [PERSON]},"
        " route: cloud}\n  - <<: *ids\n    name: ids-hr\n    route: local\n"
    )
    assert [(r.name, r.route) for r in policy.rules] == [("ids", Route.CLOUD),
                                                          ("ids-hr", Route.LOCAL)]


def test_a_block_entity_action_still_escalates_a_local_rule() -> None:
    policy = parse_policy(
        "default: {route: cloud}\nrules:\n  - name: people\n    when: {entities: [PERSON]}\n"
        "    route: local\n    entity_actions: {SECRET_*: block}\n"
    )
    assert decide(policy, facts(entities=(("PERSON", 0.9),))).route is Route.LOCAL
    assert decide(policy, facts(entities=(("PERSON", 0.9), ("SECRET_JWT", 1.0)))
                  ).route is Route.BLOCK
