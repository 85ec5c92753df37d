"""The ported admission rules (tools.engine.admission), each able to refuse, on
create and on update against the live object, through the cluster model."""

from __future__ import annotations

import pytest

from tools.engine.admission import AdmissionRefused
from tools.engine.live import LiveCluster


def cluster(**spec) -> dict:
    base = {
        "instances": 3,
        "imageName": "ghcr.io/cloudnative-pg/postgresql:16.4",
        "storage": {"size": "20Gi"},
        "walStorage": {"size": "5Gi"},
    }
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "db", "namespace": "ns"},
        "spec": {**base, **spec},
    }


def pooler(cluster_name: str, name: str = "db-pooler-rw") -> dict:
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Pooler",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"cluster": {"name": cluster_name}, "type": "rw", "pgbouncer": {}},
    }


RECOVERY = {
    "bootstrap": {"recovery": {"source": "origin"}},
    "externalClusters": [{"name": "origin", "plugin": {"name": "barman-cloud.cloudnative-pg.io"}}],
}


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"bootstrap": {"recovery": {"source": "origin"}}}, "External cluster origin not found"),
        ({"replica": {"promotionToken": "abc", "minApplyDelay": "1h"}}, "cannot be applied with a promotion token"),
    ],
    ids=["recovery-source", "token-with-delay"],
)
def test_a_create_is_refused(spec, message):
    with pytest.raises(AdmissionRefused, match=message):
        LiveCluster().apply(cluster(**spec))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"externalClusters": None}, "External cluster origin not found"),  # the tidy step without ignoreChanges
        ({"storage": {"size": "10Gi"}}, "can't shrink existing storage from 20Gi to 10Gi"),
        ({"walStorage": None}, "walStorage cannot be disabled"),
        ({"imageName": "ghcr.io/cloudnative-pg/postgresql:15.10"}, "can't downgrade from major 16 to 15"),
    ],
    ids=["drop-external-cluster", "shrink", "drop-wal-volume", "downgrade"],
)
def test_an_update_is_judged_against_the_live_object(change, message):
    live = LiveCluster()
    live.apply(cluster(**RECOVERY))
    updated = cluster(**RECOVERY)
    for key, value in change.items():
        if value is None:
            updated["spec"].pop(key)
        else:
            updated["spec"][key] = value
    with pytest.raises(AdmissionRefused, match=message):
        live.apply(updated)
    assert live.objects["Cluster/ns/db"]["spec"]["storage"] == {"size": "20Gi"}  # refused: nothing changed
    live.apply(cluster(**RECOVERY, storage={"size": "40Gi"}))  # growing is fine


def test_a_pooler_keeps_its_cluster():
    live = LiveCluster()
    live.apply(pooler("db"))
    with pytest.raises(AdmissionRefused, match="cluster reference is immutable"):
        live.apply(pooler("db-pitr"))
    with pytest.raises(AdmissionRefused, match="same name of a cluster"):
        live.apply(pooler("db", name="db"))


def test_an_image_and_a_parameter_cannot_change_in_one_update(render_stack):
    """Replayed on the real program: both in one `up` is refused (and the
    stack carries on); one after the other goes through."""
    from tests.engine_model import ModelStack
    from tests.helpers import CLOUDNATIVEPG, DATABASE_S3_SECRETS

    def up(stack, *sets):
        return stack.up(render_stack("production", *CLOUDNATIVEPG, *sets, secrets=DATABASE_S3_SECRETS))

    image = "database.cloudnativepg.image=ghcr.io/cloudnative-pg/postgresql:15.12"
    parameter = "database.cloudnativepg.postgresql.parameters.work_mem=16MB"
    stack = ModelStack()
    assert not up(stack).failed
    both = up(stack, image, parameter)
    assert both.failed and "Can't change image name and configuration" in both.failures()[0].detail
    assert not up(stack, image).failed
    assert not up(stack, image, parameter).failed
