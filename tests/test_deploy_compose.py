"""deploy/compose: the compose file is valid Compose, and every name, port, path and command in
it agrees with the files it mounts and with the Sekisho it runs.

No container engine runs here. The compose file is validated against the Compose
Specification's JSON schema (the copy check-jsonschema ships, pinned in the test lock) both as
written and after interpolation with .env.example; mounts are resolved against the repository;
the Sekisho settings it mounts are loaded with the real ``load_settings``; the Prometheus
configuration is checked by promtool in the layout the mounts give it; the healthcheck command
is run against the real app on a loopback port.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from conftest import StackFactory

from proxy.app import DRAINING, create_app
from proxy.config import ENV_VARS, SECRET_ENV_VARS, Settings, exposure_problem, load_settings
from proxy.policy.loader import load_policy
from proxy.policy.store import load_keys

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
GRAFANA = ROOT / "deploy" / "grafana" / "provisioning"
SHIPPED_PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
# What `docker compose up` refuses to start without (`${VAR:?message}`): the secrets.
REQUIRED = {"OPENAI_API_KEY", "SEKISHO_LOCAL_API_KEY", "GRAFANA_ADMIN_PASSWORD"}


def tool(name: str) -> str | None:
    found = shutil.which(name)
    for folder in ("/usr/bin", "/usr/sbin"):
        if found is None and Path(folder, name).is_file():
            found = str(Path(folder, name))
    return found


# ------------------------------------------------------------------------- interpolation


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), f".env.example:{number}: {line}"
        assert name not in values, f".env.example:{number}: {name} twice"
        values[name] = value
    return values


class MissingRequired(Exception):
    pass


_VARIABLE = re.compile(r"\$\$|\$\{(?P<braced>[^}]*)\}|\$(?P<named>[A-Za-z_][A-Za-z0-9_]*)")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>.*))?",
                     re.S)


def interpolate(value: Any, env: dict[str, str], used: set[str] | None = None) -> Any:
    """Compose's variable substitution of every string value (keys are not substituted):
    ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``,
    ``${VAR:+other}``, ``$VAR`` and ``$$``."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, used) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, used) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("named"):
            name, op, arg = match.group("named"), None, ""
        else:
            parsed = _BRACED.fullmatch(match.group("braced"))
            assert parsed is not None, f"not a Compose variable: {match.group(0)}"
            name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
            assert "$" not in arg, f"nested substitution is not used here: {match.group(0)}"
        if used is not None:
            used.add(name)
        current = env.get(name)
        set_nonempty = bool(current)
        if op == ":-":
            return current if set_nonempty else arg
        if op == "-":
            return current if current is not None else arg
        if op in (":?", "?"):
            if (op == ":?" and not set_nonempty) or current is None:
                raise MissingRequired(f"{name}: {arg}")
            return current
        if op == ":+":
            return arg if set_nonempty else ""
        if op == "+":
            return arg if current is not None else ""
        return current or ""

    return _VARIABLE.sub(substitute, value)


@functools.cache
def raw_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def deployed_env() -> dict[str, str]:
    """.env.example with the required secrets filled in, as an operator's .env would be."""
    env = env_example()
    env.update({name: f"test-{name.lower()}" for name in REQUIRED})
    return env


def compose() -> dict[str, Any]:
    result = interpolate(copy.deepcopy(raw_compose()), deployed_env())
    assert isinstance(result, dict)
    return result


def service(name: str) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    assert name in services, f"no service {name!r}"
    return services[name]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def binds(svc: dict[str, Any]) -> list[tuple[Path, str, bool]]:
    """(host path, container path, read-only) of every bind mount of a service."""
    out = []
    for volume in svc.get("volumes", []):
        if isinstance(volume, dict):
            if volume["type"] != "bind":
                continue
            source, target, read_only = volume["source"], volume["target"], bool(
                volume.get("read_only"))
        else:
            parts = volume.split(":")
            if not parts[0].startswith((".", "/", "~")):
                continue
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        out.append(((COMPOSE_DIR / source).resolve(), target, read_only))
    return out


def mount_of(svc: dict[str, Any], target: str) -> tuple[Path, bool]:
    found = [(src, ro) for src, dst, ro in binds(svc) if dst == target]
    assert len(found) == 1, f"no single bind mount at {target}"
    return found[0]


def sekisho_settings() -> Settings:
    """What a Sekisho replica loads: the mounted settings file and its environment."""
    svc = service("sekisho")
    return load_settings(mount_of(svc, "/etc/sekisho/sekisho.yaml")[0], environ=environment(svc))


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    return parts.hostname, parts.port


@functools.cache
def app_get_paths() -> frozenset[str]:
    app = create_app(Settings.model_validate({"detection_workers": 0, "metrics_port": None}))
    return frozenset(route.resource.canonical for route in app.router.routes()
                     if route.method == "GET" and route.resource is not None)


# ------------------------------------------------------------------------- the file itself


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    assert compose_errors(raw_compose()) == []
    assert compose_errors(compose()) == [], "invalid once .env.example is substituted"


def test_the_schema_check_rejects_a_misspelt_key() -> None:
    """The schema is strict where Compose is (a control for the test above)."""
    broken = copy.deepcopy(compose())
    broken["services"]["sekisho"]["helthcheck"] = broken["services"]["sekisho"]["healthcheck"]
    broken["services"]["redis"]["deploy"] = {"replica": 2}
    errors = compose_errors(broken)
    assert any("helthcheck" in e for e in errors), errors
    assert any("replica" in e for e in errors), errors


def test_only_the_secrets_must_be_filled_in() -> None:
    env = env_example()
    missing = set()
    for name in REQUIRED:
        assert env[name] == "", f".env.example must leave {name} empty"
    while True:
        try:
            interpolate(copy.deepcopy(raw_compose()), env)
            break
        except MissingRequired as err:
            name = str(err).split(":")[0]
            missing.add(name)
            env[name] = "filled"
    assert missing == REQUIRED


def test_env_example_documents_exactly_the_variables_compose_uses() -> None:
    used: set[str] = set()
    interpolate(copy.deepcopy(raw_compose()), deployed_env(), used)
    documented = set(env_example())
    # COMPOSE_PROFILES is read by docker compose itself, not substituted in the file.
    assert used == documented - {"COMPOSE_PROFILES"}
    # Each default in the file is the value .env.example suggests, so neither misleads.
    defaults = {m.group(1): m.group(2) for m in
                re.finditer(r"\$\{([A-Z0-9_]+):-([^}]*)\}", COMPOSE_FILE.read_text("utf-8"))}
    for name, default in defaults.items():
        assert env_example()[name] == default, f"{name}: .env.example and compose.yaml differ"


def test_vllm_starts_by_default_and_can_be_left_out() -> None:
    assert "vllm" in env_example()["COMPOSE_PROFILES"].split(",")
    assert service("vllm")["profiles"] == ["vllm"]
    dependency = service("sekisho")["depends_on"]["vllm"]
    assert dependency == {"condition": "service_started", "required": False}
    # Every other service runs whatever the profiles.
    assert [n for n, s in compose()["services"].items() if s.get("profiles")] == ["vllm"]


def test_every_mounted_path_exists_in_the_repository() -> None:
    declared = set(compose().get("volumes", {}))
    for name, svc in compose()["services"].items():
        for source, target, read_only in binds(svc):
            assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"
            assert ROOT in source.parents, f"{name}: {source} is outside the repository"
            assert read_only, f"{name}: {target} is mounted writable"
        for volume in svc.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith((".", "/", "~")):
                assert volume.split(":")[0] in declared, f"{name}: undeclared volume {volume}"
            elif isinstance(volume, dict) and volume["type"] == "volume":
                assert volume["source"] in declared, f"{name}: undeclared volume {volume}"


# ------------------------------------------------------------------------- Sekisho


def test_sekisho_runs_two_replicas_sharing_state_in_redis() -> None:
    svc = service("sekisho")
    assert int(svc["deploy"]["replicas"]) == 2
    assert svc["build"] == {"context": "../..", "dockerfile": "deploy/Dockerfile"}
    assert (COMPOSE_DIR / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()
    settings = sekisho_settings()
    assert settings.workers == 1, "one serving process per replica: replicas scale out"
    host, port = address(settings.state_backend)
    assert settings.state_backend.startswith("redis://")
    assert host in compose()["services"] and host == "redis"
    assert str(port) in service("redis")["expose"]
    assert port == 6379 and "--port" not in service("redis")["command"]
    assert svc["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_sekisho_environment_names_are_settings_it_reads() -> None:
    # A misspelt variable would be ignored silently by Sekisho: every name must be one it reads.
    names = set(environment(service("sekisho")))
    assert names <= set(ENV_VARS) | set(SECRET_ENV_VARS), names - set(ENV_VARS)
    assert {"OPENAI_API_KEY", "SEKISHO_LOCAL_API_KEY"} <= names


def test_sekisho_settings_load_and_authenticate_clients() -> None:
    settings = sekisho_settings()
    assert (settings.host, settings.metrics_host) == ("0.0.0.0", "0.0.0.0")
    assert exposure_problem(settings) is None
    assert settings.keys_file is not None and settings.cloud_api_key and settings.local_api_key
    keys_dir, read_only = mount_of(service("sekisho"), str(settings.keys_file.parent))
    keys = load_keys(keys_dir / settings.keys_file.name)
    assert read_only
    assert keys.by_hash == {}, "the shipped keys file admits no one until a tenant is added"


def test_policies_are_mounted_read_only_as_a_directory_for_hot_reload() -> None:
    settings = sekisho_settings()
    source, read_only = mount_of(service("sekisho"), str(settings.policy.parent))
    assert read_only
    assert source == ROOT / "policies" and source.is_dir()
    assert load_policy(source / settings.policy.name).rules
    assert settings.policy_poll_s > 0


def test_sekisho_container_is_read_only_and_unprivileged() -> None:
    svc = service("sekisho")
    assert svc["read_only"] is True
    assert svc["tmpfs"] == ["/tmp"]
    assert svc["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in svc["security_opt"]
    assert "ports" not in svc, "replicas are reached through the load balancer only"


def test_stopping_waits_for_the_drain() -> None:
    settings = sekisho_settings()
    grace = duration(service("sekisho")["stop_grace_period"])
    assert grace > settings.shutdown_delay_s + settings.shutdown_timeout_s


def duration(text: str) -> float:
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, text
    return sum(float(n) * units[u] for n, u in parts)


# ------------------------------------------------------------------------- load balancer


def haproxy_sections() -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in mount_of(service("lb"), "/usr/local/etc/haproxy/haproxy.cfg")[0].read_text(
            "utf-8").splitlines():
        content = line.split("#", 1)[0].rstrip()
        if not content:
            continue
        if not content[0].isspace():
            current = sections.setdefault(content.strip(), [])
        else:
            current.append(content.split())
    return sections


def directive(section: list[list[str]], *words: str) -> list[str]:
    found = [d for d in section if d[:len(words)] == list(words)]
    assert len(found) == 1, f"no single {' '.join(words)}"
    return found[0]


def test_load_balancer_serves_the_published_port_from_every_ready_replica() -> None:
    sections = haproxy_sections()
    frontend, backend = sections["frontend sekisho"], sections["backend sekisho"]
    bind_port = int(directive(frontend, "bind")[1].rsplit(":", 1)[1])
    published = [p.rsplit(":", 2) for p in service("lb")["ports"]]
    assert [(int(host_port), int(container)) for _ip, host_port, container in published] == [
        (bind_port, bind_port)]
    template = directive(backend, "server-template")
    host, port = template[3].rsplit(":", 1)
    settings = sekisho_settings()
    assert host == "sekisho" and int(port) == settings.port
    assert int(template[2]) >= int(service("sekisho")["deploy"]["replicas"])
    assert "check" in template[4:]
    check = directive(backend, "http-check", "send")
    assert check[check.index("uri") + 1] == "/readyz" and "/readyz" in app_get_paths()
    assert directive(backend, "http-check", "expect") == ["http-check", "expect", "status", "200"]
    defaults = directive(backend, "default-server")
    inter = duration(defaults[defaults.index("inter") + 1])
    fall = int(defaults[defaults.index("fall") + 1])
    # A draining replica (readiness 503) leaves the pool before its listener closes.
    assert fall * inter < settings.shutdown_delay_s
    assert "resolvers" in defaults and "docker" in defaults
    resolvers = sections["resolvers docker"]
    assert directive(resolvers, "nameserver")[2] == "127.0.0.11:53", "Docker's embedded DNS"
    # Longer than a generation may take, so that Sekisho, not HAProxy, ends a slow one.
    timeout = duration(directive(sections["defaults"], "timeout", "server")[2])
    assert timeout > settings.upstream_timeout_s


@pytest.mark.skipif(tool("haproxy") is None,
                    reason="haproxy not installed (Debian package: haproxy)")
def test_haproxy_accepts_its_configuration() -> None:
    config = mount_of(service("lb"), "/usr/local/etc/haproxy/haproxy.cfg")[0]
    result = subprocess.run([str(tool("haproxy")), "-c", "-f", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr


# ------------------------------------------------------------------------- vLLM


def test_vllm_is_the_official_image_on_a_reserved_gpu() -> None:
    svc = service("vllm")
    assert svc["image"].startswith("vllm/vllm-openai:")
    devices = svc["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": env_example()["VLLM_GPU_COUNT"],
                        "capabilities": ["gpu"]}]
    raw = raw_compose()["services"]["vllm"]["command"]
    assert "--model=${VLLM_MODEL:-Qwen/Qwen2.5-7B-Instruct}" in raw
    assert "--max-model-len=${VLLM_MAX_MODEL_LEN:-8192}" in raw
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in svc["command"])
    assert flags["model"] == env_example()["VLLM_MODEL"]
    assert int(flags["max-model-len"]) > 0


def test_sekisho_reaches_vllm_with_the_key_vllm_requires() -> None:
    settings = sekisho_settings()
    vllm = service("vllm")
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in vllm["command"])
    host, port = address(settings.local_url)
    assert (host, port) == ("vllm", int(flags["port"]))
    assert str(port) in vllm["expose"]
    assert environment(vllm)["VLLM_API_KEY"] == settings.local_api_key
    raw = raw_compose()["services"]
    assert raw["vllm"]["environment"]["VLLM_API_KEY"] == raw["sekisho"]["environment"][
        "SEKISHO_LOCAL_API_KEY"], "one variable feeds both, so they cannot drift"
    check = vllm["healthcheck"]["test"]
    assert check[:2] == ["CMD", "python3"]
    assert f"'127.0.0.1', {port}," in check[3] and "'/health'" in check[3]


# ------------------------------------------------------------------------- monitoring


def prometheus_config() -> dict[str, Any]:
    source = mount_of(service("prometheus"), "/etc/prometheus/prometheus.yml")[0]
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_prometheus_scrapes_every_replica_on_its_metrics_listener() -> None:
    config = prometheus_config()
    shipped = yaml.safe_load(SHIPPED_PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    (shipped_job,) = shipped["scrape_configs"]
    assert job["job_name"] == shipped_job["job_name"], "the alerts and dashboard key on it"
    assert job["metrics_path"] == shipped_job["metrics_path"] == "/metrics"
    (discovery,) = job["dns_sd_configs"]
    settings = sekisho_settings()
    assert discovery["names"] == ["sekisho"] and discovery["type"] == "A"
    assert discovery["port"] == settings.metrics_port
    assert str(settings.metrics_port) in service("sekisho")["expose"]
    assert settings.metrics_host == "0.0.0.0"
    assert config["global"] == shipped["global"]
    # The rules are the shipped file itself, mounted beside the configuration.
    assert config["rule_files"] == shipped["rule_files"] == ["alerts.yml"]
    rules, _ = mount_of(service("prometheus"), "/etc/prometheus/alerts.yml")
    assert rules == ROOT / "deploy" / "prometheus" / "alerts.yml"


@pytest.mark.skipif(tool("promtool") is None,
                    reason="promtool not installed (Debian package: prometheus)")
def test_promtool_accepts_the_configuration_as_mounted(tmp_path: Path) -> None:
    for source, target, _ in binds(service("prometheus")):
        destination = tmp_path / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    config = tmp_path / "etc" / "prometheus" / "prometheus.yml"
    result = subprocess.run([str(tool("promtool")), "check", "config", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 rule files found" in output and "SUCCESS" in output


def test_grafana_is_provisioned_with_the_datasource_and_dashboard() -> None:
    svc = service("grafana")
    datasources, _ = mount_of(svc, "/etc/grafana/provisioning/datasources")
    providers, _ = mount_of(svc, "/etc/grafana/provisioning/dashboards")
    assert datasources == GRAFANA / "datasources" and providers == GRAFANA / "dashboards"
    (source,) = yaml.safe_load((datasources / "prometheus.yaml").read_text("utf-8"))[
        "datasources"]
    host, port = address(source["url"])
    prometheus = service("prometheus")
    assert host == "prometheus" and host in compose()["services"]
    assert not any(a.startswith("--web.listen-address") for a in prometheus["command"])
    assert port == 9090, "Prometheus' default listen port"
    assert source["jsonData"]["timeInterval"] == prometheus_config()["global"]["scrape_interval"]
    (provider,) = yaml.safe_load((providers / "sekisho.yaml").read_text("utf-8"))["providers"]
    dashboards, _ = mount_of(svc, provider["options"]["path"])
    assert dashboards == ROOT / "deploy" / "grafana" / "dashboards"
    assert (dashboards / "sekisho.json").is_file()


# ------------------------------------------------------------------------- healthchecks


def sekisho_healthcheck() -> list[str]:
    test = service("sekisho")["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    return list(test[1:])


def test_healthchecks_name_real_sekisho_endpoints() -> None:
    code = sekisho_healthcheck()[2]
    paths = set(re.findall(r"'(/[a-z]+)'", code))
    assert paths == {"/readyz"} and paths <= app_get_paths()
    assert f"'127.0.0.1', {sekisho_settings().port}," in code
    assert duration(service("sekisho")["healthcheck"]["start_period"]) >= 60, \
        "the models load before /readyz turns 200"


def run_check(command: list[str], port: int) -> int:
    code = command[2]
    assert code.count(", 8787,") == 1
    return subprocess.run([sys.executable, "-c", code.replace(", 8787,", f", {port},")],
                          capture_output=True, timeout=30, check=False).returncode


def test_healthcheck_follows_readiness_of_the_running_app(make_stack: StackFactory) -> None:
    command = sekisho_healthcheck()
    stack = make_stack()
    assert run_check(command, stack.port) == 0
    stack.app[DRAINING].set()
    assert run_check(command, stack.port) == 1, "a draining replica reports unhealthy"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    assert run_check(command, closed) == 1
