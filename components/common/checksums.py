"""Content checksums (pure): a pod template annotation holding one rolls the
pods when what they read changes, which Kubernetes does not do by itself."""

from __future__ import annotations

import hashlib
import json
from typing import Mapping


def checksum(data: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()
