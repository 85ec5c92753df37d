"""Egress rules to IP blocks never reach the cloud metadata endpoint."""

from __future__ import annotations

import pytest

from components.common.egress import ip_blocks
from settings import RpcEgress


@pytest.mark.parametrize(
    ("cidrs", "expected"),
    [
        (("0.0.0.0/0",), [{"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}]),
        (("203.0.113.0/24",), [{"cidr": "203.0.113.0/24"}]),
        (("::/0",), [{"cidr": "::/0"}]),
    ],
)
def test_ip_blocks_never_reach_the_metadata_endpoint(cidrs, expected):
    assert ip_blocks(RpcEgress(cidrs=cidrs)) == expected
