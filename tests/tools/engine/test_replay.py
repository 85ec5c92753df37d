"""The replay of `pulumi up` (tools.engine.replay) is as pessimistic as the real
engine and provider on failure, retry and update, rule by rule, on small
hand-made objects (the sequences of the real program are in
test_release_path.py)."""

from __future__ import annotations

from typing import Optional

from tools.engine.live import LiveCluster, ProviderConfig
from tools.engine.replay import DesiredResource, StackState, simulate_up

PROVIDER = ProviderConfig(enable_config_map_mutable=True, enable_secret_mutable=True)


def config_map(name: str, value: str = "1") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns"},
        "data": {"key": value},
    }


def job(name: str, replace_unready: bool = False, image: str = "python:3") -> dict:
    annotations = {"pulumi.com/replaceUnready": "true"} if replace_unready else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "ns", "annotations": annotations},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
    }


def claim(name: str, storage_class: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"]},
    }


class Verdict:
    """The Jobs' verdict; counts how often a Job actually ran."""

    def __init__(self, problem: Optional[str] = None):
        self.problem, self.runs = problem, 0

    def __call__(self, cluster, obj):
        self.runs += 1
        return self.problem


def up(cluster: LiveCluster, state, *objects: dict, verdict=None, provider=PROVIDER, retain: bool = False):
    desired = [
        DesiredResource(f"urn:{obj['kind']}:{index}", obj, retain_on_delete=retain) for index, obj in enumerate(objects)
    ]
    return simulate_up(cluster, state, desired, provider, {"": verdict} if verdict else None)


def test_a_create_of_an_existing_name_fails_unless_the_provider_upserts():
    cluster = LiveCluster()
    cluster.apply(config_map("made-by-hand", "old"), manager="kubectl-client-side-apply")
    refused = up(cluster, StackState(), config_map("made-by-hand"))
    assert refused.failed and "already exists" in refused.failures()[0].detail
    assert refused.state.resources == {}  # a failed create leaves nothing in state
    adopted = up(
        cluster,
        StackState(),
        config_map("made-by-hand"),
        provider=ProviderConfig(upsert_existing_objects=True, enable_patch_force=True),
    )
    assert not adopted.failed
    assert cluster.objects["ConfigMap/ns/made-by-hand"]["data"] == {"key": "1"}


def test_a_failed_job_stays_and_a_retry_only_re_awaits_it():
    cluster, verdict = LiveCluster(), Verdict("bad")
    first = up(cluster, StackState(), job("check"), verdict=verdict)
    assert first.failed and "Job/ns/check" in cluster.objects  # never rolled back
    assert first.state.init_errors == {"urn:Job:0"}
    verdict.problem = None  # the cause is fixed
    retry = up(cluster, first.state, job("check"), verdict=verdict)
    assert retry.failed and verdict.runs == 1  # the same failed Job, awaited again
    assert retry.op("Job/ns/check") == "failed" and "re-awaited" in retry.failures()[0].detail


def test_replace_unready_runs_a_failed_job_again():
    cluster, verdict = LiveCluster(), Verdict("bad")
    first = up(cluster, StackState(), job("check", replace_unready=True), verdict=verdict)
    assert first.failed
    verdict.problem = None
    retry = up(cluster, first.state, job("check", replace_unready=True), verdict=verdict)
    assert not retry.failed and verdict.runs == 2
    assert retry.steps[0].op == "replace" and retry.steps[0].detail == "deleted first"
    # A Job that completed is ready: nothing to replace.
    assert up(cluster, retry.state, job("check", replace_unready=True), verdict=verdict).steps[0].op == "same"


def test_a_renamed_job_that_fails_leaves_the_old_name_as_a_pending_delete():
    """The trap of a Job named by hash: a switch renames it (create before
    delete), the new one fails, and the way back needs the old name."""
    cluster = LiveCluster()
    first = up(cluster, StackState(), job("gate-blue-1"), verdict=Verdict())
    failed = up(cluster, first.state, job("gate-green-2"), verdict=Verdict("short"))
    assert failed.failed and "Job/ns/gate-blue-1" in cluster.objects
    assert [urn for urn, _, _ in failed.state.pending_deletes] == ["urn:Job:0"]
    back = up(cluster, failed.state, job("gate-blue-1"), verdict=Verdict())
    assert back.failed and "already exists" in back.failures()[0].detail


def test_a_successful_up_deletes_pending_deletes_and_a_failed_one_deletes_nothing():
    cluster = LiveCluster()
    first = up(cluster, StackState(), job("a-1"), config_map("kept"), verdict=Verdict())
    renamed = up(cluster, first.state, job("a-2"), verdict=Verdict("no"))  # fails; the ConfigMap is undeclared
    assert "ConfigMap/ns/kept" in cluster.objects and "urn:ConfigMap:1" in renamed.state.resources
    done = up(cluster, renamed.state, job("a-3", replace_unready=True), verdict=Verdict())
    assert not done.failed
    assert set(cluster.objects) == {"Job/ns/a-3"} and not done.state.pending_deletes


def test_retain_on_delete_and_a_same_name_replacement_cannot_both_hold():
    cluster = LiveCluster()
    first = up(cluster, StackState(), claim("backups", "standard"), retain=True)
    moved = up(cluster, first.state, claim("backups", "premium"), retain=True)
    assert moved.failed and "already exists" in moved.failures()[0].detail
    assert moved.state.resources == {}  # the delete step ran (a no-op), the create did not
    renamed = up(cluster, first.state, claim("backups-premium", "premium"), retain=True)
    assert not renamed.failed
    assert {"PersistentVolumeClaim/ns/backups", "PersistentVolumeClaim/ns/backups-premium"} <= set(cluster.objects)
