"""The promotion analysis script against a real Prometheus server (Debian's
package `prometheus`; .ci/run installs it). A local HTTP server stands in for
the colors: it answers the smoke requests and exports the runbook's metrics
with a `color` label, one pseudo-color per traffic profile, which Prometheus
scrapes every second."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import free_port, require_tool
from tools.engine.stack_config import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "promotion" / "analysis.py"
# Requests per second of each profile: (ok, 5xx, seconds each request takes).
PROFILES = {"healthy": (50, 0, 0.05), "failing": (40, 10, 0.05), "slow": (50, 0, 4.0), "quiet": (0, 0, 0.05)}
BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0)


class Colors(BaseHTTPRequestHandler):
    started = time.monotonic()

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/metrics":
            body = self.exposition().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
        elif self.path.startswith("/api/health"):
            body, status = b"ok", 200
            self.send_response(status)
        else:
            body = b"missing"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @classmethod
    def exposition(cls) -> str:
        elapsed = time.monotonic() - cls.started
        lines = ["# TYPE http_requests_total counter", "# TYPE http_request_duration_seconds histogram"]
        for color, (ok, errors, seconds) in PROFILES.items():
            labels = f'job="app", namespace="test", color="{color}"'
            lines.append(f'http_requests_total{{{labels}, status="200"}} {ok * elapsed:.1f}')
            lines.append(f'http_requests_total{{{labels}, status="500"}} {errors * elapsed:.1f}')
            total = (ok + errors) * elapsed
            for bound in BUCKETS:
                lines.append(
                    f'http_request_duration_seconds_bucket{{{labels}, le="{bound}"}} '
                    f"{total if seconds <= bound else 0:.1f}"
                )
            lines.append(f'http_request_duration_seconds_bucket{{{labels}, le="+Inf"}} {total:.1f}')
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def colors_server():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Colors)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def prometheus(colors_server):
    binary = require_tool("prometheus")
    base = Path(tempfile.mkdtemp(prefix="monad-synapse-prom-"))
    config = base / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "colors",
                        "honor_labels": True,
                        "static_configs": [{"targets": [colors_server.removeprefix("http://")]}],
                    }
                ],
            }
        )
    )
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        query = "count_over_time(http_requests_total[10s])"
        while time.monotonic() < deadline:  # ready, and enough scrapes for a 3-second rate window
            try:
                with urllib.request.urlopen(f"{url}/api/v1/query?query={query}", timeout=2) as answer:
                    result = json.load(answer)["data"]["result"]
                    if result and min(float(item["value"][1]) for item in result) >= 4:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def run_analysis(prometheus_url: str, target_url: str, color: str, **overrides) -> subprocess.CompletedProcess:
    env = {
        "TARGET_URL": target_url,
        "PROMETHEUS_URL": prometheus_url,
        "SELECTOR": f'job="app", namespace="test", color="{color}"',
        "SMOKE": json.dumps([["/api/health", 200]]),
        "MAX_ERROR_RATIO": "0.01",
        "MAX_P95_SECONDS": "2",
        "MIN_REQUESTS": "20",
        "COUNT": "2",
        "FAILURE_LIMIT": "0",
        "INTERVAL_SECONDS": "1",
        "WINDOW_SECONDS": "3",
        "INCONCLUSIVE": "fail",
    }
    env.update(overrides)
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


# Every scenario runs at once against the same Prometheus (each is a few
# seconds of waiting on measurements), then the tests read their outcome.
SCENARIOS = {
    "healthy": ("healthy", {}),
    "failing": ("failing", {}),
    "slow": ("slow", {}),
    "quiet-fail": ("quiet", {"INCONCLUSIVE": "fail"}),
    "quiet-pass": ("quiet", {"INCONCLUSIVE": "pass"}),
    "smoke": ("healthy", {"SMOKE": json.dumps([["/api/missing", 200]])}),
}


@pytest.fixture(scope="module")
def outcomes(prometheus, colors_server) -> dict[str, subprocess.CompletedProcess]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {
            key: pool.submit(run_analysis, prometheus, colors_server, color, **overrides)
            for key, (color, overrides) in SCENARIOS.items()
        }
        return {key: future.result() for key, future in futures.items()}


def test_a_healthy_color_passes(outcomes):
    result = outcomes["healthy"]
    assert result.returncode == 0, result.stderr
    assert "PASSED: 2 of 2 measurements passed" in result.stdout


def test_errors_above_the_ratio_fail(outcomes):
    result = outcomes["failing"]
    assert result.returncode == 1
    # 10 of 50 requests a second fail; Prometheus' rate() extrapolates, so about 0.2.
    ratio = re.search(r"error ratio ([0-9.]+) above 0.01", result.stderr)
    assert ratio and 0.15 < float(ratio[1]) < 0.25, result.stderr
    assert "live traffic did not move" in result.stderr


def test_slow_responses_fail(outcomes):
    result = outcomes["slow"]
    assert result.returncode == 1
    assert "p95" in result.stderr and "above 2.0s" in result.stderr


@pytest.mark.parametrize(("policy", "code"), [("fail", 1), ("pass", 0)])
def test_no_traffic_is_inconclusive_and_handled_as_configured(outcomes, policy, code):
    result = outcomes[f"quiet-{policy}"]
    assert result.returncode == code, result.stdout + result.stderr
    assert "inconclusive" in result.stdout + result.stderr


def test_a_failing_smoke_request_fails(outcomes):
    result = outcomes["smoke"]
    assert result.returncode == 1 and "smoke: /api/missing: 404, expected 200" in result.stderr


def test_prometheus_unreachable_fails_closed(colors_server):
    result = run_analysis(f"http://127.0.0.1:{free_port()}", colors_server, "healthy")
    assert result.returncode == 1
    assert "FAILED CLOSED: Prometheus is unreachable" in result.stderr


def test_bad_environment_exits_2(colors_server):
    result = run_analysis("http://127.0.0.1:1", colors_server, "healthy", COUNT="many")
    assert result.returncode == 2 and "bad environment" in result.stderr


def test_a_skip_passes_at_once_and_says_why(colors_server):
    """The emergency switch and maintenance mode: the Job records the switch,
    judges nothing (Prometheus here is unreachable), and says why."""
    result = run_analysis(
        f"http://127.0.0.1:{free_port()}", colors_server, "broken", SKIP_REASON="promotion.skipAnalysis is true"
    )
    assert result.returncode == 0, result.stderr
    assert "SKIPPED (promotion.skipAnalysis is true)" in result.stdout
