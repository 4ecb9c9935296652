"""deploy/kubernetes: every manifest and every rendered overlay is valid Kubernetes, and the
pieces agree with each other and with the Sekisho they run.

No cluster and no kustomize binary are needed. The overlays are rendered by ``render`` below: a
small kustomize for exactly the features these kustomizations use (resources, namespace,
images, strategic-merge patches by kind and name, configMapGenerator with kustomize's own
content hash); it refuses any other field, kind or merge it does not implement, so it cannot
quietly render something kustomize would not. Where ``kubectl`` is installed (its built-in
kustomize), its output must equal the renderer's, resource for resource. Everything is then
validated with kubernetes-validate's bundled schemas (strict: an unknown field is an error) for
the oldest and the newest Kubernetes version claimed. The ServiceMonitor is a Prometheus
Operator CRD for which no schema is bundled or pinned here: its standard parts (metadata, label
selector) are validated against the Kubernetes definitions, the rest against the explicit
schema below, and its references are checked against the Service it selects.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from conftest import StackFactory
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

from proxy.app import DRAINING, create_app
from proxy.config import ENV_VARS, SECRET_ENV_VARS, Settings, exposure_problem, load_settings
from proxy.policy.loader import parse_policy
from proxy.policy.store import load_keys

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
VERSIONS = ("1.29.0", "1.37.0")
"""The oldest Kubernetes version the manifests claim (README), and the newest schema bundled."""
GRAFANA_DATASOURCE = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / \
    "prometheus.yaml"
CONTAINER_SETTINGS = ROOT / "deploy" / "container" / "sekisho.yaml"

# Measured with bench/load.py --fresh (deploy/kubernetes/README.md, "Sizing"): peak RSS of one
# detection process and of the serving process, MiB. The memory request must hold them.
DETECTION_PROCESS_MIB = 401
SERVING_PROCESS_MIB = 135

Doc = dict[str, Any]


# ------------------------------------------------------------------------- the renderer

KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches",
                        "configMapGenerator"}
KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment",
         "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor",
         "PersistentVolumeClaim"}
CLUSTER_SCOPED = {"Namespace"}
# Strategic merge: lists merged item by item on a key (Kubernetes' patchMergeKey), lists that
# a patch replaces whole (no merge key in the API), or scalar lists (replaced).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath"}
ATOMIC_LISTS = {"egress", "ingress", "policyTypes", "except", "args", "command"}


class Unsupported(AssertionError):
    """The renderer met a kustomize feature it does not implement."""


def load_documents(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def inside(path: Path, root: Path) -> Path:
    """kustomize's default load restrictor: files only from the kustomization's own folder
    (symlinks resolved first, as kustomize does)."""
    resolved = path.resolve()
    assert resolved == root.resolve() or root.resolve() in resolved.parents, \
        f"{path} is not in or below {root} (kustomize would refuse it)"
    return resolved


def config_map_hash(config_map: Doc) -> str:
    """kustomize's name suffix for a generated ConfigMap (api/hasher): SHA-256 of the JSON of
    kind, name and data, first ten hex digits with 0 1 3 a e spelt g h k m t. Its ``name``
    field comes from a lookup of the path ``metadata/name`` as one key, which finds nothing, so
    kustomize (v5.5, as kubectl embeds it) hashes an empty name; so does this."""
    encoded = json.dumps({"data": config_map["data"], "kind": "ConfigMap", "name": ""},
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's encoding/json escapes these where Python's does not.
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        encoded = encoded.replace(char, escape)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()[:10].translate(
        str.maketrans("013ae", "ghkmt"))


def pod_specs(resource: Doc) -> Iterator[Doc]:
    if resource["kind"] == "Deployment":
        yield resource["spec"]["template"]["spec"]


def rename_config_maps(resource: Doc, renames: dict[str, str]) -> None:
    """kustomize's name-reference fix for generated ConfigMaps, in the pod-spec fields these
    manifests use (volumes, env valueFrom, envFrom)."""
    for spec in pod_specs(resource):
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                name = volume["configMap"]["name"]
                volume["configMap"]["name"] = renames.get(name, name)
            if "projected" in volume:
                raise Unsupported("projected volumes")
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("configMapKeyRef")
                if ref is not None:
                    ref["name"] = renames.get(ref["name"], ref["name"])
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef")
                if ref is not None:
                    ref["name"] = renames.get(ref["name"], ref["name"])


def strategic_merge(base: Any, patch: Any, field: str | None = None) -> Any:
    if isinstance(patch, dict):
        if any(key.startswith("$") for key in patch):
            raise Unsupported(f"patch directives in {field}")
        if not isinstance(base, dict):
            return copy.deepcopy(patch)
        for key, value in patch.items():
            if value is None:
                base.pop(key, None)
            elif key in base:
                base[key] = strategic_merge(base[key], value, key)
            else:
                base[key] = copy.deepcopy(value)
        return base
    if isinstance(patch, list):
        if all(not isinstance(item, (dict, list)) for item in patch) or field in ATOMIC_LISTS:
            return copy.deepcopy(patch)
        if field not in MERGE_KEYS:
            raise Unsupported(f"no merge rule for the list {field!r}")
        # kustomize's order: the patch's items first (merged into the originals they name),
        # then the original items the patch does not name, in their order.
        key = MERGE_KEYS[field]
        originals = list(base) if isinstance(base, list) else []
        named = {item[key] for item in patch}
        merged = []
        for item in patch:
            match = [existing for existing in originals if existing.get(key) == item[key]]
            merged.append(strategic_merge(match[0], item, field) if match
                          else copy.deepcopy(item))
        return merged + [item for item in originals if item.get(key) not in named]
    return copy.deepcopy(patch)


def set_image(resource: Doc, images: list[Doc]) -> None:
    for spec in pod_specs(resource):
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            image = container["image"]
            name, tag = image, None
            if "@" in name:
                raise Unsupported("images by digest")
            if ":" in name.rsplit("/", 1)[-1]:
                name, tag = name.rsplit(":", 1)
            for entry in images:
                if set(entry) - {"name", "newName", "newTag"}:
                    raise Unsupported(f"images fields {set(entry)}")
                if entry["name"] == name:
                    name = entry.get("newName", name)
                    tag = entry.get("newTag", tag)
            container["image"] = name if tag is None else f"{name}:{tag}"


def render(directory: Path) -> list[Doc]:
    """``kustomize build directory``, for the features listed in the module docstring."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text("utf-8"))
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    if unknown:
        raise Unsupported(f"{directory}: kustomization fields {sorted(unknown)}")
    resources: list[Doc] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            resources += render(path)
        else:
            resources += load_documents(inside(path, directory))
    renames: dict[str, str] = {}
    for generator in kustomization.get("configMapGenerator", []):
        if set(generator) - {"name", "files", "options"}:
            raise Unsupported(f"configMapGenerator fields {sorted(generator)}")
        options = generator.get("options", {})
        if set(options) - {"disableNameSuffixHash"}:
            raise Unsupported(f"configMapGenerator options {sorted(options)}")
        data = {}
        for file in generator["files"]:
            key, _, source = file.rpartition("=") if "=" in file else (Path(file).name, "", file)
            data[key] = inside(directory / source, directory).read_text(encoding="utf-8")
        config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": generator["name"]}, "data": data}
        if not options.get("disableNameSuffixHash", False):
            renamed = f"{generator['name']}-{config_map_hash(config_map)}"
            renames[generator["name"]] = renamed
            config_map["metadata"]["name"] = renamed
        resources.append(config_map)
    for resource in resources:
        if resource["kind"] not in KINDS:
            raise Unsupported(f"kind {resource['kind']}")
        rename_config_maps(resource, renames)
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise Unsupported(f"patch fields {sorted(entry)}")
        (patch,) = load_documents(inside(directory / entry["path"], directory))
        targets = [r for r in resources if (r["apiVersion"], r["kind"], r["metadata"]["name"])
                   == (patch["apiVersion"], patch["kind"], patch["metadata"]["name"])]
        assert len(targets) == 1, f"{entry['path']}: no single target"
        body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "metadata")}
        if set(patch["metadata"]) != {"name"}:
            raise Unsupported("patching metadata")
        strategic_merge(targets[0], body)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] in CLUSTER_SCOPED:
                # kustomize would rename a Namespace object; these overlays never need it.
                assert resource["metadata"]["name"] == kustomization["namespace"]
            else:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    for resource in resources:
        set_image(resource, kustomization.get("images", []))
    return resources


def keyed(resources: list[Doc]) -> dict[tuple[str, str, str], Doc]:
    out: dict[tuple[str, str, str], Doc] = {}
    for r in resources:
        key = (r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"])
        assert key not in out, f"{key} twice"
        out[key] = r
    return out


@functools.cache
def rendered(overlay: str) -> dict[tuple[str, str, str], Doc]:
    return keyed(render(K8S / "overlays" / overlay))


def find(resources: dict[tuple[str, str, str], Doc], kind: str, name: str) -> Doc:
    found = [r for (k, _ns, n), r in resources.items() if k == kind and
             (n == name or n.startswith(f"{name}-") and kind == "ConfigMap")]
    assert len(found) == 1, f"no single {kind} {name}"
    return found[0]


def test_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("namePrefix: x-\n", encoding="utf-8")
    with pytest.raises(Unsupported, match="namePrefix"):
        render(tmp_path)
    with pytest.raises(Unsupported, match="tolerations"):
        strategic_merge({"tolerations": [{"key": "a"}]}, {"tolerations": [{"key": "b"}]})
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [../x.yaml]\n", encoding="utf-8")
    (tmp_path / "x.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not in or below"):
        render(outside)


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (with its built-in kustomize) not installed")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_renderer_agrees_with_kustomize(overlay: str) -> None:
    assert KUBECTL is not None
    result = subprocess.run([KUBECTL, "kustomize", str(K8S / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    theirs = keyed([d for d in yaml.safe_load_all(result.stdout) if d is not None])
    ours = rendered(overlay)
    assert sorted(theirs) == sorted(ours)
    for key, resource in ours.items():
        assert theirs[key] == resource, f"{key} differs from kustomize's"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (with its built-in kustomize) not installed")
def test_config_map_hash_is_kustomizes(tmp_path: Path) -> None:
    """The hash on content with characters Go escapes (a control for the overlays, whose
    settings hold none of them)."""
    assert KUBECTL is not None
    (tmp_path / "s.yaml").write_text("a: <b> & 'c' é\n", encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(
        "configMapGenerator:\n  - name: x\n    files: [s.yaml]\n", encoding="utf-8")
    result = subprocess.run([KUBECTL, "kustomize", str(tmp_path)], capture_output=True,
                            text=True, timeout=60, check=True)
    (theirs,) = [d for d in yaml.safe_load_all(result.stdout) if d]
    (ours,) = render(tmp_path)
    assert theirs["metadata"]["name"] == ours["metadata"]["name"]


# ------------------------------------------------------------------------- schemas


def manifest_files() -> list[Path]:
    """Every plain manifest a kustomization lists (patches are partial, checked rendered)."""
    out = []
    for kustomization in K8S.rglob("kustomization.yaml"):
        for entry in yaml.safe_load(kustomization.read_text("utf-8")).get("resources", []):
            path = kustomization.parent / entry
            if path.is_file():
                out.append(path)
    return sorted(out)


def validate(resource: Doc, version: str) -> None:
    if resource["kind"] == "ServiceMonitor":
        validate_service_monitor(resource, version)
    else:
        kubernetes_validate.validate(resource, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_kubernetes(version: str) -> None:
    files = manifest_files()
    assert len(files) >= 12
    for path in files:
        for resource in load_documents(path):
            try:
                validate(resource, version)
            except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as err:
                pytest.fail(f"{path.relative_to(ROOT)}: {resource['kind']}: {err}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_overlay_is_valid_kubernetes(overlay: str, version: str) -> None:
    for key, resource in rendered(overlay).items():
        try:
            validate(resource, version)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as err:
            pytest.fail(f"{overlay}: {key}: {err}")


def test_validation_is_strict() -> None:
    """A misspelt field fails validation (a control for the tests above)."""
    deployment = copy.deepcopy(find(rendered("gpu-cluster"), "Deployment", "sekisho"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)
    monitor = copy.deepcopy(find(rendered("gpu-cluster"), "ServiceMonitor", "sekisho"))
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(jsonschema.ValidationError):
        validate_service_monitor(monitor, VERSIONS[0])
    monitor = copy.deepcopy(find(rendered("gpu-cluster"), "ServiceMonitor", "sekisho"))
    monitor["spec"]["selector"]["matchLabel"] = {}
    with pytest.raises(jsonschema.ValidationError):
        validate_service_monitor(monitor, VERSIONS[0])


DURATION = (r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?"
            r"(([0-9]+)ms)?)$")
# The ServiceMonitor fields these manifests use, as the Prometheus Operator's API reference
# (monitoring.coreos.com/v1) defines them; anything else is refused rather than guessed.
SERVICE_MONITOR_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {"type": "object"},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string", "minLength": 1},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                        },
                    },
                },
            },
        },
    },
}


def kubernetes_definition(instance: Any, filename: str, version: str) -> None:
    """Validate a standard Kubernetes type (e.g. ObjectMeta) with kubernetes-validate's
    strict schema of it, resolved as kubernetes_validate.validate resolves its own."""
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    schema = schema_contents(f"{folder}/{filename}", version)
    definitions = schema_contents(f"{folder}/_definitions.json", version)
    registry: Registry[Any] = Resource.from_contents(definitions) @ (
        Resource.from_contents(schema) @ Registry())
    jsonschema.Draft202012Validator(schema, registry=registry).validate(instance)


def validate_service_monitor(resource: Doc, version: str) -> None:
    jsonschema.Draft202012Validator(SERVICE_MONITOR_SCHEMA).validate(resource)
    kubernetes_definition(resource["metadata"], "objectmeta-meta-v1.json", version)
    kubernetes_definition(resource["spec"]["selector"], "labelselector-meta-v1.json", version)


# ------------------------------------------------------------------------- Sekisho's pods


@functools.cache
def app_get_paths() -> frozenset[str]:
    app = create_app(Settings.model_validate({"detection_workers": 0, "metrics_port": None}))
    return frozenset(route.resource.canonical for route in app.router.routes()
                     if route.method == "GET" and route.resource is not None)


def container(deployment: Doc, name: str) -> Doc:
    (found,) = [c for c in deployment["spec"]["template"]["spec"]["containers"]
                if c["name"] == name]
    return found


def volume_source(deployment: Doc, mount_path: str) -> tuple[Doc, Doc]:
    """(volumeMount, volume) behind a mount path of the first container."""
    spec = deployment["spec"]["template"]["spec"]
    (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == mount_path]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    return mount, volume


def literal_env(c: Doc) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}


def pod_settings(overlay: str) -> Settings:
    """The settings a Sekisho pod of the overlay loads: the settings file from its ConfigMap,
    the literal environment, and placeholders where a Secret supplies a value."""
    resources = rendered(overlay)
    deployment = find(resources, "Deployment", "sekisho")
    c = container(deployment, "sekisho")
    args = c["args"]
    config_path = Path(args[args.index("--config") + 1])
    mount, volume = volume_source(deployment, str(config_path.parent))
    config_map = find(resources, "ConfigMap", volume["configMap"]["name"])
    assert config_map["metadata"]["name"] == volume["configMap"]["name"]
    env = literal_env(c)
    env.update({e["name"]: f"from-secret-{e['name'].lower()}" for e in c["env"]
                if "valueFrom" in e})
    return Settings.model_validate({
        **yaml.safe_load(config_map["data"][config_path.name]),
        **{ENV_VARS.get(k) or SECRET_ENV_VARS[k]: v for k, v in env.items()},
    })


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pod_settings_load_and_authenticate_clients(overlay: str) -> None:
    deployment = find(rendered(overlay), "Deployment", "sekisho")
    c = container(deployment, "sekisho")
    names = {e["name"] for e in c["env"]}
    # A misspelt variable would be ignored silently by Sekisho.
    assert names <= set(ENV_VARS) | set(SECRET_ENV_VARS), names - set(ENV_VARS)
    settings = pod_settings(overlay)
    assert exposure_problem(settings) is None
    assert settings.workers == 1, "`auto` counts the node's cores, not the pod's request"
    # The same file also loads through load_settings (the path `sekisho serve` takes).
    base = K8S / "base" / "sekisho.yaml"
    assert load_settings(base, environ=literal_env(c)).port == settings.port


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_referenced_never_written(overlay: str) -> None:
    resources = rendered(overlay)
    assert not [key for key in resources if key[0] == "Secret"], "no Secret is shipped"
    for deployment in (r for (kind, _, _), r in resources.items() if kind == "Deployment"):
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            for env in c.get("env", []):
                secret = env["name"] in SECRET_ENV_VARS or env["name"] in (
                    "VLLM_API_KEY", "HF_TOKEN")
                assert secret == ("valueFrom" in env), f"{c['name']}: {env['name']}"
                if secret:
                    assert set(env["valueFrom"]) == {"secretKeyRef"}
    sekisho = find(resources, "Deployment", "sekisho")
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(sekisho, "sekisho")[
        "env"] if "valueFrom" in e}
    assert set(refs) == {"OPENAI_API_KEY", "SEKISHO_LOCAL_API_KEY", "SEKISHO_ADMIN_KEY"}
    assert [n for n, r in refs.items() if r.get("optional")] == ["SEKISHO_ADMIN_KEY"]
    settings = pod_settings(overlay)
    assert settings.keys_file is not None
    _mount, keys = volume_source(sekisho, str(settings.keys_file.parent))
    assert keys["secret"]["secretName"] == "sekisho-keys"


def test_the_keys_file_format_in_the_readme_loads(tmp_path: Path) -> None:
    """deploy/kubernetes/README.md tells operators to create the sekisho-keys Secret from a
    keys.yaml; the example given there is a valid keys file."""
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "keys.yaml").write_text(example, encoding="utf-8")
    assert set(load_keys(tmp_path / "keys.yaml").by_hash.values()) == {"support"}
    assert "--from-file=keys.yaml=" in readme


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_health_endpoints_on_the_api_port(overlay: str) -> None:
    c = container(find(rendered(overlay), "Deployment", "sekisho"), "sekisho")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    settings = pod_settings(overlay)
    assert ports == {"http": settings.port, "metrics": settings.metrics_port}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {"/healthz", "/readyz"} <= app_get_paths()
    assert "startupProbe" not in c, "/healthz answers at once; /readyz waits for the models"


def test_probes_mean_what_the_manifest_says_on_the_running_app(
        make_stack: StackFactory) -> None:
    import urllib.error
    import urllib.request

    c = container(find(rendered("gpu-cluster"), "Deployment", "sekisho"), "sekisho")
    liveness = c["livenessProbe"]["httpGet"]["path"]
    readiness = c["readinessProbe"]["httpGet"]["path"]
    stack = make_stack()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def status(path: str) -> int:
        try:
            with opener.open(f"{stack.root_url}{path}", timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as err:
            return err.code

    assert (status(liveness), status(readiness)) == (200, 200)
    stack.app[DRAINING].set()
    # Draining: still alive (no restart), no longer ready (no new requests).
    assert (status(liveness), status(readiness)) == (200, 503)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_unprivileged_on_a_read_only_root(overlay: str) -> None:
    deployment = find(rendered(overlay), "Deployment", "sekisho")
    spec = deployment["spec"]["template"]["spec"]
    pod = spec["securityContext"]
    c = container(deployment, "sekisho")
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"] == {"type": "RuntimeDefault"}
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert f"USER {pod['runAsUser']}:{pod['runAsGroup']}" in dockerfile
    assert c["securityContext"] == {"allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                    "capabilities": {"drop": ["ALL"]}}
    assert spec["automountServiceAccountToken"] is False
    writable = [m for m in c["volumeMounts"] if not m.get("readOnly")]
    assert [m["mountPath"] for m in writable] == ["/tmp"]
    _mount, tmp = volume_source(deployment, "/tmp")
    assert "emptyDir" in tmp and tmp["emptyDir"].get("sizeLimit")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_outlasts_the_drain(overlay: str) -> None:
    deployment = find(rendered(overlay), "Deployment", "sekisho")
    settings = pod_settings(overlay)
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert settings.shutdown_delay_s > 0, "readiness turns 503 before the listener closes"
    assert grace > settings.shutdown_delay_s + settings.shutdown_timeout_s
    assert "lifecycle" not in container(deployment, "sekisho"), \
        "the delay is Sekisho's shutdown_delay_s, not a preStop sleep"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resources_hold_the_measured_processes(overlay: str) -> None:
    c = container(find(rendered(overlay), "Deployment", "sekisho"), "sekisho")
    settings = pod_settings(overlay)
    requests, limits = c["resources"]["requests"], c["resources"]["limits"]
    assert quantity(requests["cpu"]) >= settings.detection_workers, \
        "one core per detection process (detection is the CPU-bound part)"
    needed = settings.detection_workers * DETECTION_PROCESS_MIB + SERVING_PROCESS_MIB
    assert quantity(requests["memory"]) >= needed * 2**20
    assert quantity(limits["memory"]) >= 1.25 * quantity(requests["memory"])
    assert "cpu" not in limits, "no CPU limit: throttling would become latency"
    readme = " ".join((K8S / "README.md").read_text(encoding="utf-8").split())
    assert f"{DETECTION_PROCESS_MIB} MiB per detection process" in readme
    assert f"{SERVING_PROCESS_MIB} MiB for the serving process" in readme


def quantity(text: str) -> float:
    """A Kubernetes quantity of the forms these manifests use: 2, 100m, 1536Mi, 1Gi."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|m|)", text)
    assert match is not None, text
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "m": 1e-3, "": 1}
    return float(match.group(1)) * units[match.group(2)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_image_is_set_by_the_overlay(overlay: str) -> None:
    c = container(find(rendered(overlay), "Deployment", "sekisho"), "sekisho")
    name, _, tag = c["image"].rpartition(":")
    assert name.endswith("/sekisho") and tag == "0.1.0"
    base = load_documents(K8S / "base" / "deployment.yaml")[0]
    assert container(base, "sekisho")["image"] == "sekisho", "the name the overlays replace"
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["sekisho"]' in dockerfile and c["args"][0] == "serve"


# ------------------------------------------------------------------------- policies


def test_base_policy_is_the_shipped_default() -> None:
    copy_ = K8S / "base" / "policies" / "default.yaml"
    assert copy_.read_bytes() == (ROOT / "policies" / "default.yaml").read_bytes(), (
        "deploy/kubernetes/base/policies/default.yaml is stale: "
        "cp policies/default.yaml deploy/kubernetes/base/policies/default.yaml")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_policies_config_map_is_mounted_whole_and_keeps_its_name(overlay: str) -> None:
    resources = rendered(overlay)
    deployment = find(resources, "Deployment", "sekisho")
    settings = pod_settings(overlay)
    mount, volume = volume_source(deployment, str(settings.policy.parent))
    # The kubelet updates a ConfigMap volume by swapping a symlink; a subPath mount never sees
    # it, and a hashed name would roll the pods instead of hot-reloading the policy.
    assert "subPath" not in mount and mount["readOnly"] is True
    name = volume["configMap"]["name"]
    assert name == "sekisho-policies"
    policies = find(resources, "ConfigMap", name)
    assert policies["metadata"]["name"] == name
    text = policies["data"][settings.policy.name]
    assert parse_policy(text, settings.policy.name).rules
    assert settings.policy_poll_s > 0
    for m in container(deployment, "sekisho")["volumeMounts"]:
        assert "subPath" not in m, m["mountPath"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_config_map_rolls_the_pods_when_it_changes(overlay: str) -> None:
    resources = rendered(overlay)
    deployment = find(resources, "Deployment", "sekisho")
    _mount, volume = volume_source(deployment, "/etc/sekisho/config")
    config_map = find(resources, "ConfigMap", "sekisho-config")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert config_map["metadata"]["name"] == f"sekisho-config-{config_map_hash(config_map)}"


# ------------------------------------------------------------------------- scaling


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaler_targets_the_deployment_on_cpu(overlay: str) -> None:
    resources = rendered(overlay)
    hpa = find(resources, "HorizontalPodAutoscaler", "sekisho")
    deployment = find(resources, "Deployment", "sekisho")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        deployment["apiVersion"], deployment["kind"], deployment["metadata"]["name"])
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 90
    assert hpa["spec"]["minReplicas"] >= 2
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    # Utilization is relative to the request, which must exist.
    assert container(deployment, "sekisho")["resources"]["requests"]["cpu"]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is used"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def pod_labels(deployment: Doc) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"], labels)
    return labels


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budget_keeps_a_pod_serving(overlay: str) -> None:
    resources = rendered(overlay)
    pdb = find(resources, "PodDisruptionBudget", "sekisho")
    labels = pod_labels(find(resources, "Deployment", "sekisho"))
    assert selects(pdb["spec"]["selector"], labels)
    assert not selects(pdb["spec"]["selector"], {"app.kubernetes.io/name": "redis"})
    hpa = find(resources, "HorizontalPodAutoscaler", "sekisho")
    assert pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]


# ------------------------------------------------------------------------- network


def services_for(resources: dict[tuple[str, str, str], Doc], deployment: Doc) -> list[Doc]:
    labels = pod_labels(deployment)
    return [r for (kind, _, _), r in resources.items()
            if kind == "Service" and selects({"matchLabels": r["spec"]["selector"]}, labels)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_reach_the_ports_the_containers_listen_on(overlay: str) -> None:
    resources = rendered(overlay)
    for (kind, _, name), deployment in resources.items():
        if kind != "Deployment":
            continue
        ports = {p["name"]: p["containerPort"]
                 for c in deployment["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])}
        for svc in services_for(resources, deployment):
            for port in svc["spec"]["ports"]:
                assert port["targetPort"] in ports, f"{name}: {port}"
                assert port["port"] == ports[port["targetPort"]]
    sekisho = find(resources, "Deployment", "sekisho")
    by_name = {s["metadata"]["name"]: s for s in services_for(resources, sekisho)}
    assert [p["name"] for p in by_name["sekisho"]["spec"]["ports"]] == ["http"], \
        "clients' Service exposes no metrics (they carry tenant names)"
    assert [p["name"] for p in by_name["sekisho-metrics"]["spec"]["ports"]] == ["metrics"]


def upstream_targets(overlay: str) -> dict[str, tuple[str, int]]:
    settings = pod_settings(overlay)
    out = {}
    for name, url in (("local", settings.local_url), ("state", settings.state_backend)):
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        out[name] = (parts.hostname, parts.port)
    return out


def egress_rules(resources: dict[tuple[str, str, str], Doc]) -> list[Doc]:
    policy = find(resources, "NetworkPolicy", "sekisho")
    assert selects(policy["spec"]["podSelector"],
                   pod_labels(find(resources, "Deployment", "sekisho")))
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    rules: list[Doc] = policy["spec"]["egress"]
    return rules


def rule_for(rules: list[Doc], port: int, protocol: str = "TCP") -> list[Doc]:
    return [r for r in rules if {"port": port, "protocol": protocol} in r["ports"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_egress_is_dns_the_openai_api_vllm_and_redis_only(overlay: str) -> None:
    resources = rendered(overlay)
    rules = egress_rules(resources)
    for rule in rules:
        assert rule.get("to") and rule.get("ports"), "every rule names peers and ports"
    dns = rule_for(rules, 53, "UDP")
    assert len(dns) == 1 and {"port": 53, "protocol": "TCP"} in dns[0]["ports"]
    (dns_peer,) = dns[0]["to"]
    assert dns_peer["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    # The cloud: HTTPS to public addresses only (not the cluster, not the metadata service).
    (https,) = rule_for(rules, 443)
    settings = pod_settings(overlay)
    assert urlsplit(settings.cloud_url).scheme == "https" and urlsplit(
        settings.cloud_url).port is None
    for peer in https["to"]:
        block = peer["ipBlock"]
        network = ipaddress.ip_network(block["cidr"])
        assert network.prefixlen == 0
        excluded = [ipaddress.ip_network(e) for e in block["except"]]
        for private in ("10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254",
                        "100.64.0.1", "fd00::1", "fe80::1"):
            address = ipaddress.ip_address(private)
            if address.version == network.version:
                assert any(address in e for e in excluded), f"{private} reachable on 443"
    # The local upstream and Redis, at the addresses the settings name.
    targets = upstream_targets(overlay)
    for name, (host, port) in targets.items():
        (rule,) = rule_for(rules, port)
        (peer,) = rule["to"]
        if "podSelector" in peer:
            deployment = find(resources, "Deployment", host)
            assert selects(peer["podSelector"], pod_labels(deployment)), name
            (svc,) = [s for s in services_for(resources, deployment)
                      if s["metadata"]["name"] == host]
            (svc_port,) = svc["spec"]["ports"]
            assert svc_port["port"] == port, name
        else:
            assert ipaddress.ip_address(host) in ipaddress.ip_network(peer["ipBlock"]["cidr"])
    assert len(rules) == 4, "DNS, HTTPS, the local upstream, Redis: nothing else"


def test_existing_vllm_overlay_has_no_vllm_and_points_elsewhere() -> None:
    resources = rendered("existing-vllm")
    assert not [k for k in resources if k[2].startswith("vllm")]
    host, port = upstream_targets("existing-vllm")["local"]
    assert ipaddress.ip_address(host) and port == 8000
    gpu = rendered("gpu-cluster")
    assert upstream_targets("gpu-cluster")["local"] == ("vllm", 8000)
    assert find(gpu, "Deployment", "vllm")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_sekisho_reaches_redis_and_vllm(overlay: str) -> None:
    resources = rendered(overlay)
    sekisho_labels = pod_labels(find(resources, "Deployment", "sekisho"))
    for name in ("redis", "vllm"):
        if ("NetworkPolicy", "sekisho", name) not in resources:
            assert overlay == "existing-vllm" and name == "vllm"
            continue
        policy = resources[("NetworkPolicy", "sekisho", name)]
        assert selects(policy["spec"]["podSelector"],
                       pod_labels(find(resources, "Deployment", name)))
        assert "Ingress" in policy["spec"]["policyTypes"]
        peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
        pods = [p for p in peers if "podSelector" in p]
        assert pods and all(selects(p["podSelector"], sekisho_labels) for p in pods)
        assert all("namespaceSelector" in p for p in peers if p not in pods), \
            "other peers are namespaces (monitoring), never all pods"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_port_admits_only_the_monitoring_namespace(overlay: str) -> None:
    policy = find(rendered(overlay), "NetworkPolicy", "sekisho")
    (metrics,) = [r for r in policy["spec"]["ingress"]
                  if {"port": "metrics", "protocol": "TCP"} in r["ports"]]
    assert metrics["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}]


# ------------------------------------------------------------------------- monitoring


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_monitor_scrapes_the_metrics_listener(overlay: str) -> None:
    resources = rendered(overlay)
    monitor = find(resources, "ServiceMonitor", "sekisho")
    (service,) = [r for (kind, _, _), r in resources.items() if kind == "Service" and
                  selects(monitor["spec"]["selector"], r["metadata"].get("labels", {}))]
    assert service["metadata"]["name"] == "sekisho-metrics"
    (endpoint,) = monitor["spec"]["endpoints"]
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
    settings = pod_settings(overlay)
    assert port["port"] == settings.metrics_port and settings.metrics_host == "0.0.0.0"
    assert endpoint["path"] == "/metrics" and endpoint["scheme"] == "http"
    datasource = yaml.safe_load(GRAFANA_DATASOURCE.read_text(encoding="utf-8"))
    assert endpoint["interval"] == datasource["datasources"][0]["jsonData"]["timeInterval"]
    shipped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(
        "utf-8"))
    assert endpoint["path"] == shipped["scrape_configs"][0]["metrics_path"]


# ------------------------------------------------------------------------- vLLM


def test_vllm_gets_a_gpu_and_the_key_sekisho_sends() -> None:
    resources = rendered("gpu-cluster")
    vllm = find(resources, "Deployment", "vllm")
    c = container(vllm, "vllm")
    assert c["image"].startswith("vllm/vllm-openai:")
    compose = (ROOT / "deploy" / "compose" / ".env.example").read_text(encoding="utf-8")
    assert f"VLLM_IMAGE={c['image']}\n" in compose, "one vLLM release for compose and Kubernetes"
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert c["resources"]["requests"]["nvidia.com/gpu"] == "1"
    args = dict(a.removeprefix("--").split("=", 1) for a in c["args"])
    env = literal_env(c)
    for flag, variable in (("model", "VLLM_MODEL"), ("max-model-len", "VLLM_MAX_MODEL_LEN")):
        assert args[flag] == f"$({variable})" and env[variable]
    assert int(env["VLLM_MAX_MODEL_LEN"]) > 0
    (port,) = c["ports"]
    assert int(args["port"]) == port["containerPort"] == upstream_targets("gpu-cluster")[
        "local"][1]
    key = {e["name"]: e for e in c["env"]}["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"]
    sekisho = container(find(resources, "Deployment", "sekisho"), "sekisho")
    local = {e["name"]: e for e in sekisho["env"]}["SEKISHO_LOCAL_API_KEY"]["valueFrom"]
    assert key == local["secretKeyRef"]
    spec = vllm["spec"]["template"]["spec"]
    assert spec["enableServiceLinks"] is False, "a Service named vllm would set VLLM_PORT"
    assert vllm["spec"]["strategy"] == {"type": "Recreate"}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/health", "port": "http"}
    claim = find(resources, "PersistentVolumeClaim", "vllm-models")
    _mount, models = volume_source(vllm, "/root/.cache/huggingface")
    assert models["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


# ------------------------------------------------------------------------- namespace


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_one_namespace_that_admits_the_pods(overlay: str) -> None:
    resources = rendered(overlay)
    namespace = find(resources, "Namespace", "sekisho")
    names = {ns for (kind, ns, _) in resources if kind != "Namespace"}
    assert names == {namespace["metadata"]["name"]}
    labels = namespace["metadata"]["labels"]
    # vLLM's image runs as root: baseline is enforced, restricted warned about.
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_container_defaults_and_pod_settings_agree_on_ports() -> None:
    image = load_settings(CONTAINER_SETTINGS, environ={})
    pod = pod_settings("gpu-cluster")
    assert (image.port, image.metrics_port) == (pod.port, pod.metrics_port)
