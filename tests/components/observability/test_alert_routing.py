"""Who gets paged: the rendered AlertmanagerConfig, turned into Alertmanager
configuration the way prometheus-operator does, loaded into a real
Alertmanager (Debian's package `prometheus-alertmanager`; .ci/run installs
it), which then routes and inhibits alerts sent to its API."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.helpers import free_port, require_tool

NS = "production"
CONFIG = f"AlertmanagerConfig/{NS}/monad-synapse"
OPERATORS = {"=": "=", "!=": "!=", "=~": "=~", "!~": "!~"}


def _matchers(items: list[dict]) -> list[str]:
    return [f'{item["name"]}{OPERATORS[item.get("matchType", "=")]}"{item["value"]}"' for item in items]


def operator_config(resource: dict) -> dict:
    """The Alertmanager configuration prometheus-operator generates from one
    AlertmanagerConfig (pkg/alertmanager/amcfg.go; the namespace rule is
    AlertmanagerConfigSpec's contract, pkg/apis/monitoring/v1alpha1/
    alertmanager_config_types.go): receivers are renamed
    <namespace>/<name>/<receiver>; the resource's route becomes a child of
    the root route matching `namespace="<its namespace>"` and `continue:
    true`; each inhibit rule gets that namespace matcher on both sides.
    Receivers become webhooks: delivery is not under test, routing is."""
    namespace, name = resource["metadata"]["namespace"], resource["metadata"]["name"]
    prefix = f"{namespace}/{name}/"
    spec = resource["spec"]
    own_namespace = [f'namespace="{namespace}"']

    def route(item: dict, top: bool) -> dict:
        converted = {"receiver": prefix + item["receiver"]}
        matchers = _matchers(item.get("matchers", [])) + (own_namespace if top else [])
        if matchers:
            converted["matchers"] = matchers
        for key, target in (
            ("groupBy", "group_by"),
            ("groupWait", "group_wait"),
            ("groupInterval", "group_interval"),
            ("repeatInterval", "repeat_interval"),
        ):
            if key in item:
                converted[target] = item[key]
        if top:
            converted["continue"] = True
        if item.get("routes"):
            converted["routes"] = [route(child, False) for child in item["routes"]]
        return converted

    return {
        "route": {"receiver": "null", "routes": [route(spec["route"], True)]},
        "receivers": [{"name": "null"}]
        + [
            {"name": prefix + receiver["name"], "webhook_configs": [{"url": "http://127.0.0.1:9/unused"}]}
            for receiver in spec["receivers"]
        ],
        "inhibit_rules": [
            {
                "source_matchers": _matchers(rule["sourceMatch"]) + own_namespace,
                "target_matchers": _matchers(rule["targetMatch"]) + own_namespace,
                "equal": rule.get("equal", []),
            }
            for rule in spec.get("inhibitRules", [])
        ],
    }


def rendered_config() -> dict:
    from tests.helpers import cached_render, rendered_objects

    return rendered_objects(cached_render(NS, (), ()))[CONFIG]


@pytest.fixture(scope="module")
def alertmanager():
    binary = require_tool("prometheus-alertmanager")  # Debian's name for the alertmanager binary
    base = Path(tempfile.mkdtemp(prefix="monad-synapse-am-"))
    config = base / "alertmanager.yml"
    config.write_text(yaml.safe_dump(operator_config(rendered_config())))
    check = subprocess.run([require_tool("amtool"), "check-config", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def send(url: str, *alerts: dict) -> None:
    now = datetime.now(timezone.utc).isoformat()
    body = json.dumps([{"labels": labels, "startsAt": now} for labels in alerts]).encode()
    request = urllib.request.Request(
        f"{url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def status(url: str, alertname: str, namespace: str = NS, wait_for_inhibition: bool = False) -> dict:
    """The Alertmanager's view of one alert: its receivers and whether it is suppressed."""
    deadline = time.monotonic() + 10
    while True:
        with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as answer:
            found = [
                alert
                for alert in json.load(answer)
                if alert["labels"]["alertname"] == alertname and alert["labels"].get("namespace") == namespace
            ]
        if found and (not wait_for_inhibition or found[0]["status"]["inhibitedBy"] or time.monotonic() > deadline):
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"{alertname} never reached the Alertmanager")
        time.sleep(0.2)


def alert(name: str, severity: str, namespace: str = NS) -> dict:
    return {"alertname": name, "severity": severity, "namespace": namespace, "service": "monad-synapse"}


def test_the_conversion_keeps_the_config_valid_and_scoped():
    converted = operator_config(rendered_config())
    (ours,) = converted["route"]["routes"]
    assert f'namespace="{NS}"' in ours["matchers"] and ours["continue"] is True
    assert all(f'namespace="{NS}"' in rule["source_matchers"] for rule in converted["inhibit_rules"])


@pytest.mark.parametrize(
    ("name", "severity", "receiver"),
    [
        ("MonadSynapseEdgeDown", "critical", "critical"),
        ("MonadSynapseHighErrorRate", "critical", "critical"),
        ("MonadSynapseEdgeRejecting", "warning", "warning"),
        ("MonadSynapseMaintenanceMode", "info", "info"),
    ],
)
def test_each_severity_reaches_its_receiver(alertmanager, name, severity, receiver):
    send(alertmanager, alert(name, severity))
    assert [item["name"] for item in status(alertmanager, name)["receivers"]] == [f"{NS}/monad-synapse/{receiver}"]


def test_another_namespaces_alerts_are_not_ours(alertmanager):
    send(alertmanager, alert("MonadSynapseEdgeDown", "critical", namespace="staging"))
    received = status(alertmanager, "MonadSynapseEdgeDown", namespace="staging")["receivers"]
    assert [item["name"] for item in received] == ["null"]


def test_while_the_app_is_down_its_warnings_are_held_back_and_criticals_page(alertmanager):
    send(alertmanager, alert("MonadSynapseHighLatency", "warning"), alert("MonadSynapseRedisDown", "warning"))
    assert status(alertmanager, "MonadSynapseHighLatency")["status"]["state"] == "active"
    send(alertmanager, alert("MonadSynapseDown", "critical"), alert("MonadSynapseDatabaseDown", "critical"))
    latency = status(alertmanager, "MonadSynapseHighLatency", wait_for_inhibition=True)["status"]
    assert latency["state"] == "suppressed" and latency["inhibitedBy"]
    assert status(alertmanager, "MonadSynapseRedisDown", wait_for_inhibition=True)["status"]["state"] == "suppressed"
    assert status(alertmanager, "MonadSynapseDatabaseDown")["status"]["state"] == "active"
