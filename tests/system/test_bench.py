"""scripts/bench --quick, as a smoke test: every app serves every route under wrk, and ours
answers each with a 2xx. (It measures nothing that counts: the full run does, by hand.)"""

import subprocess
import sys

import pytest

from tests.conftest import ROOT, require_tool

pytestmark = pytest.mark.xdist_group("bench")


def test_the_quick_bench_runs_every_route_and_ours_answers_2xx() -> None:
    require_tool("wrk", "The benchmark's smoke run")
    result = subprocess.run(
        # 1 s per figure: enough to see every route serve (~20 s less CI than --quick's 2 s).
        [sys.executable, str(ROOT / "scripts" / "bench"), "--quick", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for route in ("GET one", "GET page", "POST", "PATCH", "DELETE"):
        assert f"| {route} |" in result.stdout, route
    assert "deep pages (100,000 heroes)" in result.stdout
