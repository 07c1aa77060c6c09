#!/usr/bin/env python3
"""A row into a dict, per row: dict(zip()) against the function api/heroes/queries.py writes
from the column names (docs/decisions/0005-one-declaration-per-field.md). Prints each one's cost
and its ratio to the written function, measured in the same run.

    .venv/bin/python scripts/benchmark/row_to_dict.py
"""

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.heroes.queries import _PUBLIC_NAMES, _row_to_dict

ROW = tuple(range(len(_PUBLIC_NAMES)))
CALLS = 200_000


def main() -> None:
    written = _row_to_dict(_PUBLIC_NAMES)
    ways = {
        "written function": lambda: written(ROW),
        "dict(zip())": lambda: dict(zip(_PUBLIC_NAMES, ROW, strict=False)),
        "dict(zip(strict=True))": lambda: dict(zip(_PUBLIC_NAMES, ROW, strict=True)),
    }
    costs = {
        name: min(timeit.repeat(way, number=CALLS, repeat=5)) / CALLS * 1e6
        for name, way in ways.items()
    }
    reference = costs["written function"]
    for name, cost in costs.items():
        print(f"{name:24} {cost:.3f} µs/row  {cost / reference:.2f} x the written function")


if __name__ == "__main__":
    main()
