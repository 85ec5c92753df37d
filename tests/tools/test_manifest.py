"""Reading rendered manifests: objects keyed by identity, each read the
caller's own, hostile files refused."""

from __future__ import annotations

import pytest
import yaml

from tools.manifest import load_objects

MANIFEST = """\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: monad-synapse-config
  namespace: production
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: Namespace
metadata:
  name: production
"""


def test_objects_are_keyed_by_kind_namespace_and_name():
    assert sorted(load_objects(MANIFEST)) == ["ConfigMap/production/monad-synapse-config", "Namespace/production"]


def test_each_read_is_the_callers_own_to_change():
    first = load_objects(MANIFEST)
    first["ConfigMap/production/monad-synapse-config"]["data"]["LOG_LEVEL"] = "debug"
    del first["Namespace/production"]
    again = load_objects(MANIFEST)
    assert again["ConfigMap/production/monad-synapse-config"]["data"] == {"LOG_LEVEL": "info"}
    assert "Namespace/production" in again


def test_a_file_nested_too_deep_is_refused_every_time():
    text = "a: " + "[" * 100 + "]" * 100 + "\n"
    for _ in range(2):
        with pytest.raises(yaml.YAMLError, match="nests values"):
            load_objects(text)
