"""Validate custom resources against their upstream CRD schemas.

Kubernetes structural schemas are almost JSON Schema; this converts the
differences (int-or-string, nullable, unknown fields) and validates with
`jsonschema`. The CRD files are reference data that a user's clone does not
have; callers skip when `crd_directory()` returns None.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import jsonschema
import yaml

from tools.engine.stack_config import PROJECT_DIR

# libyaml's parser where PyYAML has it: the CRDs are megabytes of YAML.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CrdLoader(_SafeLoader):
    """SafeLoader without the `=` "value" tag, which Gateway API schemas trip over."""


_CrdLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def crd_directory() -> Optional[Path]:
    """Where the upstream CRDs are: $MONAD_SYNAPSE_CRDS, else ../shared/crds."""
    configured = os.environ.get("MONAD_SYNAPSE_CRDS")
    candidate = Path(configured) if configured else PROJECT_DIR.parent / "shared" / "crds"
    return candidate if candidate.is_dir() else None


def to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Structural schema -> strict JSON Schema (unknown fields refused)."""
    result = {key: value for key, value in schema.items() if not key.startswith("x-kubernetes-") and key != "nullable"}
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            result[combinator] = [to_json_schema(item) for item in schema[combinator]]
    if schema.get("x-kubernetes-int-or-string"):
        result.pop("type", None)
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in schema:
        result["properties"] = {name: to_json_schema(item) for name, item in schema["properties"].items()}
    if isinstance(schema.get("additionalProperties"), dict):
        result["additionalProperties"] = to_json_schema(schema["additionalProperties"])
    if isinstance(schema.get("items"), dict):
        result["items"] = to_json_schema(schema["items"])
    if schema.get("x-kubernetes-embedded-resource"):
        result.setdefault("properties", {})
        for field in ("apiVersion", "kind"):
            result["properties"].setdefault(field, {"type": "string"})
        result["properties"].setdefault("metadata", {"type": "object"})
    if (
        schema.get("type") == "object"
        and "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    if schema.get("nullable") and "type" in result:
        result["type"] = [result["type"], "null"]
    return result


@lru_cache(maxsize=None)
def _schemas(directory: Path) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> JSON Schema for every CRD version in the folder."""
    found = {}
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.load_all(path.read_text(), Loader=_CrdLoader):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            group = document["spec"]["group"]
            kind = document["spec"]["names"]["kind"]
            for version in document["spec"]["versions"]:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if schema:
                    found[(f"{group}/{version['name']}", kind)] = to_json_schema(schema)
    return found


class UnknownCustomResource(LookupError):
    pass


def validate_custom_resource(obj: dict[str, Any], directory: Path) -> None:
    """Raise jsonschema.ValidationError if obj breaks its CRD's schema."""
    schema = _schemas(directory).get((obj.get("apiVersion"), obj.get("kind")))
    if schema is None:
        raise UnknownCustomResource(f"no CRD in {directory} for {obj.get('apiVersion')} {obj.get('kind')}")
    jsonschema.Draft202012Validator(schema).validate(obj)


# API groups served by Kubernetes itself (kubernetes-validate has their schemas).
CORE_API_GROUPS = frozenset(
    {
        "",
        "apps",
        "autoscaling",
        "batch",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "admissionregistration.k8s.io",
    }
)


def is_core_object(obj: dict[str, Any]) -> bool:
    return obj["apiVersion"].rpartition("/")[0] in CORE_API_GROUPS
