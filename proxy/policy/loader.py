"""Load a policy file into a compiled ``Policy``, with errors that name file, line and field.

YAML is parsed twice from the same text: once into plain data for validation, once into nodes
whose marks give the line of every key and item, so ``rules[3].route: expected cloud|local|block``
becomes ``policies/x.yaml:12: rules[3].route: …``. Validation is strict: an unknown key is an
error, never silently ignored.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from proxy.detection import entities
from proxy.exchange import Endpoint
from proxy.policy.model import Allow, Policy, PolicySpec, PolicyTest, Route, Rule, RuleSpec
from proxy.policy.text import fold

PathKey = tuple[str | int, ...]


class PolicyError(Exception):
    """An invalid policy; ``str()`` is one ``file:line: field: problem`` line per error."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _node_lines(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _node_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, (*path, i), lines)


def _format_loc(loc: PathKey) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "literal_error" or kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", "|")
        return "expected " + expected.replace(", ", "|")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise PolicyError([f"{source}:{line}: invalid YAML: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([f"{source}:1: invalid YAML: {exc}"]) from None
    lines: dict[PathKey, int] = {}
    if root is not None:
        _node_lines(root, (), lines)
    if not isinstance(data, dict):
        raise PolicyError([f"{source}:1: a policy must be a mapping with 'default' and 'rules'"])
    try:
        spec = PolicySpec.model_validate(data)
    except ValidationError as err:
        messages = []
        for e in err.errors():
            loc: PathKey = tuple(e["loc"])
            probe = loc
            while probe and probe not in lines:
                probe = probe[:-1]
            line = lines.get(probe, 1)
            messages.append(f"{source}:{line}: {_format_loc(loc)}: {_message(e)}")
        raise PolicyError(messages) from None
    return compile_policy(spec, source, text)


def _expand_all(names: list[str]) -> frozenset[str]:
    expanded: set[str] = set()
    for name in names:
        expanded |= entities.expand(name)
    return frozenset(expanded)


def _compile_rule(r: RuleSpec) -> Rule:
    w = r.when
    headers = None
    if w.headers is not None:
        headers = tuple(
            (name.lower(), frozenset([value] if isinstance(value, str) else value))
            for name, value in w.headers.items()
        )
    return Rule(
        name=r.name,
        route=Route(r.route),
        entity_types=_expand_all(w.entities),
        min_score=w.min_score,
        min_count=w.min_count,
        tenants=frozenset(w.tenants) if w.tenants is not None else None,
        headers=headers,
        models=tuple(w.models) if w.models is not None else None,
        endpoints=frozenset(Endpoint(e) for e in w.endpoints) if w.endpoints is not None else None,
        non_text=w.non_text,
        keywords=tuple(fold(k) for k in w.keywords) if w.keywords is not None else None,
        regex=tuple(re.compile(p) for p in w.regex) if w.regex is not None else None,
        min_tokens=w.min_tokens,
        max_tokens=w.max_tokens,
        redact=r.action == "redact",
        entity_actions=tuple((_expand_all([n]), a) for n, a in r.entity_actions.items()),
        message=r.message,
    )


def compile_policy(spec: PolicySpec, source: str, text: str) -> Policy:
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    tests = tuple(
        PolicyTest(t.name, t.request, Endpoint(t.endpoint), t.tenant, dict(t.headers),
                   Route(t.expect.route), t.expect.rule)
        for t in spec.tests
    )
    allow = tuple(
        Allow(
            values=frozenset(fold(v) for v in a.values),
            patterns=tuple(re.compile(p) for p in a.patterns),
            entity_types=_expand_all(a.entities) if a.entities is not None else None,
            fictional_phone_numbers=a.fictional_phone_numbers,
        )
        for a in spec.allow
    )
    return Policy(
        path=source,
        version=version,
        rules=tuple(_compile_rule(r) for r in spec.rules),
        default_route=Route(spec.default.route),
        default_message=spec.default.message,
        tests=tests,
        allow=allow,
        thresholds=tuple((_expand_all([n]), v) for n, v in spec.thresholds.items()),
    )


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}:1: cannot read policy: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise PolicyError([f"{path}:1: policy is not UTF-8 text"]) from None
    return parse_policy(text, str(path))
