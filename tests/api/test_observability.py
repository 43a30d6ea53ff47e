"""Trusted proxies, request ids, HSTS, the guarded /metrics, and JSON log lines with the
request id and without ID numbers (issue 19, item 7)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.mmap_dict import MmapedDict
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from bonafides.api.app import create_app
from bonafides.catalogue import load_catalogue
from bonafides.context import Context
from bonafides.http.observability import TrustedProxies
from bonafides.settings import Settings
from bonafides.store.db import make_engine, migrate
from bonafides.store.reference import sync_catalogue
from tests import factories
from tests.api.conftest import SAMR_KEY
from tests.api.test_server import _free_port, _healthy, _until

PENALTY = load_catalogue().type("market.penalty")
PROXY = ("127.0.0.1", 40000)
STRANGER = ("203.0.113.9", 40000)


def _client(settings: Settings, peer: tuple[str, int]) -> TestClient:
    ctx = Context(settings)
    with ctx.sessions.begin() as s:
        sync_catalogue(s, ctx.catalogue)
    ctx.close()
    return TestClient(create_app(settings), client=peer)


@pytest.fixture
def via_proxy(settings: Settings) -> Iterator[TestClient]:
    with _client(settings, PROXY) as client:
        yield client


@pytest.fixture
def direct(settings: Settings) -> Iterator[TestClient]:
    with _client(settings, STRANGER) as client:
        yield client


async def _echo_client(scope: Scope, receive: Receive, send: Send) -> None:
    body = f"{scope['client'][0]} {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.0.0.2", "198.51.100.7", "198.51.100.7 https"),
        # A client's own prefix is not believed: the proxy appended the real address.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7 https"),
        # Two trusted proxies in a row: the first address that is not one is the client.
        ("10.0.0.2", "198.51.100.7, 10.0.0.3", "198.51.100.7 https"),
        # Anybody else's headers are ignored.
        ("203.0.113.9", "198.51.100.7", "203.0.113.9 http"),
    ],
)
def test_forwarded_headers_are_believed_only_from_the_listed_proxies(
    peer: str, forwarded: str, expected: str
) -> None:
    app = TrustedProxies(_echo_client, "10.0.0.0/29")
    client = TestClient(app, client=(peer, 1234))
    answer = client.get("/", headers={"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"})
    assert answer.text == expected


def test_the_rate_limit_counts_the_forwarded_client_only_behind_a_trusted_proxy(
    settings: Settings,
) -> None:
    """Two public look-ups a minute per client: three forwarded clients get one each."""
    tight = settings.model_copy(update={"search_rate_per_minute": 2})
    path = "/api/v1/search?q=blue"
    with _client(tight, PROXY) as proxied:
        for n in range(3):
            answer = proxied.get(path, headers={"X-Forwarded-For": f"198.51.100.{n}"})
            assert answer.status_code != 429, "three clients, one request each"
    with _client(tight, STRANGER) as direct:
        codes = [
            direct.get(path, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(3)
        ]
    assert codes[-1] == 429, "a header from an untrusted peer does not make new clients"


def test_every_answer_carries_a_request_id_and_a_trusted_proxys_is_kept(
    via_proxy: TestClient, direct: TestClient
) -> None:
    made = via_proxy.get("/api/v1/health").headers["x-request-id"]
    assert len(made) == 32
    assert made != via_proxy.get("/api/v1/health").headers["x-request-id"]
    kept = via_proxy.get("/api/v1/health", headers={"X-Request-ID": "edge-7f3a.42"})
    assert kept.headers["x-request-id"] == "edge-7f3a.42"
    hostile = via_proxy.get("/api/v1/health", headers={"X-Request-ID": "a b\\n{}"})
    assert hostile.headers["x-request-id"] != "a b\\n{}"
    ignored = direct.get("/api/v1/health", headers={"X-Request-ID": "edge-7f3a.42"})
    assert ignored.headers["x-request-id"] != "edge-7f3a.42", "only a trusted proxy names it"
    assert via_proxy.get("/no/such/page").headers["x-request-id"]


def test_hsts_only_when_configured(settings: Settings) -> None:
    with _client(settings, PROXY) as client:
        assert "strict-transport-security" not in client.get("/api/v1/health").headers
    on = settings.model_copy(update={"hsts_seconds": 31536000})
    with _client(on, PROXY) as client:
        header = client.get("/api/v1/health").headers["strict-transport-security"]
    assert header == "max-age=31536000; includeSubDomains"


def test_metrics_only_for_allowed_networks_or_the_token(settings: Settings) -> None:
    with _client(settings, STRANGER) as client:
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 403
    tokened = settings.model_copy(update={"metrics_token": SecretStr("scrape-token-0123456789")})
    with _client(tokened, STRANGER) as client:
        answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        assert answer.status_code == 200
    # Behind the trusted local proxy, a forwarded stranger is a stranger.
    with _client(settings, PROXY) as client:
        outside = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert outside.status_code == 403
        assert client.get("/metrics").status_code == 200


def test_metrics_count_requests_by_route_template_and_read_the_queues(
    via_proxy: TestClient,
) -> None:
    person = factories.person().code
    organisation = factories.org().code
    via_proxy.get(f"/api/v1/subjects/{organisation}")
    via_proxy.get(f"/api/v1/subjects/{person}")
    via_proxy.get(f"/no/such/{person}")
    text = via_proxy.get("/metrics").text
    assert 'route="/api/v1/subjects/{code}"' in text
    assert 'route="unmatched"' in text
    assert person not in text
    assert organisation not in text
    assert "bonafides_http_request_duration_seconds_bucket" in text
    for queue in ("objections", "repairs", "complaints", "review"):
        assert f'bonafides_queue_depth{{queue="{queue}"}} 0.0' in text
    assert 'bonafides_overdue_cases{queue="objections"} 0.0' in text


def test_ingested_rows_are_counted(via_proxy: TestClient) -> None:
    def value(text: str, outcome: str) -> float:
        prefix = f'bonafides_ingest_rows_total{{outcome="{outcome}"}} '
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].removeprefix(prefix)) if lines else 0.0

    before = via_proxy.get("/metrics").text
    recent = factories.office_today() - dt.timedelta(days=3)
    good = factories.content_row(PENALTY, factories.org(), decision_date=recent)
    bad = factories.content_row(PENALTY, factories.org(), decision_date=recent)
    code = PENALTY.content_field("uscc").column_zh
    bad[code] = bad[code][:-1] + ("0" if bad[code][-1] != "0" else "1")
    answer = via_proxy.post(
        "/api/v1/submissions",
        json={"type": "market.penalty", "rows": [good, bad]},
        headers={"Authorization": f"Bearer {SAMR_KEY}"},
    )
    assert answer.status_code == 200, answer.text
    after = via_proxy.get("/metrics").text
    assert value(after, "accepted") - value(before, "accepted") == 1
    assert value(after, "rejected") - value(before, "rejected") == 1


def test_a_served_request_logs_json_lines_with_its_id_and_no_id_number(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'logs.db'}"
    engine = make_engine(db)
    migrate(engine)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "BONAFIDES_DB": db,
        "BONAFIDES_SECRET_KEY": "log-test-secret-0123456789",
        "BONAFIDES_LOG_FORMAT": "json",
    }
    code = f"from bonafides.api.server import run; run('127.0.0.1', {port}, workers=1)"
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=log)
    number = factories.person().code
    try:
        assert _until(lambda: _healthy(port)), "server did not start"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/subjects/{number}",
            headers={"X-Request-ID": "edge-req-1"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 404
        assert refused.value.headers["x-request-id"] == "edge-req-1"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    time.sleep(0.1)
    text = (tmp_path / "server.log").read_text("utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, text
    assert all({"time", "level", "logger", "request_id", "message"} <= set(e) for e in lines)
    access = [e for e in lines if e["logger"] == "uvicorn.access" and "/subjects/" in e["message"]]
    assert [e["request_id"] for e in access] == ["edge-req-1"]
    assert number not in text
    assert f"{number[:6]}********{number[-4:]}" in access[0]["message"]


def test_a_scrape_with_the_store_unreadable_still_answers(tmp_path: Path) -> None:
    """A store with no tables (not migrated, or gone): the request counters are served
    and bonafides_store_up says 0, instead of a server error."""
    bare = Settings(db=f"sqlite:///{tmp_path / 'bare.db'}", secret_key="x" * 32)
    with TestClient(create_app(bare), client=PROXY) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert "bonafides_store_up 0.0" in answer.text
    assert "bonafides_http_requests_total" in answer.text
    assert "bonafides_queue_depth" not in answer.text


@pytest.mark.slow
def test_multiprocess_metrics_add_up_every_worker_and_the_job_worker(tmp_path: Path) -> None:
    """Two uvicorn workers and a job worker sharing PROMETHEUS_MULTIPROC_DIR: /metrics
    counts every request whichever worker answered it, and the job worker's runs."""
    db = f"sqlite:///{tmp_path / 'multi.db'}"
    engine = make_engine(db)
    migrate(engine)
    engine.dispose()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "BONAFIDES_DB": db,
        "BONAFIDES_SECRET_KEY": "multiproc-test-secret-0123456789",
        "BONAFIDES_DATA_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    jobs = subprocess.run(
        [sys.executable, "-m", "bonafides", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert jobs.returncode == 0, jobs.stdout + jobs.stderr
    port = _free_port()
    code = (
        "from bonafides.api.server import run; "
        f"run('127.0.0.1', {port}, workers=2, log_level='warning', access_log=False)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    line = 'bonafides_http_requests_total{method="GET",route="/api/v1/catalogue",status="200"}'
    catalogue = f"http://127.0.0.1:{port}/api/v1/catalogue"
    sent = 0
    try:
        assert _until(lambda: _healthy(port)), "server did not start"
        # The kernel hands each new connection to whichever worker accepts first, and one
        # worker may take a run of them: send until both have answered some, then count.
        while len(_catalogue_counts(metrics_dir)) < 2 and sent < 400:
            for _ in range(20):
                urllib.request.urlopen(catalogue, timeout=10).close()
            sent += 20
        seen: list[str] = []

        def all_counted() -> bool:
            # A request is counted once its answer has gone out: the last one may still be
            # on its way to the worker's metric file when the client has its answer.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as got:
                seen[:] = [got.read().decode()]
            rows = [row for row in seen[0].splitlines() if row.startswith(line)]
            return bool(rows) and float(rows[0].split()[-1]) >= sent

        assert _until(all_counted), seen[0][:2000] if seen else "no answer from /metrics"
        text = seen[0]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    by_worker = _catalogue_counts(metrics_dir)
    assert len(by_worker) == 2, f"both servers answered some of {sent} requests: {by_worker}"
    counted = [row for row in text.splitlines() if row.startswith(line)]
    assert float(counted[0].split()[-1]) == sum(by_worker.values()) == sent
    assert 'bonafides_job_runs_total{job="audit:checkpoint",outcome="ok"} 1.0' in text


def _catalogue_counts(metrics_dir: Path) -> dict[str, float]:
    """The catalogue requests each process has counted in its own metric file, by file."""
    counts: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
        for key, value, _timestamp, _pos in values:
            metric, _name, labels, _help = json.loads(key)
            if metric == "bonafides_http_requests" and labels.get("route") == "/api/v1/catalogue":
                counts[path.name] = counts.get(path.name, 0.0) + value
    return counts
