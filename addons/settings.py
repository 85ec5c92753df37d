"""The platform stack's configuration: read, checked all at once, refused before any resource is declared."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

import pulumi

import platform_contract as contract

PROJECT = "monad-synapse-platform"
KEYS = ("acmeEmail", "acmeServer", "replicas", "challengeGateways", "grafanaAdminPasswordVersion")
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
# An address an ACME server accepts: one @, a dotted domain (RFC 5321 in short).
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class PlatformSettingsError(pulumi.RunError):
    """Every problem of the platform stack's config, each with its key, value and fix (no traceback)."""

    def __init__(self, stack: str, problems: list[str]):
        self.problems = problems
        body = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s) in the configuration of platform stack {stack}:\n{body}")


@dataclass(frozen=True)
class PlatformSettings:
    stack: str
    acme_email: str
    acme_server: str
    replicas: int
    challenge_gateways: tuple[str, ...]
    grafana_admin_password_version: int

    @property
    def environment(self) -> str:
        return contract.app_environment(self.stack)


def _fix(key: str, stack: str, value: Any) -> str:
    if isinstance(value, list):  # one item at a time, by path
        return f"pulumi config set --path {shlex.quote(key + '[0]')} {shlex.quote(str(value[0]))} -s {stack}"
    return f"pulumi config set {key} {shlex.quote(str(value))} -s {stack}"


def settings_from_raw(stack: str, raw: Mapping[str, Optional[str]]) -> PlatformSettings:
    """Check every key; raise one error naming all problems, or return the settings."""
    problems: list[str] = []

    def problem(key: str, value: Any, what: str, suggestion: Any) -> None:
        shown = "<not set>" if value is None else json.dumps(value)
        problems.append(f"{key} = {shown}: {what}\n      fix: {_fix(key, stack, suggestion)}")

    email = (raw.get("acmeEmail") or "").strip()
    if not _EMAIL.fullmatch(email):
        problem(
            "acmeEmail",
            raw.get("acmeEmail"),
            "needs the address Let's Encrypt writes to about expiring certificates and account problems",
            "platform-team@monad-synapse.com",
        )
    server = (raw.get("acmeServer") or LETS_ENCRYPT).strip()
    parts = urlsplit(server)
    if parts.scheme != "https" or not parts.hostname:
        problem("acmeServer", server, "must be an ACME directory https:// URL", LETS_ENCRYPT)

    replicas = _integer(raw.get("replicas"), 2)
    if replicas is None or not 1 <= replicas <= 5:
        problem("replicas", raw.get("replicas"), "must be a whole number from 1 to 5 (2 survives a node drain)", 2)
        replicas = 2

    # Empty (the project's default): the app's Gateway of this environment.
    gateways = _string_list(raw.get("challengeGateways"), [])
    if gateways == []:
        gateways = [contract.app_gateway_name(contract.app_environment(stack))]
    bad = [
        name
        for name in gateways or []
        if not (isinstance(name, str) and _DNS_SUBDOMAIN.fullmatch(name) and len(name) <= 253)
    ]
    if gateways is None or bad:
        problem(
            "challengeGateways",
            raw.get("challengeGateways"),
            "must list the Gateways (object names) whose port-80 listener answers Let's Encrypt's HTTP-01 challenges",
            [contract.app_gateway_name(contract.app_environment(stack))],
        )
    elif len(set(gateways)) != len(gateways):
        # The challenge HTTPRoute would name one parent twice with one section, which the
        # Gateway API refuses (HTTPRoute CRD: "sectionName must be unique when parentRefs
        # includes 2 or more references to the same parent").
        problem(
            "challengeGateways",
            gateways,
            "names a Gateway more than once; list each once",
            list(dict.fromkeys(gateways)),
        )
    version = _integer(raw.get("grafanaAdminPasswordVersion"), 1)
    if version is None or version < 1:
        problem(
            "grafanaAdminPasswordVersion", raw.get("grafanaAdminPasswordVersion"), "must be a whole number from 1", 1
        )

    unknown = sorted(set(raw) - set(KEYS))
    for key in unknown:
        problems.append(
            f"{key}: not a key of this project (known: {', '.join(KEYS)})\n      fix: pulumi config rm {key} -s {stack}"
        )
    if problems:
        raise PlatformSettingsError(stack, problems)
    return PlatformSettings(
        stack=stack,
        acme_email=email,
        acme_server=server,
        replicas=replicas,
        challenge_gateways=tuple(gateways or ()),
        grafana_admin_password_version=version or 1,
    )


def _decoded(text: Optional[str], default: Any) -> Any:
    """A config value as the CLI stores it (JSON for numbers and lists); None when it is not JSON."""
    if text is None or text == "":
        return default
    try:
        return json.loads(text)
    except ValueError:
        return None


def _integer(text: Optional[str], default: int) -> Optional[int]:
    value = _decoded(text, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _string_list(text: Optional[str], default: list[str]) -> Optional[list[Any]]:
    value = _decoded(text, default)
    return value if isinstance(value, list) else None


def read(stack: str) -> PlatformSettings:
    """The settings of the running stack, from Pulumi's config (unknown keys included, to name typos)."""
    from pulumi.runtime import config as runtime_config

    raw = {}
    for full_key in list(runtime_config.CONFIG.get()) + list(runtime_config.get_config_env()):
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT and key:
            raw[key] = runtime_config.get_config(full_key)
    return settings_from_raw(stack, raw)
