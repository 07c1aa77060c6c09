"""/metrics: Prometheus' text format, one scrape counting every worker's requests."""

from pathlib import Path

import httpx
import pytest
from _support import free_port
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.config import Settings
from api.main import create_app
from tests.conftest import LOOPBACK, bearer, make_key, start_server, stop_server

HERO = {"name": "Counted", "secret_name": "Tally"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests(scrape: dict[tuple[str, tuple[tuple[str, str], ...]], float], **labels: str) -> float:
    wanted = set(labels.items())
    return sum(
        value
        for (name, label_items), value in scrape.items()
        if name == "heroes_http_requests_total" and wanted <= set(label_items)
    )


def test_one_scrape_counts_every_workers_requests(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'heroes.db'}"
    key = make_key(url)
    env = {"HEROES_RATE_LIMIT_WRITES": "3/minute"}
    process, base = start_server(url, "--workers", "2", env=env, log=tmp_path / "server.log")
    try:
        # Each request on a new connection: SO_REUSEPORT spreads connections over the workers
        # (all 40 on one worker: odds of 2^-39).
        for _ in range(40):
            assert httpx.get(f"{base}/heroes/").status_code == 200
        for _ in range(5):
            assert httpx.get(f"{base}/heroes/999").status_code == 404
        refused = [httpx.post(f"{base}/heroes/", json=HERO, headers=bearer("heroes_" + "x" * 43))]
        # Each worker counts for itself, and a sliding window lets one more through when a minute
        # turns mid-burst (the last window's 3 weigh 2.99, rounded down): 4 per worker at most,
        # so 10 writes over two workers must meet a 429 wherever the minute turns.
        writes = [httpx.post(f"{base}/heroes/", json=HERO, headers=bearer(key)) for _ in range(10)]
        statuses = [response.status_code for response in writes]
        assert refused[0].status_code == 401
        assert 429 in statuses

        # Every scrape lands on one worker or the other, and each shows both workers' counts.
        for _ in range(6):
            response = httpx.get(f"{base}/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain; version=")
            scrape = samples(response.text)
            assert requests(scrape, route="/heroes/", method="GET", status="200") == 40
            assert requests(scrape, route="/heroes/{hero_id}", method="GET", status="404") == 5
            assert requests(scrape, route="/heroes/", method="POST") == 11
            assert scrape[("heroes_requests_unauthorized_total", ())] == 1
            assert scrape[("heroes_requests_rate_limited_total", ())] == statuses.count(429)
            latency = (
                "heroes_http_request_duration_seconds_count",
                (("method", "GET"), ("route", "/heroes/")),
            )
            assert scrape[latency] == 40
            assert scrape[("heroes_db_connections_in_use", ())] == 0
    finally:
        stop_server(process)


def test_the_schema_and_the_docs_are_counted_under_their_own_routes(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'heroes.db'}")
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        # In-process, the counters are this test process's: earlier tests' requests are in
        # them too, so what counts is the difference.
        before = samples(client.get("/metrics").text)
        for path in ("/openapi.json", "/docs", "/static-offline-docs/swagger-ui.css", "/"):
            assert client.get(path, follow_redirects=False).status_code < 400, path
        after = samples(client.get("/metrics").text)

    def counted(**labels: str) -> float:
        return requests(after, **labels) - requests(before, **labels)

    assert counted(route="/openapi.json", status="200") == 1
    assert counted(route="/docs", status="200") == 1
    assert counted(route="/static-offline-docs/{path}", status="200") == 1
    assert counted(route="/", status="307") == 1
    assert counted(route="<unmatched>") == 0


def test_requests_no_route_matched_share_one_label(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'heroes.db'}")
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        before = requests(samples(client.get("/metrics").text), route="<unmatched>")
        for n in range(20):
            assert client.get(f"/scanner/probe-{n}").status_code == 404
        after = samples(client.get("/metrics").text)
    assert requests(after, route="<unmatched>") - before == 20
    assert not [labels for (_, labels) in after if ("route", "/scanner/probe-3") in labels]


def test_a_database_that_does_not_answer_is_counted_as_shed() -> None:
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/heroes"
    settings = Settings(DATABASE_URL=unreachable, migrate_on_startup=False)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        before = samples(client.get("/metrics").text)[("heroes_requests_shed_total", ())]
        assert client.get("/heroes/1").status_code == 503
        after = samples(client.get("/metrics").text)[("heroes_requests_shed_total", ())]
    assert after - before == 1


@pytest.mark.parametrize("public_reads", [True, False])
def test_metrics_are_read_like_the_heroes(tmp_path: Path, public_reads: bool) -> None:
    url = f"sqlite:///{tmp_path / 'heroes.db'}"
    key = make_key(url)
    settings = Settings(DATABASE_URL=url, public_reads=public_reads)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        assert client.get("/metrics").status_code == (200 if public_reads else 401)
        assert client.get("/metrics", headers=bearer(key)).status_code == 200


def test_prometheus_gets_openmetrics_when_it_asks(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'h.db'}")
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        response = client.get("/metrics", headers={"Accept": accept})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_metrics_off_means_no_endpoint(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'h.db'}", metrics=False)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        assert client.get("/metrics").status_code == 404


def test_metrics_are_not_in_the_contract() -> None:
    schema = create_app(Settings(DATABASE_URL="sqlite://")).openapi()
    assert "/metrics" not in schema["paths"]
