"""`heroes-api` run as an operator runs it, and what its one-line errors must look like."""

import os
import resource
import subprocess
import sys
from pathlib import Path

from _support import free_port

from tests.conftest import ROOT


class Ran(subprocess.CompletedProcess[str]):
    cpu_seconds: float  # the command's own CPU time (user and system): what load can't inflate


def heroes_api(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """`heroes-api ARGS`; a serve that names no port gets a free one, not 8000 (which a
    developer's own `scripts/serve` may hold)."""
    serves = not args or args[0] not in ("migrate", "keys", "--help")
    if serves and "--port" not in args:
        args = (*args, "--port", str(free_port()))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "api", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ran = Ran(done.args, done.returncode, done.stdout, done.stderr)
    ran.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ran


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], *expected: str, status: int = 1
) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("heroes-api: ")
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0]
    return lines[0]
