"""Load a policy file into a compiled ``Policy``, with errors that name file, line and field.

YAML is composed into nodes whose marks give the line of every key and item, then constructed
from those same nodes, so ``rules[3].route: expected cloud|local|block`` becomes
``policies/x.yaml:12: rules[3].route: …``. Parsing is strict: a key given twice in one mapping is
an error (YAML would silently keep the last one, so ``route: local`` followed by ``route: cloud``
would send the data to the cloud), and so is an unknown key.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import re
import stat
import types
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from proxy import vocabulary as entities
from proxy.policy.model import (
    REGEX_FLAGS,
    Allow,
    Policy,
    PolicySpec,
    PolicyTest,
    Rule,
    RuleSpec,
)
from proxy.policy.text import fold
from proxy.values import Endpoint, Route

PathKey = tuple[str | int, ...]
Lines = dict[PathKey, int]


class PolicyError(Exception):
    """An invalid policy; ``str()`` is one ``file:line: field: problem`` line per error."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that notes every key given twice in one mapping (``duplicates``: line and
    message) instead of silently keeping the last; the caller refuses the file.

    Keys brought in by a ``<<`` merge may still be overridden: that is what merging is for.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the base class reports an unhashable key
            if key in seen:
                self.duplicates.append((key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _node_lines(node: yaml.Node, path: PathKey, lines: Lines) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _node_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, (*path, i), lines)


def read_yaml(text: str, source: str) -> tuple[Any, Lines]:
    """The data in ``text`` and the line of every key and item, by path.

    Raises ``PolicyError`` (``source:line: …``) for invalid YAML and duplicate keys.
    """
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        lines: Lines = {}
        if root is None:
            return None, lines
        _node_lines(root, (), lines)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            # "expected ',' or '}'" is reported where YAML noticed; the unclosed bracket or
            # quote is usually on the line the context started.
            problem += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise PolicyError([f"{source}:{line}: invalid YAML: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([f"{source}:1: invalid YAML: {exc}"]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise PolicyError([f"{source}:{line}: {problem}"
                           for line, problem in sorted(loader.duplicates)])
    return data, lines


def _format_loc(loc: PathKey) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _fields_at(model: type[BaseModel], loc: PathKey) -> list[str]:
    """The field names of the model found at ``loc`` inside ``model``'s data, if one is."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _message(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "literal_error" or kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", "|")
        return "expected " + expected.replace(", ", "|")
    if kind == "extra_forbidden":
        loc = tuple(error["loc"])
        close = difflib.get_close_matches(str(loc[-1]), _fields_at(model, loc[:-1]), n=1)
        return f"unknown field (did you mean '{close[0]}'?)" if close else "unknown field"
    if kind == "missing":
        return "required field is missing"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def line_of(lines: Lines, loc: PathKey) -> int:
    """The line of ``loc``, or of its nearest enclosing key or item that is in the file."""
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def validation_errors(
    err: ValidationError, lines: Lines, source: str, model: type[BaseModel]
) -> list[str]:
    """One ``source:line: field: problem`` line per error of validating ``model``."""
    messages = []
    for e in err.errors():
        loc: PathKey = tuple(e["loc"])
        messages.append(
            f"{source}:{line_of(lines, loc)}: {_format_loc(loc)}: {_message(e, model)}"
        )
    return messages


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    data, lines = read_yaml(text, source)
    if not isinstance(data, dict):
        raise PolicyError([f"{source}:1: a policy must be a mapping with 'default' and 'rules'"])
    try:
        spec = PolicySpec.model_validate(data)
    except ValidationError as err:
        raise PolicyError(validation_errors(err, lines, source, PolicySpec)) from None
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
        regex=tuple(re.compile(p, REGEX_FLAGS) for p in w.regex) if w.regex is not None else None,
        min_tokens=w.min_tokens,
        max_tokens=w.max_tokens,
        redact=r.action == "redact",
        pseudonymize=r.action == "pseudonymize",
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
            patterns=tuple(re.compile(p, REGEX_FLAGS) for p in a.patterns),
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


def read_regular(path: Path) -> bytes:
    """A regular file's bytes (through symlinks). Anything else is refused rather than read:
    a FIFO put where a policy was would block the event loop until a writer came."""
    if not stat.S_ISREG(path.stat().st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    return path.read_bytes()


def load_policy(path: Path) -> Policy:
    try:
        text = read_regular(path).decode("utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}:1: cannot read policy: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise PolicyError([f"{path}:1: policy is not UTF-8 text"]) from None
    return parse_policy(text, str(path))
