"""Prometheus metrics: what every request did, and what the database pool is doing.

With several workers each is its own process, and a scrape lands on one of them. So that one
scrape shows every worker's counts, `heroes-api --workers N` gives the workers a shared
directory (PROMETHEUS_MULTIPROC_DIR) and prometheus-client's multiprocess mode adds the files
they write there. prometheus-client chooses its storage when it is first imported: that variable
must be set before this module is (api/cli.py sets it before any worker starts).

`/metrics` is not part of openapi.json: it is an operator's interface whose format is
Prometheus', its names are not something the generated client should call, and changing a
metric must not need a major version of the heroes contract.
"""

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder

from api.access import READ, CheckedRoute, policy
from api.db import Database

# The *_created series say when each counter was first used: noise on every scrape.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Fine buckets where the routes usually answer; the top ones catch a queue or a slow database.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter(
    "heroes_http_requests",
    "Requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "heroes_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=_BUCKETS,
)
SHED = Counter(
    "heroes_requests_shed",
    "Requests answered 503: the service was overloaded or its database unreachable.",
)
RATE_LIMITED = Counter("heroes_requests_rate_limited", "Requests answered 429 (a rate limit).")
UNAUTHORIZED = Counter(
    "heroes_requests_unauthorized", "Requests answered 401 (no key, or not a valid one)."
)
# livesum: the sum over the workers alive now (a worker that stops takes its share with it).
CONNECTIONS_IN_USE = Gauge(
    "heroes_db_connections_in_use",
    "Database connections checked out of the pools.",
    multiprocess_mode="livesum",
)

_BY_STATUS = {503: SHED, 429: RATE_LIMITED, 401: UNAUTHORIZED}
# Requests no route matched are counted under one label: a scanner's thousand paths must not
# become a thousand time series.
UNMATCHED = "<unmatched>"
# Status codes are few; their label strings are made once.
_STATUS_LABELS = {status: str(status) for status in range(100, 600)}


class RequestMetrics:
    """The label children of each route are looked up once, not on every request."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        children = self._children.get((route, method, status))
        if children is None:
            children = (
                REQUESTS.labels(route, method, _STATUS_LABELS.get(status, str(status))),
                LATENCY.labels(route, method),
            )
            self._children[(route, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)
        special = _BY_STATUS.get(status)
        if special is not None:
            special.inc()


def watch_connections(db: Database) -> None:
    """Count this worker's database connections in use."""
    db.watch_connections(CONNECTIONS_IN_USE.inc, CONNECTIONS_IN_USE.dec)


def worker_stopped() -> None:
    """Drop this worker's share of the live gauges (its counters stay in the totals)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


# Read like the heroes (a key when reads need one), and rate-limited as a read.
router = APIRouter(route_class=CheckedRoute)


@router.get("/metrics", include_in_schema=False)
@policy(READ)
def metrics(request: Request) -> Response:
    # A plain def: with several workers, collecting reads every worker's file from disk.
    # Prometheus asks for OpenMetrics in Accept; curl gets the classic text format.
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(_registry()), headers={"Content-Type": content_type})
