"""Blue/green capacity gate: succeed once the color about to take live traffic
has as many ready pods as the color serving it now (capped at the HPA's
maximum), or fail at the deadline so `pulumi up` stops before the live
Service's selector moves.

Runs in a Job with no Kubernetes API access: it counts ready pods through
DNS. Each color has a headless Service, and cluster DNS answers a headless
Service's name with one A record per *ready* endpoint
(kubernetes.io/docs/concepts/services-networking/dns-pod-service, "Headless
Services"; CoreDNS's kubernetes plugin leaves not-ready endpoints out).

Environment: TARGET_HOST (headless Service of the color going live),
CURRENT_HOST (that of the other color), MIN_REPLICAS and MAX_REPLICAS
(the target's autoscaler bounds), TIMEOUT_SECONDS,
INTERVAL_SECONDS (default 5), FIX_HINT (printed on failure), SKIP_REASON
(non-empty: pass at once and say why; the emergency bypass).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Callable


def ready_pods(host: str) -> int:
    """Distinct A records of a headless Service: its ready pods (0 when none)."""
    try:
        answers = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror:
        return 0
    return len({answer[4][0] for answer in answers})


def required_pods(current_ready: int, max_replicas: int) -> int:
    """As many as serve now, but never more than the HPA may run, and at least one."""
    return max(1, min(current_ready, max_replicas))


def decide(target_ready: int, current_ready: int, min_replicas: int, max_replicas: int) -> tuple[str, int]:
    """("go" | "wait" | "short", pods needed). "short": the target's autoscaler
    floor is below what is needed, and a color without live traffic does not
    scale up on its own, so waiting cannot help."""
    needed = required_pods(current_ready, max_replicas)
    if target_ready >= needed:
        return "go", needed
    return ("wait" if min_replicas >= needed else "short"), needed


def wait_for_capacity(
    count: Callable[[str], int],
    target_host: str,
    current_host: str,
    min_replicas: int,
    max_replicas: int,
    timeout_seconds: float,
    interval_seconds: float = 5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, str]:
    deadline = clock() + timeout_seconds
    while True:
        target, current = count(target_host), count(current_host)
        state, needed = decide(target, current, min_replicas, max_replicas)
        if state == "go":
            return True, f"{target_host} has {target} ready pod(s); {current_host} serves with {current}: go"
        if state == "short":
            return False, (
                f"{current_host} serves live traffic with {current} ready pod(s), {target_host} has {target} and its "
                f"autoscaler floor is {min_replicas}: raise autoscaling.minReplicas to {needed} for the switch"
            )
        if clock() >= deadline:
            return False, (
                f"{target_host} has {target} ready pod(s) after {timeout_seconds:g}s, but {current_host} serves "
                f"live traffic with {current} (need {needed})"
            )
        sleep(interval_seconds)


def main() -> int:
    skip_reason = os.environ.get("SKIP_REASON", "").strip()
    if skip_reason:
        print(f"switch gate: skipped ({skip_reason}); live traffic moves without the capacity check")
        return 0
    try:
        target, current = os.environ["TARGET_HOST"], os.environ["CURRENT_HOST"]
        min_replicas, max_replicas = int(os.environ["MIN_REPLICAS"]), int(os.environ["MAX_REPLICAS"])
        timeout = float(os.environ["TIMEOUT_SECONDS"])
        interval = float(os.environ.get("INTERVAL_SECONDS", "5"))
    except (KeyError, ValueError) as error:
        print(f"switch gate: bad environment: {error}", file=sys.stderr)
        return 2
    passed, message = wait_for_capacity(ready_pods, target, current, min_replicas, max_replicas, timeout, interval)
    print(f"switch gate: {message}", file=sys.stdout if passed else sys.stderr)
    if not passed:
        print(f"switch gate: live traffic did not move. {os.environ.get('FIX_HINT', '')}".rstrip(), file=sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
