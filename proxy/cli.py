"""``sekisho serve | explain | policy check | policy test | report | eval | bench``: the
command-line contract.

Exit codes: 0 success; 1 a policy or request was invalid; 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from proxy.config import ConfigError, Settings, load_settings
from proxy.lifetime import PARENT_ENV, watch_parent
from proxy.policy import PolicyError


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from proxy.app import create_app
    from proxy.config import exposure_problem
    from proxy.serving import serve

    settings = _settings(args)
    problem = exposure_problem(settings)
    if problem is not None:
        print(f"sekisho: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if settings.worker_count > 1 and not os.environ.get(WORKER_ENV):
        return _supervise(settings)
    if os.environ.get(PARENT_ENV):
        # A worker of a supervisor that is killed outright stops too (gracefully).
        watch_parent(int(os.environ[PARENT_ENV]),
                     lambda: os.kill(os.getpid(), signal.SIGTERM))
    # Third-party loggers may quote text they were given; keep them quiet.
    for noisy in ("presidio-analyzer", "spacy", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        app = create_app(settings)
    except PolicyError as err:
        print(err, file=sys.stderr)
        return 1
    scheme = "https" if settings.tls_cert else "http"
    print(
        f"sekisho: listening on {scheme}://{settings.host}:{settings.port}/v1 "
        f"(cloud {settings.cloud_url}, local {settings.local_url}, policy {settings.policy})",
        flush=True,
    )
    # Workers share the port (SO_REUSEPORT): the kernel spreads connections across them.
    asyncio.run(serve(app, settings, reuse_port=bool(os.environ.get(WORKER_ENV))))
    return 0


WORKER_ENV = "SEKISHO_WORKER"


def _supervise(settings: Settings) -> int:
    """Run ``workers`` copies of the proxy on one port, with metrics aggregated across them.

    Each worker is a fresh ``sekisho serve`` process (own models, own event loop) started with
    ``PROMETHEUS_MULTIPROC_DIR`` pointing at a directory this supervisor owns, so a scrape of
    any worker shows the whole instance. SIGTERM/SIGINT stop all workers; SIGHUP is passed on.
    """
    import subprocess
    import tempfile

    owned_dir = None
    env = dict(os.environ)
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        owned_dir = tempfile.mkdtemp(prefix="sekisho-metrics-")
        env["PROMETHEUS_MULTIPROC_DIR"] = owned_dir
    else:
        # An operator-chosen directory outlives runs; values from an earlier run (an old
        # policy version, an upstream that was down) would be merged into this one's.
        for stale in Path(env["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
            stale.unlink()
    env[WORKER_ENV] = "1"
    env[PARENT_ENV] = str(os.getpid())
    argv = [sys.executable, "-m", "proxy", *_invocation]
    workers = [subprocess.Popen(argv, env=env) for _ in range(settings.worker_count)]
    print(f"sekisho: supervising {settings.worker_count} workers "
          f"(pids {', '.join(str(w.pid) for w in workers)})", flush=True)
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        if signum != signal.SIGHUP:
            stopping = True
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    code = 0
    try:
        while any(w.poll() is None for w in workers):
            for worker in workers:
                if worker.poll() is not None and not stopping:
                    # One worker died: stop the others rather than serve at reduced capacity
                    # silently; the platform's restart policy brings the instance back whole.
                    code = worker.returncode or 1
                    forward(signal.SIGTERM, None)
            try:
                workers[0].wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        if owned_dir is not None:
            import shutil

            shutil.rmtree(owned_dir, ignore_errors=True)
    return code


def _workers(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number or auto") from None


def _settings(args: argparse.Namespace) -> Settings:
    flags = {
        key: getattr(args, key, None)
        for key in ("host", "port", "policy", "cloud_url", "local_url", "workers", "tls_cert",
                    "tls_key")
    }
    if getattr(args, "allow_unauthenticated", False):
        flags["allow_unauthenticated"] = True
    config = getattr(args, "config", None)
    return load_settings(Path(config) if config else None, flags)


def _policy_check(args: argparse.Namespace) -> int:
    from proxy.policy import load_policy
    from proxy.policy.decide import warnings

    failed = False
    for name in args.files:
        try:
            policy = load_policy(Path(name))
        except PolicyError as err:
            print(err, file=sys.stderr)
            failed = True
        else:
            print(f"{name}: ok ({len(policy.rules)} rules, version {policy.version})")
            for warning in warnings(policy):
                print(f"{name}: warning: {warning}", file=sys.stderr)
    return 1 if failed else 0


def _policy_test(args: argparse.Namespace) -> int:
    from proxy.detection.detector import Detector
    from proxy.policy import load_policy
    from proxy.tools.policy_tests import run_policy_tests

    settings = _settings(args)
    detector = Detector(ja_engine=settings.ja_engine, en_ner=settings.en_ner, cache_size=0)
    detector.load()
    passed = failed = 0
    for name in args.files:
        try:
            policy = load_policy(Path(name))
        except PolicyError as err:
            print(err, file=sys.stderr)
            failed += 1
            continue
        if not policy.tests:
            print(f"{name}: no tests")
        for result in run_policy_tests(policy, detector, settings):
            if result.passed:
                passed += 1
                print(f"{name}: ok    {result.name}")
            else:
                failed += 1
                print(f"{name}: FAIL  {result.name}: expected {result.expected}, "
                      f"got {result.got}")
    print(f"policy tests: {passed} passed, {failed} failed")
    return 1 if failed else 0


def _explain(args: argparse.Namespace) -> int:
    from proxy.detection.detector import Detector
    from proxy.errors import ProxyError
    from proxy.policy import load_policy
    from proxy.tools.explain import explain, render_text
    from proxy.values import Endpoint

    settings = _settings(args)
    try:
        policy = load_policy(Path(args.policy) if args.policy else _tenant_policy(settings,
                                                                                 args.tenant))
    except PolicyError as err:
        print(err, file=sys.stderr)
        return 1
    except LookupError as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 1
    try:
        raw = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
    except OSError as err:
        print(f"error: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print("error: the request is not UTF-8 text", file=sys.stderr)
        return 1
    try:
        body = json.loads(raw)
    except ValueError:
        print("error: the request is not valid JSON", file=sys.stderr)
        return 1
    detector = Detector(ja_engine=settings.ja_engine, en_ner=settings.en_ner, cache_size=0)
    detector.load()
    try:
        report = explain(body, Endpoint(args.endpoint), policy, detector, settings,
                         tenant=args.tenant)
    except ProxyError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(render_text(report))
    if report["forwarded_body"] is None:
        print("forwarded body: (nothing is forwarded)")
    else:
        print("forwarded body:")
        print(json.dumps(report["forwarded_body"], ensure_ascii=False, indent=2))
    return 0


def _tenant_policy(settings: Settings, tenant: str) -> Path:
    """The policy file a tenant's requests are decided by (keys file, else the default).

    Raises ``LookupError`` for a tenant the keys file does not name, as the HTTP explain
    endpoint answers 400: explaining a typo with the default policy would mislead.
    """
    if settings.keys_file is not None:
        from proxy.policy.store import load_keys

        keys = load_keys(settings.keys_file)
        if tenant in keys.policies:
            return keys.policies[tenant]
        if tenant != "default" and tenant not in keys.by_hash.values():
            raise LookupError(f"unknown tenant {tenant!r} (not in {settings.keys_file})")
    elif tenant != "default":
        raise LookupError(f"unknown tenant {tenant!r}: no keys file is configured")
    return settings.policy


def _eval(args: argparse.Namespace) -> int:
    from proxy.tools.evaluation import run

    return run(args)


def _bench(args: argparse.Namespace) -> int:
    from proxy.tools.benchmark import run

    return run(args)


def _keys_hash(args: argparse.Namespace) -> int:
    from proxy.policy.store import hash_key

    key = args.key if args.key is not None else sys.stdin.readline().strip()
    if not key:
        print("error: no key given", file=sys.stderr)
        return 1
    print(hash_key(key))
    return 0


def _report(args: argparse.Namespace) -> int:
    from proxy.observe.report import parse_time, render, report_file

    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
    except ValueError:
        print("error: --since/--until take ISO 8601 times, e.g. 2026-10-01 or "
              "2026-10-01T09:00:00Z", file=sys.stderr)
        return 2
    try:
        report = report_file(Path(args.audit), since, until)
    except OSError as exc:
        print(f"error: cannot read {args.audit}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(report))
    # Non-zero when personal data reached the cloud unredacted, so a scheduled check can alert.
    return 3 if report.personal_data_to_cloud else 0


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
    serve.add_argument("--workers", type=_workers,
                       help="worker processes sharing the port, or auto (one per core)")
    serve.add_argument("--allow-unauthenticated", action="store_true",
                       help="listen on a non-loopback address without a keys file")
    serve.add_argument("--tls-cert", dest="tls_cert", help="PEM certificate of the listener")
    serve.add_argument("--tls-key", dest="tls_key", help="PEM private key of the listener")
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
    test = policy_sub.add_parser("test", help="run the example requests under a policy's tests:")
    test.add_argument("files", nargs="+")
    test.add_argument("--config", help="YAML settings file")
    test.set_defaults(func=_policy_test)

    report = sub.add_parser("report", help="summarise an audit log")
    report.add_argument("--audit", required=True, help="the JSON-lines audit log")
    report.add_argument("--since", help="ISO 8601 start (inclusive)")
    report.add_argument("--until", help="ISO 8601 end (exclusive)")
    report.add_argument("--json", action="store_true")
    report.set_defaults(func=_report)

    evaluate = sub.add_parser(
        "eval", help="detection precision/recall, leak and over-routing rates on the corpus")
    evaluate.add_argument("--corpus", default="tests/detection/corpus",
                          help="directory of labelled prompts (default: the project's corpus)")
    evaluate.add_argument("--policy", default="policies/default.yaml",
                          help="policy deciding request-level routes")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=_eval)

    bench = sub.add_parser("bench", help="detection latency benchmark on the corpus's texts")
    bench.add_argument("--corpus", default="tests/detection/corpus")
    bench.add_argument("--runs", type=int, default=50, help="calls per case (10,000: a tenth)")
    bench.add_argument("--ja-engine", dest="ja_engine", default="sudachi",
                       choices=["sudachi", "ginza"])
    bench.add_argument("--en-ner", dest="en_ner", default="cascade",
                       choices=["cascade", "always"])
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=_bench)

    keys = sub.add_parser("keys", help="tenant key tools")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    hash_cmd = keys_sub.add_parser("hash", help="print the SHA-256 to put in the keys file")
    hash_cmd.add_argument("key", nargs="?", help="the API key (default: read from stdin)")
    hash_cmd.set_defaults(func=_keys_hash)
    return parser


_invocation: list[str] = []


def main(argv: Sequence[str] | None = None) -> int:
    _invocation[:] = list(argv) if argv is not None else sys.argv[1:]
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as err:
        print(f"configuration error:\n{err}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
