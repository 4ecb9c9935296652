"""The policy language: loading with file:line errors, and decide() as a table of cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.policy import Facts, PolicyError, Route, decide, load_policy, parse_policy
from proxy.values import Endpoint

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_policy(ROOT / "policies" / "default.yaml")


@pytest.mark.parametrize(
    ("entities", "endpoint", "route", "rule"),
    [
        ((), Endpoint.CHAT, Route.CLOUD, "default"),
        ((("DATE_TIME", 0.85), ("LOCATION", 0.85), ("URL", 0.5)), Endpoint.CHAT, Route.CLOUD,
         "default"),
        ((("SECRET_OPENAI_KEY", 0.9),), Endpoint.CHAT, Route.LOCAL, "credentials"),
        ((("JP_MY_NUMBER", 1.0),), Endpoint.RESPONSES, Route.LOCAL, "government-ids"),
        ((("CREDIT_CARD", 1.0),), Endpoint.COMPLETIONS, Route.LOCAL, "financial"),
        ((("PHONE_NUMBER", 0.4),), Endpoint.CHAT, Route.LOCAL, "contact-details"),
        ((("PHONE_NUMBER", 0.3),), Endpoint.CHAT, Route.CLOUD, "default"),
        ((("PERSON", 0.85),), Endpoint.EMBEDDINGS, Route.LOCAL, "people"),
        ((("PERSON", 0.45),), Endpoint.CHAT, Route.CLOUD, "default"),
        ((("CONTENT_IMAGE", 1.0),), Endpoint.CHAT, Route.LOCAL, "non-text-content"),
        ((("DETECTION_FAILED", 1.0),), Endpoint.CHAT, Route.LOCAL, "fail_closed"),
        # Credentials come first: the first matching rule wins.
        ((("PERSON", 0.9), ("SECRET_JWT", 0.9)), Endpoint.CHAT, Route.LOCAL, "credentials"),
    ],
)
def test_default_policy_table(
    entities: tuple[tuple[str, float], ...], endpoint: Endpoint, route: Route, rule: str
) -> None:
    decision = decide(DEFAULT, Facts(endpoint, entities))
    assert (decision.route, decision.rule) == (route, rule)


def test_min_count_endpoints_and_block_message() -> None:
    policy = parse_policy(
        """
default: {route: cloud}
rules:
  - name: bulk-people
    when: {entities: [PERSON], min_count: 3, endpoints: [chat]}
    route: block
    message: Lists of people may not be sent.
"""
    )
    two = Facts(Endpoint.CHAT, (("PERSON", 0.9),) * 2)
    three = Facts(Endpoint.CHAT, (("PERSON", 0.9),) * 3)
    assert decide(policy, two).route is Route.CLOUD
    blocked = decide(policy, three)
    assert blocked.route is Route.BLOCK and blocked.message == "Lists of people may not be sent."
    assert decide(policy, Facts(Endpoint.EMBEDDINGS, three.entities)).route is Route.CLOUD


INVALID = [
    ("default: {route: clod}\n", ["<policy>:1: default.route: expected cloud|local|block"]),
    ("rules: []\n", ["<policy>:1: default: required field is missing"]),
    (
        "default: {route: cloud}\nrules:\n  - name: a\n    when: {entities: [PERSN]}\n"
        "    route: local\n",
        ["<policy>:4: rules[0].when.entities: unknown entity type 'PERSN' (see the entity"
         " vocabulary in the README)"],
    ),
    (
        "default: {route: cloud}\nrules:\n  - name: a\n    when: {}\n    route: local\n"
        "    rout: cloud\n",
        ["<policy>:6: rules[0].rout: unknown field (did you mean 'route'?)"],
    ),
    (
        "default: {route: cloud}\nrules:\n  - name: a\n    when: {}\n    route: local\n"
        "  - name: a\n    when: {}\n    route: cloud\n",
        ["<policy>:6: rules[1].name: duplicate rule name 'a' (rules[0] has it too)"],
    ),
    ("default: {route: cloud}\nrules:\n  - name: default\n    when: {}\n    route: local\n",
     ["<policy>:3: rules[0].name: rule name 'default' is reserved"]),
    ("default: [\n", None),
    ("- just\n- a list\n", ["<policy>:1: a policy must be a mapping with 'default' and 'rules'"]),
]


@pytest.mark.parametrize(("text", "errors"), INVALID)
def test_invalid_policies_name_file_line_and_field(text: str, errors: list[str] | None) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    if errors is None:
        assert info.value.errors[0].startswith("<policy>:2: invalid YAML")
    else:
        assert info.value.errors == errors


def test_every_shipped_policy_loads() -> None:
    paths = sorted((ROOT / "policies").rglob("*.yaml"))
    assert paths
    for path in paths:
        policy = load_policy(path)
        assert policy.rules or policy.default_route is Route.LOCAL


def test_part_of_an_allow_listed_phrase_is_set_aside_with_it() -> None:
    from proxy.policy import evaluate

    policy = DEFAULT

    def facts(text: str, value: str, occurrence: int = 0) -> Facts:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(value, start + 1)
        context = (text[max(0, start - 40):start], text[start + len(value):start + len(value)
                                                        + 40])
        return Facts(endpoint=Endpoint.CHAT, entities=(("PERSON", 0.85),), values=(value,),
                     surroundings=(context,))

    text = "Compare how Sherlock Holmes and Dr. Watson reason."
    assert evaluate(policy, facts(text, "Holmes"))[0].route is Route.CLOUD
    # A colleague who shares the family name is not part of the phrase.
    colleague = "Ask Anna Holmes whether she read Sherlock Holmes."
    assert evaluate(policy, facts(colleague, "Anna Holmes"))[0].route is Route.LOCAL


def test_a_name_only_next_to_an_allow_listed_phrase_is_not_set_aside() -> None:
    from proxy.policy import evaluate

    text = "Send Jack the summary of Jack Welch's memoir."
    first = text.index("Jack")
    context = (text[:first], text[first + 4:first + 44])
    colleague = Facts(endpoint=Endpoint.CHAT, entities=(("PERSON", 0.85),), values=("Jack",),
                      surroundings=(context,))
    assert evaluate(DEFAULT, colleague)[0].route is Route.LOCAL
    second = text.index("Jack", first + 1)
    figure = Facts(endpoint=Endpoint.CHAT, entities=(("PERSON", 0.85),), values=("Jack",),
                   surroundings=((text[:second], text[second + 4:second + 44]),))
    assert evaluate(DEFAULT, figure)[0].route is Route.CLOUD
