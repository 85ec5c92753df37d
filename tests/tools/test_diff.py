"""The offline diff: fields, rollsPods and replaces for real renders and for
the immutable-field rules, plus its command line."""

from __future__ import annotations

import contextlib
import copy
import io
import itertools
import json
import subprocess
import sys

import pytest

from tests.helpers import RECOVERED_CLUSTER
from tools.diff import diff_objects, replaces_object
from tools.diff import main as diff_main
from tools.engine.live import ProviderConfig
from tools.engine.stack_config import PROJECT_DIR
from tools.manifest import kubernetes_identity
from tools.operations import IN_CLUSTER, OBJECT_STORE_KEYS, OPERATIONS, RECOVER
from tools.render import write_atomically


@pytest.fixture
def render_dir(render_stack, tmp_path):
    def _render(name: str, stack: str, *sets: str, secrets: tuple[str, ...] = ()):
        directory = tmp_path / name
        write_atomically(render_stack(stack, *sets, secrets=secrets).files, directory)
        return directory

    return _render


def run_diff(*args) -> subprocess.CompletedProcess:
    """`python -m tools.diff ARGS`, in this process (a new interpreter per
    call cost most of this module's time); the command itself is run once
    below, as a process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = diff_main([str(arg) for arg in args])
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
    return subprocess.CompletedProcess(["tools.diff", *map(str, args)], code, out.getvalue(), err.getvalue())


def test_the_command_runs_as_a_process(render_dir):
    before = render_dir("before", "production")
    after = render_dir("after", "production", "maintenanceMode=true")
    command = [sys.executable, "-m", "tools.diff", str(before), str(after), "--json"]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(run_diff(before, after, "--json").stdout)


# Expected blast radius of each runbook operation on production.
EXPECTED = {
    "maintenance mode on": {"rolls": {"monad-synapse-blue", "monad-synapse-green"}},
    "new app setting": {"rolls": {"monad-synapse-blue", "monad-synapse-green"}},
    "stage a setting on the idle color": {"rolls": {"monad-synapse-green"}, "kinds": {"Deployment", "ConfigMap"}},
    "rotate JWT secret": {"rolls": {"monad-synapse-blue", "monad-synapse-green"}},
    # The gate's floor is in its settings ConfigMap: no Job runs for a scale change.
    "scale up (min 8)": {"rolls": set(), "kinds": {"HorizontalPodAutoscaler", "ConfigMap"}},
    "raise HPA max (15)": {"rolls": set(), "kinds": {"HorizontalPodAutoscaler", "ConfigMap"}},
    "memory limit 2Gi": {"rolls": {"monad-synapse-blue", "monad-synapse-green"}, "kinds": {"Deployment"}},
    "release to idle color": {"rolls": {"monad-synapse-green"}, "kinds": {"Deployment"}},
    "switch / roll back": {
        "rolls": set(),
        "kinds": {"Service", "HorizontalPodAutoscaler", "Job", "PrometheusRule", "ConfigMap", "NetworkPolicy"},
    },
    # The analysis passes unjudged (its settings say why) and an info alert fires.
    "emergency switch (no analysis)": {
        "rolls": set(),
        "kinds": {"Service", "HorizontalPodAutoscaler", "Job", "PrometheusRule", "ConfigMap", "NetworkPolicy"},
    },
    "VPA Initial": {"rolls": set(), "kinds": {"VerticalPodAutoscaler"}},
    # While DNS moves both edges serve: both limits change.
    "DDoS: rps 5": {"rolls": set(), "kinds": {"BackendTrafficPolicy", "Ingress"}},
    "DDoS on ingress-nginx: connections 10": {"rolls": set(), "kinds": {"Ingress"}},
    "allow-list a source": {"rolls": set(), "kinds": {"BackendTrafficPolicy", "Ingress"}},
    # In maintenance mode already: only the restore Job is added.
    "restore latest backup": {"rolls": set(), "kinds": {"Job"}, "added": {"Job"}},
    # The app's DATABASE_URL moves to the pooler: both colors and the
    # PostgreSQL exporter roll; the database objects are added.
    "database: external to in-cluster": {
        "rolls": {"monad-synapse-blue", "monad-synapse-green", "monad-synapse-postgres-exporter"},
        "added": {"Cluster", "ObjectStore", "ScheduledBackup", "Pooler", "PodMonitor", "NetworkPolicy", "Secret"},
    },
    # A new cluster beside the running one, which is untouched; so is the app.
    "point-in-time recovery": {
        "rolls": set(),
        "kinds": {"Cluster", "ScheduledBackup", "PodMonitor", "NetworkPolicy"},
        "added": {"Cluster", "ScheduledBackup"},
    },
    # The pooler and the credentials move; neither Cluster changes.
    "app to the recovered cluster": {
        "rolls": {"monad-synapse-blue", "monad-synapse-green", "monad-synapse-postgres-exporter"},
        "kinds": {"Pooler", "Deployment", "CronJob", "NetworkPolicy", "PrometheusRule"},
    },
    "retire the old cluster": {
        "rolls": set(),
        "kinds": {"Cluster", "ScheduledBackup", "PodMonitor", "NetworkPolicy"},
        "removed": {"Cluster", "ScheduledBackup"},
    },
}


def test_every_operation_has_an_expectation():
    assert {operation.name for operation in OPERATIONS} == set(EXPECTED)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.name for operation in OPERATIONS])
def test_diff_reports_each_runbook_operation(render_dir, operation):
    before = render_dir("before", "production", *operation.base_for("production"), secrets=operation.secrets)
    after = render_dir("after", "production", *operation.sets_for("production"), secrets=operation.secrets)
    result = run_diff(before, after, "--json")
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert changes, "an operation must change something"
    assert all(
        set(change)
        == {
            "kind",
            "namespace",
            "name",
            "action",
            "fields",
            "rollsPods",
            "replaces",
            "deletesFirst",
            "keepsOld",
            "values",
        }
        for change in changes
    )
    # Nothing is replaced: a switch adds the new color's promotion Jobs and
    # removes the old color's (no rename, so no pending delete to trip over).
    assert not [change for change in changes if change["replaces"]]
    assert {c["name"] for c in changes if c["rollsPods"]} == EXPECTED[operation.name]["rolls"]
    if "kinds" in EXPECTED[operation.name]:
        assert {c["kind"] for c in changes} == EXPECTED[operation.name]["kinds"]
    for action in ("added", "removed"):
        kinds = {c["kind"] for c in changes if c["action"] == action}
        assert kinds == EXPECTED[operation.name].get(action, kinds), action
    # No runbook operation deletes a database cluster, except retiring one.
    assert not any(c["kind"] == "Cluster" and c["action"] == "removed" for c in changes) or (
        operation.name == "retire the old cluster"
    )


def test_human_output_is_a_table_with_a_summary(render_dir):
    result = run_diff(render_dir("a", "production"), render_dir("b", "production", "maintenanceMode=true"))
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["action", "kind", "namespace", "name"]
    # The ConfigMap, both Deployments, the PrometheusRule, and the analysis'
    # settings (it passes unjudged in maintenance mode); no Job is touched.
    assert lines[-1] == "5 changed, 0 added, 0 removed; 2 roll pods; 0 replaced"
    assert any("data.MAINTENANCE_MODE" in line for line in lines)


def test_secret_changes_are_listed_and_are_updates(render_dir):
    """A rotated JWT secret changes the Secret: listed (through the render's
    fingerprint, values stay redacted) and, with the program's mutable-Secret
    provider, updated in place rather than deleted and re-created."""
    result = run_diff(render_dir("a", "production"), render_dir("b", "production", "jwtSecretVersion=2"), "--json")
    changes = {(c["kind"], c["name"]): c for c in json.loads(result.stdout)["changes"]}
    secret = changes[("Secret", "monad-synapse-secrets")]
    assert secret["fields"] == ["stringData.*"]
    assert secret["replaces"] is False and secret["deletesFirst"] is False


def test_without_mutable_provider_config_changes_delete_first(render_dir):
    """What the default provider would do (a render whose resources.json has
    no provider): the ConfigMap and Secret are deleted before re-creation."""
    before, after = (
        render_dir("a", "production"),
        render_dir("b", "production", "maintenanceMode=true", "jwtSecretVersion=2"),
    )
    for directory in (before, after):
        resources = json.loads((directory / "resources.json").read_text())
        for resource in resources:
            resource["provider"] = None
        (directory / "resources.json").write_text(json.dumps(resources))
    changes = {(c["kind"], c["name"]): c for c in json.loads(run_diff(before, after, "--json").stdout)["changes"]}
    for key in (("ConfigMap", "monad-synapse-config"), ("Secret", "monad-synapse-secrets")):
        assert changes[key]["replaces"] is True and changes[key]["deletesFirst"] is True, key
    assert "YES, deletes first" in run_diff(before, after).stdout


def test_no_change(render_dir):
    result = run_diff(render_dir("a", "staging"), render_dir("b", "staging"))
    assert result.stdout.strip() == "no changes"


def test_renamed_objects_are_replacements(render_dir):
    result = run_diff(render_dir("a", "staging"), render_dir("b", "staging", "namespace=staging-2"), "--json")
    changes = json.loads(result.stdout)["changes"]
    moved = [c for c in changes if c["namespace"] == "staging-2" or c["kind"] == "Namespace"]
    assert moved and all(c["replaces"] and c["action"] == "changed" for c in moved)


def test_restore_job_is_added_then_removed(render_dir):
    plain = render_dir("plain", "production", "maintenanceMode=true")
    restoring = render_dir(
        "restoring",
        "production",
        "maintenanceMode=true",
        "restore.fromBackup=latest",
        "restore.confirm=production",
        "restore.requestId=incident-4711",
    )
    added = json.loads(run_diff(plain, restoring, "--json").stdout)["changes"]
    assert [(c["kind"], c["action"]) for c in added] == [("Job", "added")]
    removed = json.loads(run_diff(restoring, plain, "--json").stdout)["changes"]
    assert [(c["kind"], c["action"]) for c in removed] == [("Job", "removed")]


def test_bad_directories_exit_2(tmp_path):
    result = run_diff(tmp_path / "nope", tmp_path)
    assert result.returncode == 2 and "not a render directory" in result.stderr


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "ns"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}},
    },
}


def changed(obj: dict, mutate) -> tuple:
    after = copy.deepcopy(obj)
    mutate(after)
    (change,) = diff_objects({kubernetes_identity(obj): obj}, {kubernetes_identity(after): after})
    return change.rolls_pods, change.replaces


def test_immutable_and_rolling_fields():
    assert changed(DEPLOYMENT, lambda o: o["spec"]["selector"]["matchLabels"].update(tier="1")) == (False, True)
    assert changed(DEPLOYMENT, lambda o: o["spec"]["template"]["spec"]["containers"][0].update(image="i:2")) == (
        True,
        False,
    )
    assert changed(DEPLOYMENT, lambda o: o["spec"].update(replicas=5)) == (False, False)
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {"activeDeadlineSeconds": 5, "template": {"spec": {"containers": [{"image": "i:1"}]}}},
    }
    assert changed(job, lambda o: o["spec"]["template"]["spec"]["containers"][0].update(image="i:2")) == (False, True)
    assert changed(job, lambda o: o["spec"].update(activeDeadlineSeconds=10)) == (False, False)
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "i:1"}]}}}}},
    }
    assert changed(
        cronjob, lambda o: o["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].update(image="i:2")
    ) == (False, False)


@pytest.mark.parametrize(
    ("path", "replaces"),
    [
        ("spec.resources.requests.storage", False),
        ("spec.storageClassName", True),
        ("spec.accessModes[0]", True),
        ("spec.volumeName", True),
    ],
)
def test_pvc_spec_is_immutable_except_growing(path, replaces):
    assert replaces_object("PersistentVolumeClaim", {}, (path,)) is replaces


def test_config_map_and_secret_data_replace_unless_the_provider_makes_them_mutable():
    mutable = ProviderConfig(enable_config_map_mutable=True, enable_secret_mutable=True)
    assert replaces_object("ConfigMap", {}, ("data.KEY",)) is True  # the default provider
    assert replaces_object("ConfigMap", {}, ("data.KEY",), mutable) is False
    assert replaces_object("ConfigMap", {"immutable": True}, ("data.KEY",), mutable) is True
    assert replaces_object("Secret", {}, ("stringData.KEY",)) is True
    assert replaces_object("Secret", {}, ("stringData.KEY",), mutable) is False
    assert replaces_object("Secret", {}, ("type",), mutable) is True


def test_corrupt_render_directories_exit_2(render_dir):
    good = render_dir("good", "staging")
    broken = render_dir("broken", "staging")
    (broken / "manifest.yaml").write_text("kind: [unclosed\n")
    result = run_diff(good, broken)
    assert result.returncode == 2 and "manifest.yaml" in result.stderr and "Traceback" not in result.stderr
    (broken / "manifest.yaml").write_text((good / "manifest.yaml").read_text())
    (broken / "resources.json").write_text("{not json")
    result = run_diff(good, broken)
    assert result.returncode == 2 and "resources.json" in result.stderr and "Traceback" not in result.stderr


def test_a_hostile_manifest_is_refused_without_a_crash(render_dir):
    """100 000 nested brackets made libyaml overflow its stack: the diff
    died with a segmentation fault. Now it refuses the file."""
    good, hostile = render_dir("good", "staging"), render_dir("hostile", "staging")
    with open(hostile / "manifest.yaml", "a") as manifest:
        manifest.write(
            "---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: x, namespace: y}\ndata: "
            + "[" * 100_000
            + "]" * 100_000
            + "\n"
        )
    result = run_diff(good, hostile)
    assert result.returncode == 2 and "manifest.yaml" in result.stderr and "Traceback" not in result.stderr


def test_leaving_the_in_cluster_database_releases_its_cluster_instead_of_deleting_it(render_dir):
    """The serving Cluster is retainOnDelete: leaving it out of the program
    (database.kind back to external, or a mistyped clusterName) leaves it
    running with its data. The diff says so rather than "removed"."""
    secrets = ("databaseS3AccessKeyId=AKIAEXAMPLEKEY0001", "databaseS3SecretAccessKey=example-secret-access-key")
    in_cluster = render_dir("cluster", "production", *IN_CLUSTER, secrets=secrets)
    result = run_diff(in_cluster, render_dir("external", "production"), "--json")
    changes = {(c["kind"], c["name"]): c["action"] for c in json.loads(result.stdout)["changes"]}
    assert changes[("Cluster", "monad-synapse-db")] == "released"
    assert changes[("Pooler", "monad-synapse-db-pooler-rw")] == "removed"
    summary_line = run_diff(in_cluster, render_dir("external-again", "production")).stdout.strip().splitlines()[-1]
    assert "1 released (left running, no longer managed)" in summary_line


def test_a_new_backup_storage_class_is_a_new_volume_and_the_old_one_stays(render_dir):
    """A PVC's class is immutable and the dump volume has retainOnDelete:
    the program names the volume by its class, so the change creates a new
    one and leaves the old one (and its dumps) running; nothing is deleted first."""
    result = run_diff(
        render_dir("a", "production"),
        render_dir("b", "production", "backup.storage.storageClassName=premium-rwo"),
        "--json",
    )
    (claim,) = [c for c in json.loads(result.stdout)["changes"] if c["kind"] == "PersistentVolumeClaim"]
    assert claim["name"] == "monad-synapse-db-backups-premium-rwo"
    assert (claim["replaces"], claim["deletesFirst"], claim["keepsOld"]) == (True, False, True)


def test_ignored_fields_are_not_reported_as_changes(render_dir):
    """Tidying the config after a recovery touches only the Cluster's
    bootstrap and external clusters, both under ignoreChanges (the engine
    keeps the old values): the diff shows no change at all."""
    secrets = ("databaseS3AccessKeyId=AKIAEXAMPLEKEY0001", "databaseS3SecretAccessKey=example-secret-access-key")
    recovered = RECOVERED_CLUSTER
    retired = render_dir(
        "retired",
        "production",
        *IN_CLUSTER,
        "maintenanceMode=true",
        *(item.format(namespace="production") for item in RECOVER),
        "database.recovery.serveApp=true",
        "database.recovery.retireSource=true",
        secrets=secrets,
    )
    tidied = render_dir(
        "tidied",
        "production",
        *IN_CLUSTER,
        "maintenanceMode=true",
        f"database.cloudnativepg.clusterName={recovered}",
        secrets=secrets,
    )
    assert json.loads(run_diff(retired, tidied, "--json").stdout)["changes"] == []


# --- what the on-call reads: values, env vars by name, quantities by meaning ----------


def test_scalar_changes_show_their_values(render_dir):
    before = render_dir("before", "production")
    after = render_dir("after", "production", "autoscaling.minReplicas=8")
    changes = json.loads(run_diff(before, after, "--json").stdout)["changes"]
    hpa = next(change for change in changes if change["name"] == "monad-synapse-blue-hpa")
    assert {"path": "spec.minReplicas", "before": 3, "after": 8} in hpa["values"]
    text = run_diff(before, after).stdout
    assert "spec.minReplicas 3 → 8" in text


def test_env_vars_are_named_not_numbered():
    from tools.manifest import changed_paths

    container = {"name": "app", "env": [{"name": "NODE_OPTIONS", "value": "a"}, {"name": "PORT", "value": "3000"}]}
    changed = {"name": "app", "env": [{"name": "NODE_OPTIONS", "value": "b"}, {"name": "PORT", "value": "3000"}]}
    assert list(changed_paths({"containers": [container]}, {"containers": [changed]})) == [
        "containers[app].env[NODE_OPTIONS].value"
    ]
    added = {"name": "app", "env": [{"name": "EXTRA", "value": "1"}, *container["env"]]}
    assert list(changed_paths({"containers": [container]}, {"containers": [added]})) == ["containers[app].env[EXTRA]"]


def test_equal_quantities_are_no_change():
    """The runbook's `cpu: 1000m` is the default `1`: nothing rolls."""
    from tools.diff import diff_objects

    def deployment(cpu: str, memory: str) -> dict:
        container = {"name": "app", "resources": {"limits": {"cpu": cpu, "memory": memory}}}
        return {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [container]}}}}

    same = diff_objects(
        {"Deployment/ns/app": deployment("1", "1Gi")}, {"Deployment/ns/app": deployment("1000m", "1024Mi")}
    )
    assert same == []
    (more,) = diff_objects(
        {"Deployment/ns/app": deployment("1", "1Gi")}, {"Deployment/ns/app": deployment("1500m", "1Gi")}
    )
    assert more.rolls_pods and more.values == (
        ("spec.template.spec.containers[app].resources.limits.cpu", "1", "1500m"),
    )


@pytest.mark.parametrize(
    ("parameter", "restarts"),
    [("max_connections=300", True), ("shared_buffers=512MB", True), ("work_mem=8MB", False)],
)
def test_database_parameters_that_restart_every_instance_say_so(render_dir, parameter, restarts):
    base = ("database.kind=cloudnativepg", "database.cloudnativepg.objectStore.bucket=monad-synapse-wal")
    secrets = ("databaseS3AccessKeyId=AKIAEXAMPLEKEY0001", "databaseS3SecretAccessKey=example-secret-access-key")
    before = render_dir("before", "production", *base, secrets=secrets)
    after = render_dir(
        "after", "production", *base, f"database.cloudnativepg.postgresql.parameters.{parameter}", secrets=secrets
    )
    changes = json.loads(run_diff(before, after, "--json").stdout)["changes"]
    (cluster,) = [change for change in changes if change["kind"] == "Cluster"]
    assert cluster["rollsPods"] is restarts


@pytest.mark.parametrize("text", ["1", "1000m", "250m", "1Gi", "1024Mi", "1e3", "1.5", "0.5Gi", "2k", "1M"])
def test_the_diff_reads_quantities_as_the_settings_do(text):
    from settings import parse_quantity
    from tools.manifest import quantity

    assert quantity(text) == parse_quantity(text)


# --- transitions one render cannot judge: the diff has both sides -----------------

RESTORE = ("restore.fromBackup=latest", "restore.confirm=production", "restore.requestId=incident-4711")


def hazards_between(render_dir, before_sets, after_sets, secrets=()):
    before = render_dir("before", "production", *before_sets, secrets=secrets)
    after = render_dir("after", "production", *after_sets, secrets=secrets)
    result = run_diff(before, after, "--json")
    return result, json.loads(result.stdout)["hazards"] if result.stdout else None


def test_a_restore_set_with_maintenance_mode_in_one_change_is_a_hazard(render_dir):
    """The restore Job starts while the pods still roll into maintenance mode:
    old pods keep writing while the dump is loaded."""
    result, hazards = hazards_between(render_dir, (), ("maintenanceMode=true", *RESTORE))
    assert result.returncode == 3, result.stderr
    assert len(hazards) == 1 and "maintenance mode" in hazards[0] and "same change" in hazards[0]
    # The runbook's order: maintenance first, the restore in the next change.
    result, hazards = hazards_between(render_dir, ("maintenanceMode=true",), ("maintenanceMode=true", *RESTORE))
    assert (result.returncode, hazards) == (0, [])


def test_moving_the_app_to_a_new_empty_cluster_while_serving_is_a_hazard(render_dir):
    result, hazards = hazards_between(render_dir, (), IN_CLUSTER, secrets=OBJECT_STORE_KEYS)
    assert result.returncode == 3
    assert len(hazards) == 1 and "monad-synapse-db" in hazards[0] and "empty" in hazards[0]
    # The documented move: in maintenance mode, then a dump restored into the cluster.
    result, hazards = hazards_between(
        render_dir, ("maintenanceMode=true",), ("maintenanceMode=true", *IN_CLUSTER), secrets=OBJECT_STORE_KEYS
    )
    assert (result.returncode, hazards) == (0, [])


def test_serving_a_recovered_cluster_in_the_change_that_recovers_it_is_a_hazard(render_dir):
    """serveApp lifts the maintenance-mode rule of a recovery: set together
    with the target, the app serves data nobody has checked."""
    recover = tuple(assignment.format(namespace="production") for assignment in RECOVER)
    result, hazards = hazards_between(
        render_dir, IN_CLUSTER, (*IN_CLUSTER, *recover, "database.recovery.serveApp=true"), secrets=OBJECT_STORE_KEYS
    )
    assert result.returncode == 3
    assert len(hazards) == 1 and RECOVERED_CLUSTER in hazards[0] and "checked" in hazards[0]


def test_the_documented_recovery_steps_raise_no_hazard_one_over_the_other(render_dir, tmp_path):
    recover = tuple(assignment.format(namespace="production") for assignment in RECOVER)
    steps = [
        (*IN_CLUSTER,),
        (*IN_CLUSTER, "maintenanceMode=true", *recover),
        (*IN_CLUSTER, "maintenanceMode=true", *recover, "database.recovery.serveApp=true"),
        (*IN_CLUSTER, *recover, "database.recovery.serveApp=true"),
    ]
    directories = [
        render_dir(f"step-{index}", "production", *sets, secrets=OBJECT_STORE_KEYS) for index, sets in enumerate(steps)
    ]
    for before, after in itertools.pairwise(directories):
        result = run_diff(before, after, "--json")
        assert (result.returncode, json.loads(result.stdout)["hazards"]) == (0, []), (before.name, after.name)


def test_a_new_stack_has_no_hazard(render_dir, tmp_path):
    empty = tmp_path / "empty"
    write_atomically({"manifest.yaml": "", "outputs.json": "{}\n", "resources.json": "[]\n"}, empty)
    after = render_dir("after", "production", *IN_CLUSTER, secrets=OBJECT_STORE_KEYS)
    result = run_diff(empty, after)
    assert result.returncode == 0, result.stdout
    assert "hazard" not in result.stdout
