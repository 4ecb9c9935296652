"""``sekisho serve | explain | policy check`` — the command-line contract.

Exit codes: 0 success; 1 a policy or request was invalid; 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proxy.config import ConfigError, Settings, load_settings
from proxy.policy import PolicyError


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from proxy.app import create_app

    settings = _settings(args)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Third-party loggers may quote text they were given; keep them quiet.
    for noisy in ("presidio-analyzer", "spacy", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        app = create_app(settings)
    except PolicyError as err:
        print(err, file=sys.stderr)
        return 1
    print(
        f"sekisho: listening on http://{settings.host}:{settings.port}/v1 "
        f"(cloud {settings.cloud_url}, local {settings.local_url}, policy {settings.policy})",
        flush=True,
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    flags = {
        key: getattr(args, key, None)
        for key in ("host", "port", "policy", "cloud_url", "local_url")
    }
    config = getattr(args, "config", None)
    return load_settings(Path(config) if config else None, flags)


def _policy_check(args: argparse.Namespace) -> int:
    from proxy.policy import load_policy

    failed = False
    for name in args.files:
        try:
            policy = load_policy(Path(name))
        except PolicyError as err:
            print(err, file=sys.stderr)
            failed = True
        else:
            print(f"{name}: ok ({len(policy.rules)} rules, version {policy.version})")
    return 1 if failed else 0


def _mask(text: str) -> str:
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def _explain(args: argparse.Namespace) -> int:
    from proxy.detection.detector import Detector, Finding
    from proxy.errors import ProxyError
    from proxy.exchange import Endpoint, extract, validate
    from proxy.policy import Facts, Route, evaluate, load_policy
    from proxy.transform import map_model

    settings = _settings(args)
    try:
        policy = load_policy(Path(args.policy) if args.policy else settings.policy)
    except PolicyError as err:
        print(err, file=sys.stderr)
        return 1
    raw = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
    endpoint = Endpoint(args.endpoint)
    try:
        body = validate(endpoint, json.loads(raw))
    except ValueError:
        print("error: the request is not valid JSON", file=sys.stderr)
        return 1
    except ProxyError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    segments, flags = extract(body)
    detector = Detector(ja_engine=settings.ja_engine, cache_size=0)
    detector.load()
    findings = detector.analyze(segments)
    findings += [Finding(flag, 1.0, "", 0, 0, "extraction", "-") for flag in sorted(flags)]
    facts = Facts(endpoint, tuple((f.entity_type, f.score) for f in findings),
                  body.get("model") if isinstance(body.get("model"), str) else None)
    decision, trace = evaluate(policy, facts)
    local_model = settings.local_model or "<local model>"
    if endpoint is Endpoint.EMBEDDINGS:
        local_model = settings.local_embedding_model or "<no local embedding model>"
    forwarded = (
        None if decision.route is Route.BLOCK
        else map_model(body, decision.route, settings, local_model)
    )
    texts = {s.path: s.text for s in segments}
    entities: list[dict[str, Any]] = []
    for f in findings:
        value = texts.get(f.path, "")[f.start:f.end]
        entities.append({
            "type": f.entity_type, "score": f.score, "recognizer": f.recognizer,
            "path": f.path, "start": f.start, "end": f.end, "masked": _mask(value),
        })
    report = {
        "route": decision.route.value,
        "rule": decision.rule,
        "policy_version": policy.version,
        "inspected": [{"path": s.path, "chars": len(s.text)} for s in segments],
        "content_flags": sorted(flags),
        "entities": entities,
        "rules": [{"rule": t.rule, "matched": t.matched, "reason": t.reason} for t in trace],
        "forwarded_body": forwarded,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"policy   {policy.path} (version {policy.version})")
    print(f"inspected {len(segments)} text(s):")
    for s in segments:
        print(f"  {s.path}  ({len(s.text)} chars)")
    if flags:
        print(f"non-text content: {', '.join(sorted(flags))}")
    print(f"entities ({len(entities)}):")
    for e in entities:
        print(f"  {e['type']:<20} score {e['score']:.2f}  {e['path']}[{e['start']}:{e['end']}]"
              f"  {e['masked']}  ({e['recognizer']})")
    print("rules:")
    for t in trace:
        print(f"  {'MATCH' if t.matched else '-    '} {t.rule:<20} {t.reason}")
    print(f"route    {decision.route.value}  (rule {decision.rule})")
    print("forwarded body:" if forwarded is not None else "forwarded body: (nothing is forwarded)")
    if forwarded is not None:
        print(json.dumps(forwarded, ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sekisho", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the proxy")
    serve.add_argument("--config", help="YAML settings file")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--policy", help="policy file (default policies/default.yaml)")
    serve.add_argument("--cloud-url", dest="cloud_url")
    serve.add_argument("--local-url", dest="local_url")
    serve.set_defaults(func=_serve)

    explain = sub.add_parser("explain", help="show how a request would be inspected and routed")
    explain.add_argument("file", nargs="?", help="request body JSON (default: stdin)")
    explain.add_argument("--config", help="YAML settings file")
    explain.add_argument("--policy")
    explain.add_argument("--endpoint", default="chat",
                         choices=["chat", "completions", "embeddings", "responses"])
    explain.add_argument("--tenant", default="default")
    explain.add_argument("--json", action="store_true")
    explain.set_defaults(func=_explain)

    policy = sub.add_parser("policy", help="policy tools")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_sub.add_parser("check", help="validate policy files")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=_policy_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as err:
        print(f"configuration error:\n{err}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
