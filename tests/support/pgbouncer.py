"""PgBouncer as deploy/ runs it, on a free port: for the tests that put it in front of PostgreSQL."""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _support import free_port
from _topology import pgbouncer_command, wait_for_port
from sqlalchemy import URL


@contextmanager
def pgbouncer(admin: URL, pool_size: int, mode: str = "transaction") -> Iterator[int]:
    """deploy/pgbouncer.ini (what scripts/topology runs, in pool mode `mode`) on a free port;
    yields the port. Nothing in it is there for the service: PgBouncer's defaults otherwise."""
    run_dir = Path(tempfile.mkdtemp(prefix="heroes-pgbouncer-"))
    run_dir.chmod(0o777)  # PgBouncer runs as the postgres user
    port = free_port()
    command = pgbouncer_command(run_dir, admin, port, pool_size, mode)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(run_dir, ignore_errors=True)
