"""Promotion analysis: evidence that a color is healthy before live traffic
moves to it. The live Service waits for the Job that runs this; a failure
fails `pulumi up` and the selector stays where it was.

Each of COUNT measurements, INTERVAL_SECONDS apart:
  1. smoke requests to the color itself (TARGET_URL, its headless Service:
     every request reaches that color, whatever the preview Service selects),
     each path answering its expected status;
  2. from Prometheus, over the last WINDOW_SECONDS, the color's request count,
     5xx ratio and p95 latency (the runbook's http_requests_total and
     http_request_duration_seconds_bucket, selected by SELECTOR, which names
     the color).
A measurement passes when the smoke requests and both thresholds hold; it is
inconclusive with fewer than MIN_REQUESTS requests. The analysis passes with
at most FAILURE_LIMIT failures and at least COUNT - FAILURE_LIMIT passes;
otherwise, without enough traffic to judge, INCONCLUSIVE (fail or pass)
decides. Prometheus unreachable fails closed. A non-empty SKIP_REASON
(the emergency switch, maintenance mode) passes at once and says why.

Exit codes: 0 passed, 1 failed (the reason on stderr), 2 bad environment.
Standard library only: it runs in a small Python image.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable, Optional


class PrometheusUnavailable(Exception):
    """Prometheus did not answer, or answered with an error."""


@dataclass(frozen=True)
class Thresholds:
    max_error_ratio: float
    max_p95_seconds: float
    min_requests: float


@dataclass(frozen=True)
class Measurement:
    verdict: str  # pass | fail | inconclusive
    detail: str


def prometheus_value(base_url: str, promql: str, timeout: float = 10) -> Optional[float]:
    """The single value of an instant query, None when it returns no series."""
    url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise PrometheusUnavailable(f"{base_url}: {getattr(error, 'reason', error)}") from None
    if body.get("status") != "success":
        raise PrometheusUnavailable(f"{base_url}: {body.get('error', 'query failed')}")
    result = body["data"]["result"]
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if value != value else value  # NaN (0/0): no data


def smoke_problems(target_url: str, checks: list, timeout: float = 10) -> list[str]:
    problems = []
    for path, expected in checks:
        url = f"{target_url.rstrip('/')}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            problems.append(f"{path}: no answer ({getattr(error, 'reason', error)})")
            continue
        if status != expected:
            problems.append(f"{path}: {status}, expected {expected}")
    return problems


def queries(selector: str, window_seconds: int) -> dict[str, str]:
    window = f"{window_seconds}s"
    return {
        "requests": f"sum(increase(http_requests_total{{{selector}}}[{window}]))",
        "errors": f'sum(increase(http_requests_total{{{selector}, status=~"5.."}}[{window}]))',
        "p95": f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{{selector}}}[{window}])))",
    }


def measure(
    query: Callable[[str], Optional[float]],
    smoke: Callable[[], list[str]],
    selector: str,
    window_seconds: int,
    thresholds: Thresholds,
) -> Measurement:
    problems = smoke()
    if problems:
        return Measurement("fail", "smoke: " + "; ".join(problems))
    promql = queries(selector, window_seconds)
    requests = query(promql["requests"]) or 0.0
    if requests < thresholds.min_requests:
        return Measurement(
            "inconclusive",
            f"{requests:.0f} requests in {window_seconds}s, fewer than {thresholds.min_requests:.0f} to judge",
        )
    ratio = (query(promql["errors"]) or 0.0) / requests
    p95 = query(promql["p95"])
    if ratio > thresholds.max_error_ratio:
        return Measurement("fail", f"error ratio {ratio:.4f} above {thresholds.max_error_ratio}")
    if p95 is not None and p95 > thresholds.max_p95_seconds:
        return Measurement("fail", f"p95 {p95:.3f}s above {thresholds.max_p95_seconds}s")
    return Measurement(
        "pass", f"{requests:.0f} requests, error ratio {ratio:.4f}, p95 {'n/a' if p95 is None else f'{p95:.3f}s'}"
    )


def judge(measurements: list[Measurement], count: int, failure_limit: int, inconclusive: str) -> tuple[bool, str]:
    failed = [m for m in measurements if m.verdict == "fail"]
    passed = [m for m in measurements if m.verdict == "pass"]
    if len(failed) > failure_limit:
        return (
            False,
            f"{len(failed)} of {len(measurements)} measurements failed (at most {failure_limit}): {failed[-1].detail}",
        )
    if len(passed) >= count - failure_limit:
        return True, f"{len(passed)} of {count} measurements passed"
    verdict = inconclusive == "pass"
    return verdict, (
        f"inconclusive: {count - len(passed) - len(failed)} of {count} measurements had too little "
        f"traffic to judge; promotion.analysis.inconclusive is {inconclusive}"
    )


def analyse(
    query: Callable[[str], Optional[float]],
    smoke: Callable[[], list[str]],
    selector: str,
    window_seconds: int,
    thresholds: Thresholds,
    count: int,
    interval_seconds: float,
    failure_limit: int,
    inconclusive: str,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
) -> tuple[bool, str]:
    measurements: list[Measurement] = []
    for index in range(count):
        if index:
            sleep(interval_seconds)
        measurement = measure(query, smoke, selector, window_seconds, thresholds)
        measurements.append(measurement)
        log(f"measurement {index + 1}/{count}: {measurement.verdict}: {measurement.detail}")
        if sum(m.verdict == "fail" for m in measurements) > failure_limit:
            break  # already lost: fail now rather than wait out the rest
    return judge(measurements, count, failure_limit, inconclusive)


def main() -> int:
    skip_reason = os.environ.get("SKIP_REASON", "").strip()
    if skip_reason:
        # The Job still records this switch: lifting the skip later judges nothing after the fact.
        print(f"analysis: SKIPPED ({skip_reason}); live traffic moves unjudged")
        return 0
    try:
        target, prometheus, selector = os.environ["TARGET_URL"], os.environ["PROMETHEUS_URL"], os.environ["SELECTOR"]
        checks = [(str(path), int(status)) for path, status in json.loads(os.environ["SMOKE"])]
        thresholds = Thresholds(
            float(os.environ["MAX_ERROR_RATIO"]),
            float(os.environ["MAX_P95_SECONDS"]),
            float(os.environ["MIN_REQUESTS"]),
        )
        count, failure_limit = int(os.environ["COUNT"]), int(os.environ["FAILURE_LIMIT"])
        interval, window = float(os.environ["INTERVAL_SECONDS"]), int(os.environ["WINDOW_SECONDS"])
        inconclusive = os.environ["INCONCLUSIVE"]
        if inconclusive not in ("fail", "pass"):
            raise ValueError("INCONCLUSIVE must be fail or pass")
    except (KeyError, ValueError, TypeError) as error:
        print(f"analysis: bad environment: {error}", file=sys.stderr)
        return 2
    try:
        passed, message = analyse(
            lambda promql: prometheus_value(prometheus, promql),
            lambda: smoke_problems(target, checks),
            selector,
            window,
            thresholds,
            count,
            interval,
            failure_limit,
            inconclusive,
            log=lambda line: print(f"analysis: {line}", flush=True),
        )
    except PrometheusUnavailable as error:
        print(
            f"analysis: FAILED CLOSED: Prometheus is unreachable ({error}); live traffic did not move. "
            f"Check promotion.analysis.prometheusUrl, or in an emergency set promotion.skipAnalysis true",
            file=sys.stderr,
        )
        return 1
    print(f"analysis: {'PASSED' if passed else 'FAILED'}: {message}", file=sys.stdout if passed else sys.stderr)
    if not passed:
        print(
            "analysis: live traffic did not move (after a verification failure: it moved; switch back). "
            "Fix the cause and run `pulumi up` again (the failed check runs again), or in an emergency: "
            "pulumi config set --path promotion.skipAnalysis true && pulumi up",
            file=sys.stderr,
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
