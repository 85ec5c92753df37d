"""Every value the platform sets exists in its chart at the pinned version, with the chart's type, and passes its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import jsonschema
import pytest
import yaml

from addons.pins import BY_KEY, PINS
from addons.settings import settings_from_raw
from addons.values import VALUES

VENDOR = Path(__file__).resolve().parents[2] / "addons" / "vendor"
SETTINGS = {
    "production": settings_from_raw("production", {"acmeEmail": "ops@monad-synapse.com"}),
    "staging": settings_from_raw("staging", {"acmeEmail": "ops@monad-synapse.com", "replicas": "1"}),
}


def defaults_of(folder: str, values_file: str = "values.yaml") -> dict:
    return yaml.safe_load((VENDOR / folder / values_file).read_text()) or {}


def schema_of(folder: str) -> Optional[dict]:
    path = VENDOR / folder / "values.schema.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _schema_has(schema: Optional[dict], path: list[str]) -> bool:
    node = schema
    for key in path:
        if not isinstance(node, dict):
            return False
        if "$ref" in node and node["$ref"].startswith("#/"):
            target: Any = schema
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        properties = node.get("properties") or {}
        if key not in properties:
            return bool(node.get("additionalProperties"))
        node = properties[key]
    return True


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def unknown_paths(values: dict, defaults: Any, schema: Optional[dict], subcharts: dict, prefix=()) -> list[str]:
    """Paths set in `values` that the chart does not have, or has with another type."""
    problems = []
    for key, value in values.items():
        path = [*prefix, key]
        if not prefix and key in subcharts:
            sub_defaults = defaults_of(subcharts[key])
            merged = {**sub_defaults, **(defaults.get(key) or {})} if isinstance(defaults, dict) else sub_defaults
            problems += unknown_paths(value, merged, schema_of(subcharts[key]), {}, ())
            continue
        if isinstance(defaults, dict) and key in defaults:
            default = defaults[key]
            if default is None or (isinstance(default, dict) and not default):
                continue  # free-form: the chart passes it through
            if isinstance(value, dict) and isinstance(default, dict):
                problems += unknown_paths(value, default, schema, {}, path)
            elif not _same_type(value, default):
                problems.append(f"{'.'.join(path)}: {type(value).__name__}, the chart's default is {default!r}")
        elif not _schema_has(schema, path):
            problems.append(f"{'.'.join(path)}: not in the chart's values or schema")
    return problems


def test_the_path_check_finds_a_misspelt_key_and_a_wrong_type():
    defaults = defaults_of("kube-prometheus-stack")
    subcharts = BY_KEY["kube-prometheus-stack"].subcharts
    assert unknown_paths({"prometheus": {"prometheusSpec": {"ruleSelectr": {}}}}, defaults, None, subcharts) == [
        "prometheus.prometheusSpec.ruleSelectr: not in the chart's values or schema"
    ]
    assert unknown_paths({"grafana": {"sidecar": {"dashboards": {"enabled": "yes"}}}}, defaults, None, subcharts)
    assert unknown_paths({"grafana": {"sidecar": {"dashbords": {}}}}, defaults, None, subcharts)


@pytest.mark.parametrize("stack", sorted(SETTINGS))
@pytest.mark.parametrize("pin", PINS, ids=lambda pin: pin.key)
def test_every_value_set_exists_in_the_pinned_chart(pin, stack):
    values = VALUES[pin.key](SETTINGS[stack])
    defaults = defaults_of(pin.key, pin.source.values_file)
    assert unknown_paths(values, defaults, schema_of(pin.key), dict(pin.subcharts)) == []


@pytest.mark.parametrize("stack", sorted(SETTINGS))
@pytest.mark.parametrize("pin", [pin for pin in PINS if schema_of(pin.key)], ids=lambda pin: pin.key)
def test_values_pass_the_charts_schema(pin, stack):
    """Helm validates the merged values against values.schema.json before it renders anything."""
    merged = _merge(defaults_of(pin.key, pin.source.values_file), VALUES[pin.key](SETTINGS[stack]))
    jsonschema.validate(merged, schema_of(pin.key))


def test_the_schema_check_refuses_a_bad_value():
    merged = _merge(defaults_of("cert-manager"), {"replicaCount": "two"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(merged, schema_of("cert-manager"))


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {key: _merge(base.get(key), override[key]) if key in base else override[key] for key in override} | {
            key: value for key, value in base.items() if key not in override
        }
    return override
