"""Load a policy file into a compiled ``Policy``, with errors that name file, line and field.

YAML is parsed twice from the same text: once into plain data for validation, once into nodes
whose marks give the line of every key and item, so ``rules[3].route: expected cloud|local|block``
becomes ``policies/x.yaml:12: rules[3].route: …``. Validation is strict: an unknown key is an
error, never silently ignored.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from proxy.detection import entities
from proxy.exchange import Endpoint
from proxy.policy.model import Policy, PolicySpec, Route, Rule

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


def compile_policy(spec: PolicySpec, source: str, text: str) -> Policy:
    rules = []
    for r in spec.rules:
        expanded: set[str] = set()
        for name in r.when.entities:
            expanded |= entities.expand(name)
        rules.append(
            Rule(
                name=r.name,
                entity_types=frozenset(expanded),
                min_score=r.when.min_score,
                min_count=r.when.min_count,
                endpoints=(
                    frozenset(Endpoint(e) for e in r.when.endpoints)
                    if r.when.endpoints is not None
                    else None
                ),
                route=Route(r.route),
                message=r.message,
            )
        )
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Policy(
        path=source,
        version=version,
        rules=tuple(rules),
        default_route=Route(spec.default.route),
        default_message=spec.default.message,
    )


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}:1: cannot read policy: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise PolicyError([f"{path}:1: policy is not UTF-8 text"]) from None
    return parse_policy(text, str(path))
