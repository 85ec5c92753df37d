"""What the API server's admission refuses for the custom resources the
program declares (pure): the CloudNativePG webhooks and CRD validation
rules that an offline schema check cannot see, on create *and* on update,
where the operator validates the whole merged object against the live one.

Ported from cloudnative-pg (main in 2026):
* internal/webhook/v1/cluster_webhook.go: `validateBootstrapRecoverySource`
  (the recovery source must be an external cluster with a way to read it),
  `validatePromotionToken` (no minApplyDelay with a promotion token),
  `validateConfigurationChange` (with primaryUpdateMethod switchover, an
  image change and a parameter change cannot go in one update),
  `validateStorageChange` / `validateWalStorageChange` (no shrinking, no
  dropping walStorage), `validateImageChange` (no major downgrade; major
  upgrades only to 16 or newer);
* internal/webhook/v1/pooler_webhook.go: `validateCluster` (a cluster name,
  not the pooler's own); api/v1/pooler_types.go: `spec.cluster` is
  immutable (XValidation `self == oldSelf`).

Used by the cluster model (tools.engine.live) on every write of these kinds."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Mapping, Optional

# Size suffixes of a Kubernetes quantity (apimachinery pkg/api/resource);
# the settings validate the full grammar, this compares two valid sizes.
_SIZE = re.compile(r"^([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_MULTIPLIERS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def parse_quantity_bytes(text: str) -> Optional[Decimal]:
    match = _SIZE.match(text.strip())
    return Decimal(match.group(1)) * _MULTIPLIERS[match.group(2)] if match else None


class AdmissionRefused(Exception):
    """The API server refused the write (a webhook or a CRD rule)."""


def _major(image: str) -> Optional[int]:
    tag = image.split("@")[0].rpartition(":")[2]
    match = re.match(r"([0-9]+)", tag)
    return int(match.group(1)) if match else None


def _size(storage: Optional[Mapping[str, Any]]) -> Optional[Decimal]:
    if not storage or not storage.get("size"):
        return None
    return parse_quantity_bytes(str(storage["size"]))


def cluster_problems(new: Mapping[str, Any], old: Optional[Mapping[str, Any]]) -> list[str]:
    spec, problems = new.get("spec") or {}, []
    recovery = (spec.get("bootstrap") or {}).get("recovery") or {}
    if recovery.get("source"):
        external = {item.get("name"): item for item in spec.get("externalClusters") or []}
        found = external.get(recovery["source"])
        if found is None:
            problems.append(f"spec.bootstrap.recovery.source: External cluster {recovery['source']} not found")
        elif not any(found.get(key) for key in ("connectionParameters", "barmanObjectStore", "plugin")):
            problems.append(
                f"spec.bootstrap.recovery.source: External cluster {recovery['source']} cannot be used for recovery"
            )
    replica = spec.get("replica") or {}
    if replica.get("promotionToken") and replica.get("minApplyDelay"):
        problems.append("spec.replicaCluster.minApplyDelay: minApplyDelay cannot be applied with a promotion token")
    if old is not None:
        old_spec = old.get("spec") or {}
        for key in ("storage", "walStorage"):
            before, after = _size(old_spec.get(key)), _size(spec.get(key))
            if before is not None and after is not None and after < before:
                problems.append(
                    f"spec.{key}: can't shrink existing storage from {old_spec[key]['size']} to {spec[key]['size']}"
                )
        if old_spec.get("walStorage") and not spec.get("walStorage"):
            problems.append("spec.walStorage: walStorage cannot be disabled once configured")
        if (
            old_spec.get("imageName") != spec.get("imageName")
            and spec.get("primaryUpdateMethod") == "switchover"
            and ((old_spec.get("postgresql") or {}).get("parameters") or {})
            != ((spec.get("postgresql") or {}).get("parameters") or {})
        ):
            problems.append(
                "spec.imageName: Can't change image name and configuration at the same time when "
                "`primaryUpdateMethod` is set to `switchover`"
            )
        before, after = _major(str(old_spec.get("imageName", ""))), _major(str(spec.get("imageName", "")))
        if before is not None and after is not None:
            if before > after:
                problems.append(f"spec.imageName: can't downgrade from major {before} to {after}")
            elif before < after < 16:
                problems.append("spec.imageName: major upgrades are only supported to version 16 or higher")
    return problems


def pooler_problems(new: Mapping[str, Any], old: Optional[Mapping[str, Any]]) -> list[str]:
    cluster = ((new.get("spec") or {}).get("cluster") or {}).get("name", "")
    problems = []
    if not cluster:
        problems.append("spec.cluster.name: must specify a cluster name")
    if cluster == (new.get("metadata") or {}).get("name"):
        problems.append("metadata.name: the pooler resource cannot have the same name of a cluster")
    if old is not None and ((old.get("spec") or {}).get("cluster") or {}) != (
        (new.get("spec") or {}).get("cluster") or {}
    ):
        problems.append("spec.cluster: cluster reference is immutable after creation")
    return problems


VALIDATORS = {("postgresql.cnpg.io", "Cluster"): cluster_problems, ("postgresql.cnpg.io", "Pooler"): pooler_problems}


def admit(new: Mapping[str, Any], old: Optional[Mapping[str, Any]]) -> None:
    """Raise AdmissionRefused when the write of `new` (over `old`, the live
    object, on update) would be refused."""
    group = str(new.get("apiVersion", "")).split("/")[0]
    validate = VALIDATORS.get((group, new.get("kind")))
    problems = validate(new, old) if validate else []
    if problems:
        name = (new.get("metadata") or {}).get("name")
        raise AdmissionRefused(
            f"{new.get('kind')} {name}: admission webhook denied the request: " + "; ".join(problems)
        )
