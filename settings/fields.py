"""Field types of the settings: images, quantities, names, labels, booleans."""

from __future__ import annotations

import re
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Mapping

from pydantic import (
    AfterValidator,
    BeforeValidator,
)

from settings.base import _custom_error
from settings.contract import _DNS_LABEL, DEFAULT_OPERATOR_LABELS

# OCI distribution reference grammar, reduced to what a deployable image needs:
# optional registry[:port], lower-case path components, a tag and/or a digest.
_IMAGE_REFERENCE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
# Kubernetes resource.Quantity: a signed decimal with a binary (Ki..Ei),
# decimal (m, k, M..E) or exponent suffix.
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_QUANTITY_MULTIPLIERS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


# resource.Quantity is an int64 of its smallest unit: nothing larger exists.
_QUANTITY_MAX = Decimal(2**63 - 1)


def parse_quantity(text: str) -> Decimal:
    """Value of a Kubernetes quantity ("250m" -> 0.25, "1Gi" -> 1073741824).

    Raises ValueError for anything the API server would reject. Hand-written
    because the grammar is ten lines and the alternative (the `kubernetes`
    client) is a large runtime dependency for one function.
    """
    match = _QUANTITY.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    number = Decimal(match["number"])
    suffix = match["suffix"]
    if suffix and suffix[0] in "eE":
        exponent = int(suffix[1:])
        if abs(exponent) > 30:
            raise ValueError(f"{text!r} is out of range")
        value = number * (Decimal(10) ** exponent)
    else:
        value = number * _QUANTITY_MULTIPLIERS[suffix]
    if abs(value) > _QUANTITY_MAX:
        raise ValueError(f"{text!r} is larger than the API server stores")
    return value


def _quantity_text(value: Any) -> Any:
    """Accept numbers for quantities (`--path resources.limits.cpu 1` stores an int)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _check_image(image: str) -> str:
    if not image.strip():
        raise _custom_error("empty_image", "image is empty; give registry/repository:tag")
    match = _IMAGE_REFERENCE.match(image)
    if not match:
        raise _custom_error(
            "bad_image",
            "not an image reference; expected registry/repository:tag or repository@sha256:<digest>",
        )
    if not match["tag"] and not match["digest"]:
        raise _custom_error(
            "untagged_image",
            "image has no tag or digest, so every node may run a different build; pin a version tag or digest",
        )
    if match["tag"] == "latest" and not match["digest"]:
        raise _custom_error(
            "latest_image",
            "the 'latest' tag is mutable, so a rollback would not restore the old build; pin a version tag or digest",
        )
    return image


ImageRef = Annotated[str, AfterValidator(_check_image)]


def _check_namespace_name(name: str) -> str:
    if not isinstance(name, str) or not _DNS_LABEL.match(name):
        raise _custom_error("bad_namespace", "not a namespace name: lower-case letters, digits and '-', at most 63")
    return name


NamespaceName = Annotated[str, AfterValidator(_check_namespace_name)]
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _dns_subdomain(error_type: str, message: str) -> AfterValidator:
    """A lower-case DNS subdomain (RFC 1123, at most 253), the shape of most Kubernetes names."""

    def check(name: str) -> str:
        if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
            raise _custom_error(error_type, message)
        return name

    return AfterValidator(check)


SectionName = Annotated[
    str, _dns_subdomain("bad_section_name", "not a Gateway listener name (lower-case DNS subdomain, e.g. https)")
]
ObjectName = Annotated[
    str, _dns_subdomain("bad_object_name", "not a Kubernetes object name (lower-case DNS subdomain)")
]


def matching(error_type: str, pattern: str, message: str) -> AfterValidator:
    """A text that must match `pattern` whole, refused with `message`."""
    compiled = re.compile(pattern)

    def check(text: str) -> str:
        if not compiled.fullmatch(text):
            raise _custom_error(error_type, message)
        return text

    return AfterValidator(check)


# A TCP port in a URL: 1-65535 (0 and 99999 are no port the receiving
# component can use, and NetworkPolicy refuses them at apply time).
URL_PORT = r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))"


def path_segments(path: str) -> str:
    """A slash-separated path by meaning: no leading, trailing or repeated
    slashes (`/api/health/`, `production//` compare as `api/health`, `production`)."""
    return "/".join(part for part in path.split("/") if part)


# Where objects go in a bucket: no leading '/', no '..' tricks, no '$'.
KeyPrefix = Annotated[
    str,
    matching(
        "bad_prefix",
        r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,200}",
        "must be an object key prefix: letters, digits, '/', '_', '.', '-'",
    ),
]


def _check_positive_size(size: str) -> str:
    try:
        if parse_quantity(size) <= 0:
            raise ValueError
    except ValueError:
        raise _custom_error("bad_size", "must be a positive Kubernetes quantity such as 20Gi") from None
    return size


# A volume's size; `--path ...size 20` stores a number.
PositiveSize = Annotated[str, BeforeValidator(_quantity_text), AfterValidator(_check_positive_size)]


def _check_label_map(labels: Mapping[str, str]) -> Mapping[str, str]:
    for key, value in labels.items():
        prefix, _, _ = key.rpartition("/")
        if len(prefix) > 253 or not re.fullmatch(r"([a-z0-9.-]+/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?", key):
            raise _custom_error("bad_label", "{key} is not a Kubernetes label key", key=key)
        if key in DEFAULT_OPERATOR_LABELS and not str(value):
            raise _custom_error(
                "empty_operator_label",
                "{key} selects these rules for the operator; it cannot be empty",
                key=key,
                field=key,
                value=value,
                suggestion=DEFAULT_OPERATOR_LABELS[key],
            )
        if not re.fullmatch(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?", str(value)):
            raise _custom_error("bad_label", "{value} is not a Kubernetes label value", value=value)
    return MappingProxyType(dict(labels))


def _strict_bool(value: Any) -> Any:
    """Pulumi passes top-level config as strings; accept exactly true/false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _custom_error("not_boolean", "must be true or false")
