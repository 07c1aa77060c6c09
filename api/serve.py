"""Start the server and stop it: one worker or several, the same way.

- A port already served fails at once. Our workers' sockets have SO_REUSEPORT, which would let a
  second instance bind beside the first and take half its connections without a word; a plain
  bind (which any listener on the port refuses) is tried first. The port is held from the line
  "Heroes API on URL" on, while the app loads (`hold_port`).
- Several workers share a metrics directory, so one scrape shows them all (api/metrics.py).
- SIGTERM or SIGINT: stop accepting, let the requests in flight finish (up to the graceful
  timeout), then exit with status 0, with one worker or several. (uvicorn alone re-raises the
  signal with one worker, so it ends "killed by SIGTERM", and exits 0 with several.)
"""

import functools
import logging
import os
import shutil
import signal
import socket
import tempfile
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from api.bounds import WORKER_START_SECONDS
from api.config import METRICS_FILE, Settings
from api.logs import log_config
from api.main import create_app
from api.metrics import MULTIPROCESS_DIR
from api.workers import die_with_parent, serve_workers

log = logging.getLogger("uvicorn.error")


class PortInUse(Exception):
    pass


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    reload: bool
    log_level: str
    graceful_timeout: float


def _bound(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # SO_REUSEADDR only forgives connections of a stopped server still in TIME_WAIT: a
    # listening socket on the port still refuses the bind.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise PortInUse(
            f"{host}:{port} is already in use ({error.strerror}): another heroes-api, or "
            "another server, is listening there; stop it or choose another --port"
        ) from None
    return sock


def check_port_free(host: str, port: int) -> None:
    _bound(host, port, reuse_port=False).close()


def hold_port(host: str, port: int, workers: int) -> socket.socket:
    """The port, bound now and kept: from the line that says "Heroes API on" it is ours, though
    the app takes seconds to load before it serves.

    One worker serves on this very socket (listening: connections wait in its backlog). Several
    bind SO_REUSEPORT sockets of their own; the parent then holds the port with one more that
    is bound but never listens (nothing is routed to it), after a plain bind that any other
    listener refuses."""
    if workers == 1:
        sock = _bound(host, port, reuse_port=False)
        sock.listen(2048)
        return sock
    check_port_free(host, port)
    return _bound(host, port, reuse_port=True)


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(settings: Settings, options: ServeOptions) -> int:
    """Run until stopped; return the exit status."""
    if options.reload:  # the reloader binds in its own process
        check_port_free(options.host, options.port)
        return _serve_reloading(settings, options)
    # Again, though `heroes-api` checked before migrating: the port may have been taken since,
    # and the workers' SO_REUSEPORT sockets would then share it without a word.
    with hold_port(options.host, options.port, options.workers) as held:
        return _serve_holding(settings, options, held)


def _config(settings: Settings, options: ServeOptions) -> dict[str, Any]:
    config: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "log_level": options.log_level,
        "log_config": log_config(settings.log_format, options.log_level),
        # api/observability.py writes one line per request instead (with its id and route).
        "access_log": False,
        "server_header": False,
        # The client address that protected mode and rate limits see comes from X-Forwarded-For
        # only when the peer is one of these proxies.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_graceful_shutdown": options.graceful_timeout,
        # A new worker imports the whole app before it can answer the supervisor's first health
        # check: on a loaded machine past uvicorn's 5 s, which then kills and restarts it
        # forever (docs/decisions/0014-worker-start.md).
        "timeout_worker_healthcheck": WORKER_START_SECONDS,
    }
    return config


def _announce(options: ServeOptions) -> None:
    url = base_url(options.host, options.port)
    workers = f"{options.workers} workers" if options.workers > 1 else "1 worker"
    log.info("Heroes API on %s (docs: %s/docs), %s", url, url, workers)


def _serve_reloading(settings: Settings, options: ServeOptions) -> int:
    _announce(options)
    # The reloader builds the app afresh in a new process each time, from the environment
    # only: what heroes-api decided (--no-access-log, migrated already) must be there.
    os.environ["HEROES_ACCESS_LOG"] = str(settings.access_log).lower()
    os.environ["HEROES_MIGRATE_ON_STARTUP"] = str(settings.migrate_on_startup).lower()
    uvicorn.run("api.main:create_app", factory=True, reload=True, **_config(settings, options))
    return 0


def _serve_holding(settings: Settings, options: ServeOptions, held: socket.socket) -> int:
    _announce(options)
    config = _config(settings, options)
    # Every worker builds its app from these settings (pickled to it, as uvicorn does its
    # Config): none reads them again from an environment edited for it.
    if options.workers > 1:
        worker_app = functools.partial(_worker_app, settings, os.getpid())
        return _serve_workers(
            settings, uvicorn.Config(worker_app, factory=True, workers=options.workers, **config)
        )
    return _serve_one(
        uvicorn.Config(functools.partial(create_app, settings), factory=True, **config), held
    )


def _worker_app(settings: Settings, parent: int) -> Any:
    """A worker's app, in the worker: first made to die with its parent."""
    die_with_parent(parent)
    return create_app(settings)


def _serve_one(config: uvicorn.Config, listening: socket.socket) -> int:
    server = uvicorn.Server(config)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        # Until uvicorn installs its own handlers, and again when it re-raises the signal
        # after its graceful shutdown: asking it to stop replaces dying by the signal.
        server.should_exit = True

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
    server.run(sockets=[listening])
    return 0 if server.started else STARTUP_FAILURE


def _serve_workers(settings: Settings, config: uvicorn.Config) -> int:
    directory, made = _metrics_directory(settings)
    try:
        failed = serve_workers(config)
    finally:
        if made and directory:
            shutil.rmtree(directory, ignore_errors=True)
    return STARTUP_FAILURE if failed else 0


def _metrics_directory(settings: Settings) -> tuple[str | None, bool]:
    """The directory the workers' metrics share: the operator's (its metrics files of an
    earlier run removed, and nothing else: the settings refused a folder that holds anything
    else), or a new one."""
    if not settings.metrics:
        return None, False
    if settings.prometheus_multiproc_dir is not None:
        directory = settings.prometheus_multiproc_dir
        # prometheus-client's rule: files of an earlier run would be added to this one's.
        for stale in directory.iterdir():
            if METRICS_FILE.match(stale.name):
                stale.unlink(missing_ok=True)
        os.environ[MULTIPROCESS_DIR] = str(directory)
        return str(directory), False
    directory_made = tempfile.mkdtemp(prefix="heroes-metrics-")
    # Inherited by the worker processes, which read it when they import prometheus-client.
    os.environ[MULTIPROCESS_DIR] = directory_made
    return directory_made, True
