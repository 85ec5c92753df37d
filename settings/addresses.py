"""CIDR blocks: what they cover of the public internet, and the cloud metadata range."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
)

from settings.base import _custom_error

_PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def _check_cidrs(cidrs: tuple[str, ...]) -> tuple[str, ...]:
    import ipaddress

    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise _custom_error(
                "bad_cidr", "{cidr} is not a CIDR block: {reason}", cidr=cidr, reason=str(error)
            ) from None
    return cidrs


def _cidr_list(value: Any) -> Any:
    """A single CIDR where a list is expected (`--path key 10.0.0.0/8`) is a slip."""
    if isinstance(value, str):
        raise _custom_error("not_a_list", "must be a list of CIDR blocks, not a single value", list=True)
    return value


Cidrs = Annotated[tuple[str, ...], BeforeValidator(_cidr_list), AfterValidator(_check_cidrs)]

# Address space that is not the public internet (RFC 6890 special-purpose blocks).
_NON_PUBLIC = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/3",
    "::/8",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
    "2001:db8::/32",
)
# More public addresses than this is "the internet", however it is split up:
# a /8 of IPv4, a /32 of IPv6.
_PUBLIC_ADDRESS_LIMIT = {4: 2**24, 6: 2**96}


def public_addresses(cidrs: tuple[str, ...]) -> dict[int, int]:
    """Public addresses covered by CIDR blocks, per IP version, overlaps counted once."""
    import ipaddress

    covered: dict[int, int] = {4: 0, 6: 0}
    for version in (4, 6):
        networks = [ipaddress.ip_network(cidr) for cidr in cidrs if ipaddress.ip_network(cidr).version == version]
        for network in ipaddress.collapse_addresses(networks):
            remaining = [network]
            for blocked in (ipaddress.ip_network(block) for block in _NON_PUBLIC):
                if blocked.version != version:
                    continue
                pieces = []
                for piece in remaining:
                    if blocked.subnet_of(piece):
                        pieces.extend(piece.address_exclude(blocked))
                    elif not piece.subnet_of(blocked):
                        pieces.append(piece)
                remaining = pieces
            covered[version] += sum(piece.num_addresses for piece in remaining)
    return covered


def covers_the_internet(cidrs: tuple[str, ...]) -> bool:
    return any(count > _PUBLIC_ADDRESS_LIMIT[version] for version, count in public_addresses(cidrs).items())


_LINK_LOCAL = "169.254.0.0/16"


def _check_egress_cidrs(cidrs: tuple[str, ...]) -> tuple[str, ...]:
    """The cloud metadata endpoint (169.254.169.254) hands out node
    credentials: a block inside the link-local range cannot be excepted from
    itself, so it is refused; wider blocks get it excepted (network_policy)."""
    import ipaddress

    link_local = ipaddress.ip_network(_LINK_LOCAL)
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        if network.version == 4 and network.subnet_of(link_local):
            raise _custom_error(
                "metadata_range",
                "{cidr} is in the link-local range 169.254.0.0/16 of the cloud metadata endpoint, "
                "which hands out node credentials; it is never allowed",
                cidr=cidr,
            )
    return cidrs


def _at_least_one_cidr(cidrs: tuple[str, ...]) -> tuple[str, ...]:
    """An egress list must name somewhere: an empty one would either fail
    while resources are built or, as a rule without destinations, allow
    every destination."""
    if not cidrs:
        raise _custom_error("no_cidrs", "needs at least one CIDR", list=True)
    return cidrs


EgressCidrs = Annotated[
    tuple[str, ...],
    BeforeValidator(_cidr_list),
    AfterValidator(_at_least_one_cidr),
    AfterValidator(_check_cidrs),
    AfterValidator(_check_egress_cidrs),
]
