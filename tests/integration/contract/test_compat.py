"""The compatibility gate bites: planted changes, each on a copy of the app, judged by scripts/compat.

Each breaking change must turn the gate red, with a reason a reviewer can act on; each compatible
change (with the minor version bump it asks for) must leave it green; and a breaking change passes
once pyproject.toml declares a new major version.
"""

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.contract.plants import FIELDS, LAST_FIELD, TEAM, NewFile, Plant, copy_with

COMPAT = ROOT / "scripts" / "compat"
# Plants are judged against the latest release: the code must be that release's contract for a
# plant to be the only change (between a contract change and its release, these tests wait).
_RELEASED = sorted(tuple(map(int, p.name.split("."))) for p in (ROOT / "releases").iterdir())
MAJOR, MINOR, PATCH = _RELEASED[-1]
BASE = f"{MAJOR}.{MINOR}.{PATCH}"
NEXT_PATCH = f"{MAJOR}.{MINOR}.{PATCH + 1}"
NEXT_MINOR = f"{MAJOR}.{MINOR + 1}.0"
NEXT_MAJOR = f"{MAJOR + 1}.0.0"


PAGE_CAP_LOWERED = Plant("api/bounds.py", "PAGE_MAX = 100\n", "PAGE_MAX = 50\n")
NEW_REQUIRED_FIELD = Plant(
    FIELDS,
    LAST_FIELD,
    LAST_FIELD + '    HeroField("power", Text(NAME_MAX_LENGTH), public=False),\n',
)
NAME_NARROWED = Plant("api/bounds.py", "\nNAME_MAX_LENGTH = 100\n", "\nNAME_MAX_LENGTH = 50\n")
# DELETE leaves its path (its decorator's other arguments change too often to remove it whole).
DELETE_REMOVED = Plant(
    "api/heroes/routes.py",
    '@router.delete(\n    "/{hero_id}",\n',
    '@router.delete(\n    "/{hero_id}/moved-by-the-test",\n',
)
AGE_RENAMED = Plant(FIELDS, 'HeroField("age",', 'HeroField("years",')
CREATED_IS_201 = Plant(
    "api/heroes/routes.py",
    '@router.post(\n    "/",\n    response_model=HeroPublic,\n',
    '@router.post(\n    "/",\n    status_code=201,\n    response_model=HeroPublic,\n',
)
ID_NARROWED = Plant(
    "api/deps.py",
    "HeroId = Annotated[int, Path(ge=1, le=ID_MAX,",
    "HeroId = Annotated[int, Path(ge=1, le=2**31 - 1,",
)

NEW_OPERATION = Plant(
    "api/routes/health.py",
    "route_class=CheckedRoute,\n)\n",
    "route_class=CheckedRoute,\n)\n\n\n"
    '@router.get("/ping")\n@policy(OPEN)\nasync def ping() -> dict[str, str]:\n'
    '    return {"ping": "pong"}\n',
)
# Request-only: `name` is in responses too, and a longer name there breaks the old promise that
# names are at most 100 characters (the gate says so, statically and through Schemathesis).
PAGE_CAP_RAISED = Plant(
    "api/heroes/params.py",
    'Query(ge=1, le=PAGE_MAX, description="Page size.")',
    'Query(ge=1, le=200, description="Page size.")',
)


def _copy_with(tmp_path: Path, *plants: Plant | NewFile, version: str = BASE) -> Path:
    return copy_with(tmp_path, *plants, version=version)


# A plant's replay is a reduced run (the gate's own default is 20 examples per operation): the
# coverage phase's boundary values, which find every planted break, don't depend on it.
PLANT_EXAMPLES = "10"


def _compat(tmp_path: Path, root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    reports = str(tmp_path / "reports")
    return subprocess.run(
        [COMPAT, "--root", str(root), "--reports", reports, "--examples", PLANT_EXAMPLES, *options],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _verdict(output: str) -> str:
    return output.split("VERDICT:", 1)[1]


# docs/changing-the-api.md's worked example quotes the gate on these very changes.
GUIDE = ROOT / "docs" / "changing-the-api.md"
GUIDE_ADDITIVE = (
    "+ additive   [new-optional-request-parameter] GET /heroes/ query parameter `team`: "
    "new, optional"
)
GUIDE_BREAKING = (
    "✗ breaking   [request-parameter-max-decreased] GET /heroes/ query parameter `limit`: "
    "maximum 100 → 50"
)


def test_the_guide_tells_todays_story() -> None:
    guide = GUIDE.read_text()
    assert f"## An additive change: a hero's `team`, filtered ({BASE} → {NEXT_MINOR})" in guide
    assert f"VERDICT: BREAKING for callers of {BASE}" in guide
    assert GUIDE_ADDITIVE in guide
    assert GUIDE_BREAKING in guide


def test_the_committed_code_passes_the_gate() -> None:
    """What CI gates on: the code as committed, against the last release of its major version.
    Its JUnit report goes to reports/compat.xml, for the CI system to show."""
    result = subprocess.run(
        [COMPAT, "--reports", str(ROOT / "reports")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "VERDICT: compatible with" in output or "nothing to break" in output, output


# Each breaking plant with what the verdict must name for it. Plants share a gate run (~20 s of CI
# each) when no reason of one could come from the other: they touch other operations, and at most
# one of them breaks the released client's scenario (which stops at its first failure). The
# differ's rule tests (test_contract_diff.py) judge each kind of change on its own.
BREAKING = {
    "page-cap-lowered": (
        PAGE_CAP_LOWERED,
        [
            "[request-parameter-max-decreased] GET /heroes/ query parameter `limit`",
            "GET /heroes/: ST202 Schema-valid request rejected",
        ],
    ),
    "new-required-body-field": (
        NEW_REQUIRED_FIELD,
        [
            "[new-required-request-body-property] POST /heroes/ request body property `power`",
            "POST /heroes/: ST202 Schema-valid request rejected",
            "consumer scenario failed",
        ],
    ),
    "name-max-length-narrowed": (
        NAME_NARROWED,
        [
            "[request-body-max-length-decreased] POST /heroes/ request body property `name`: "
            "maxLength 100 → 50",
            "POST /heroes/: ST202 Schema-valid request rejected",
        ],
    ),
    "operation-removed": (
        DELETE_REMOVED,
        [
            "[api-removed] DELETE /heroes/{hero_id}",
            "DELETE /heroes/{hero_id}:",
            "consumer scenario failed",
        ],
    ),
    "response-property-renamed": (
        AGE_RENAMED,
        [
            "[response-property-removed] GET /heroes/{hero_id} response 200 property `age`",
            "consumer scenario failed",
        ],
    ),
    "documented-status-changed": (
        CREATED_IS_201,
        [
            "[response-success-status-added] POST /heroes/ response 201",
            "POST /heroes/: ST103 Undocumented status code: Received: 201",
        ],
    ),
    "id-type-narrowed": (
        ID_NARROWED,
        [
            "[request-parameter-max-decreased] GET /heroes/{hero_id} path parameter `hero_id`",
            "/{hero_id}: ST202 Schema-valid request rejected",
        ],
    ),
}
TOGETHER = [
    ["page-cap-lowered", "new-required-body-field"],  # GET /heroes/; POST (and the client)
    ["name-max-length-narrowed", "operation-removed"],  # POST; DELETE (and the client)
    ["id-type-narrowed", "response-property-renamed"],  # the id's bound; GET's body (the client)
    ["documented-status-changed"],  # a 201 breaks the client's first call: alone
]


def test_every_breaking_plant_is_judged() -> None:
    assert sorted(name for names in TOGETHER for name in names) == sorted(BREAKING)


@pytest.mark.parametrize("names", TOGETHER, ids=["+".join(names) for names in TOGETHER])
def test_breaking_change_turns_the_gate_red(tmp_path: Path, names: list[str]) -> None:
    plants = [BREAKING[name][0] for name in names]
    result = _compat(tmp_path, _copy_with(tmp_path, *plants))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    verdict = _verdict(output)
    if PAGE_CAP_LOWERED in plants:
        assert GUIDE_BREAKING in output  # what the guide quotes
    assert verdict.startswith(f" BREAKING for callers of {BASE}"), output
    for name in names:
        for reason in BREAKING[name][1]:
            assert reason in verdict, f"{name}: {reason!r} not named in the verdict:\n{verdict}"
    # The CI report names the same failures.
    assert 'failures="0"' not in (tmp_path / "reports" / "compat.xml").read_text()


def test_compatible_changes_with_a_minor_version_pass(tmp_path: Path) -> None:
    # Kinds of addition in one copy (one gate run, not four: each run costs ~35 s of CI): a new
    # field (docs/changing-the-api.md's team: a request property, a response property, a
    # filter), a new operation, a raised page cap. The differ's rule tests
    # (test_contract_diff.py) judge each kind on its own.
    plants: list[Plant | NewFile] = [*TEAM, NEW_OPERATION, PAGE_CAP_RAISED]
    result = _compat(tmp_path, _copy_with(tmp_path, *plants, version=NEXT_MINOR))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for seen in (
        "[new-optional-request-parameter] GET /heroes/ query parameter `team`",
        "[response-property-added] GET /heroes/{hero_id} response 200 property `team`",
        "[endpoint-added] GET /ping",
        "[request-parameter-max-increased] GET /heroes/ query parameter `limit`",
    ):
        assert seen in output, f"{seen!r} not reported:\n{output}"
    assert _verdict(output).startswith(f" compatible with {BASE}"), output


def test_widening_a_response_field_is_breaking(tmp_path: Path) -> None:
    plant = Plant("api/bounds.py", "\nNAME_MAX_LENGTH = 100\n", "\nNAME_MAX_LENGTH = 200\n")
    result = _compat(tmp_path, _copy_with(tmp_path, plant, version=NEXT_MINOR))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    verdict = _verdict(output)
    assert (
        "[response-max-length-increased] GET /heroes/{hero_id} response 200 property `name`"
        in verdict
    )
    assert "ST108 Response violates schema" in verdict


def test_compatible_change_under_the_released_number_is_not_versioned(tmp_path: Path) -> None:
    # Not "BREAKING", and the advice is the minor bump, not a new major version.
    # --static: the verdict on the version comes from the documents alone (no replay: ~30 s).
    result = _compat(tmp_path, _copy_with(tmp_path, *TEAM), "--static")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert GUIDE_ADDITIVE in output  # what the guide quotes
    verdict = _verdict(output)
    assert verdict.startswith(f" NOT VERSIONED: compatible with {BASE}"), output
    assert f"(additions) but pyproject.toml still says {BASE}: it needs {NEXT_MINOR}" in verdict
    assert f"Set `version` in pyproject.toml to {NEXT_MINOR}" in verdict
    assert "major" not in verdict


def test_compatible_change_in_a_patch_release_is_not_versioned(tmp_path: Path) -> None:
    result = _compat(tmp_path, _copy_with(tmp_path, NEW_OPERATION, version=NEXT_PATCH), "--static")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    verdict = _verdict(output)
    assert verdict.startswith(" NOT VERSIONED"), output
    assert f"need a new minor version: {NEXT_MINOR}, not {NEXT_PATCH}" in verdict


@pytest.mark.parametrize("plant", [PAGE_CAP_LOWERED, DELETE_REMOVED], ids=["page-cap", "delete"])
def test_breaking_change_passes_once_the_major_version_is_raised(
    tmp_path: Path, plant: Plant
) -> None:
    result = _compat(tmp_path, _copy_with(tmp_path, plant, version=NEXT_MAJOR))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "declares a new major version" in output
    # The reviewer still sees what breaks, against the last 1.x release.
    assert "✗ breaking" in output
