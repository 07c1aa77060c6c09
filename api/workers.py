"""Several uvicorn workers, each with its own listening socket (SO_REUSEPORT), living and
dying with their parent.

uvicorn's workers share one listening socket, and whichever is least busy at that instant
accepts the next connection, so long-lived keep-alive clients pile onto one worker. With a
socket per worker the kernel spreads connections evenly by hash
(docs/decisions/0008-socket-per-worker.md). uvicorn's own supervisor still starts,
watches and restarts the workers; it only hands each one a fresh socket.
"""

import contextlib
import ctypes
import logging
import os
import pickle
import signal
import socket
import time
from types import FrameType
from typing import Any

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# How often a health check that has no answer yet looks whether the worker is gone.
_PING_SLICE_SECONDS = 0.1
logger = logging.getLogger("uvicorn.error")


def die_with_parent(parent: int) -> None:
    """In a worker: be sent SIGTERM when the parent dies, whatever kills it (SIGKILL too), and
    stop now if it is already gone (it may have died before this ran)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's stop still reaches it
        pass
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ReusePortMultiprocess(Multiprocess):
    """uvicorn's supervisor, stopping promptly: a stop signal is passed to every worker at once
    (uvicorn's own loop notices it only between health checks, which wait up to a minute on a
    worker still starting), and a worker still running past the graceful timeout (and half a
    second) is killed."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self._kill_at: float | None = None
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, self._stop)

    def _stop(self, _signal: int, _frame: FrameType | None) -> None:
        # The deadline runs from the signal, not from when the loop gets to join_all (it may
        # be waiting on a worker's health check): the whole stop stays within graceful + 2 s.
        if not self.should_exit.is_set():
            self._kill_at = time.monotonic() + self._grace()
        self.should_exit.set()
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)

    def _grace(self) -> float:
        # Half a second past the graceful timeout: a worker still running then is killed,
        # which leaves 1.5 s of the bound for the kill and the parent's own exit.
        return (self.config.timeout_graceful_shutdown or 0) + 0.5

    def join_all(self) -> None:
        deadline = self._kill_at or time.monotonic() + self._grace()
        for process in self.processes:
            process.process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.process.exitcode is None:
                process.kill()
                process.process.join()

    def keep_subprocess_alive(self) -> None:
        """uvicorn's, but for how it asks a worker whether it lives (`_answers`)."""
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if self._answers(process):
                continue
            process.kill()  # hung, or gone: replaced, unless it could not start at all
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error("Child process [%s] failed to start, stopping.", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("Child process [%s] died", process.pid)
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[index] = replacement

    def _answers(self, process: Process) -> bool:
        """Whether the worker answers a health check within the configured time. uvicorn waits
        out the whole time in one call; but a worker that dies while starting never answers,
        and the supervisor holds the pipe's other end, so no EOF comes either: a stop signalled
        meanwhile would wait for it. Asked in slices, the wait ends as soon as the worker is
        gone or a stop has begun (join_all then decides)."""
        deadline = time.monotonic() + self.config.timeout_worker_healthcheck
        try:
            process.parent_conn.send(b"ping")
            while not process.parent_conn.poll(_PING_SLICE_SECONDS):
                if self.should_exit.is_set():
                    return True
                if not process.process.is_alive() or time.monotonic() > deadline:
                    return False
            process.parent_conn.recv()
        except (OSError, EOFError, pickle.UnpicklingError):
            return False
        return True

    # Multiprocess reads self.sockets each time it starts a worker process.
    @property
    def sockets(self) -> list[socket.socket]:
        return [reuse_port_socket(self.config.host, self.config.port)]

    @sockets.setter
    def sockets(self, _value: Any) -> None:
        pass


def serve_workers(config: Config) -> bool:
    """Run until stopped; True if a worker failed to start (uvicorn then stops them all)."""
    supervisor = ReusePortMultiprocess(config, sockets=[])
    supervisor.run()
    return any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
