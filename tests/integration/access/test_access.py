"""Who may write: API keys, protected mode, reads, CORS; and that keys never leak."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from api.access import KEY_NEEDED, CheckedRoute, MissingPolicy, require_policies
from api.cli import main
from api.config import Settings, get_settings
from api.errors import PROTECTED_MODE
from api.keys import active_keys, hash_key, revoke_key
from api.main import create_app
from api.statements import DriverConnection, Statements
from tests.conftest import LOOPBACK, all_heroes, bearer, make_key

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson"}
REMOTE = ("203.0.113.7", 40000)  # TEST-NET-3: an address that is not this machine


def _seed(client: TestClient, key: str) -> int:
    response = client.post("/heroes/", json=HERO, headers=bearer(key))
    assert response.status_code == 200, response.text
    hero_id: int = response.json()["id"]
    return hero_id


def _writes(hero_id: int) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("POST", "/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp"}),
        ("PATCH", f"/heroes/{hero_id}", {"age": 99}),
        ("DELETE", f"/heroes/{hero_id}", None),
    ]


@pytest.fixture
def keyed(database_url: str, app: FastAPI) -> Iterator[tuple[TestClient, str, str]]:
    """A running app whose database holds a valid key and a revoked one."""
    key = make_key(database_url, "valid")
    revoked = make_key(database_url, "old")
    engine = create_engine(database_url)
    revoke_key(engine, "old")
    engine.dispose()
    with TestClient(app, client=REMOTE) as client:
        yield client, key, revoked


@pytest.mark.parametrize(
    ("case", "authorization", "challenge"),
    [
        ("no key", None, "Bearer"),
        ("malformed", "Bearer", "Bearer"),
        ("wrong scheme", "Basic dXNlcjpwYXNz", "Bearer"),
        ("unknown key", "Bearer heroes_not-a-key-anyone-made", 'Bearer error="invalid_token"'),
        ("revoked key", "REVOKED", 'Bearer error="invalid_token"'),
        ("huge header", "Bearer " + "x" * 5000, "Bearer"),
    ],
)
def test_a_write_without_a_valid_key_is_401_and_changes_nothing(
    keyed: tuple[TestClient, str, str],
    engine: Engine,
    case: str,
    authorization: str | None,
    challenge: str,
) -> None:
    client, key, revoked = keyed
    hero_id = _seed(client, key)
    before = all_heroes(engine)
    if authorization == "REVOKED":
        authorization = f"Bearer {revoked}"
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path, body in _writes(hero_id):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (case, method, response.text)
        assert response.headers["www-authenticate"] == challenge
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"detail"}
    assert all_heroes(engine) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/heroes/", b"{not json"),
        ("POST", "/heroes/", b'{"name": 7}'),
        ("PATCH", "/heroes/1", b"{not json"),
        ("PATCH", "/heroes/0", b'{"age": "old"}'),
        ("DELETE", "/heroes/not-an-id", None),
    ],
)
def test_a_refused_writer_learns_nothing_about_their_request(
    keyed: tuple[TestClient, str, str], method: str, path: str, body: bytes | None
) -> None:
    """The caller is checked before the body or the parameters are read: a 401, not a 422 that
    would describe what the request got wrong."""
    client, _, _ = keyed
    headers = {"Content-Type": "application/json"}
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert set(response.json()) == {"detail"}


def test_every_write_with_a_valid_key_succeeds(keyed: tuple[TestClient, str, str]) -> None:
    client, key, _ = keyed
    hero_id = _seed(client, key)
    for method, path, body in _writes(hero_id):
        response = client.request(method, path, json=body, headers=bearer(key))
        assert response.status_code == 200, (method, response.text)


def test_a_key_made_while_the_service_runs_works_at_once(
    database_url: str, app: FastAPI, engine: Engine
) -> None:
    """The README's walkthrough makes a key and writes with it the next moment: an unknown key
    makes the worker re-read the keys before it refuses (the periodic refresh is seconds away)."""
    with TestClient(app, client=REMOTE) as client:
        first = make_key(database_url, "first")  # the service was in protected mode
        assert client.post("/heroes/", json=HERO, headers=bearer(first)).status_code == 200
        second = make_key(database_url, "second")
        assert client.get("/heroes/", headers=bearer(second)).status_code == 200
        refused = client.post("/heroes/", json=HERO, headers=bearer("heroes_never-made"))
        assert refused.status_code == 401
    assert len(all_heroes(engine)) == 1


def test_a_key_is_needed_from_loopback_too_once_one_exists(
    keyed: tuple[TestClient, str, str], app: FastAPI
) -> None:
    with TestClient(app, client=LOOPBACK) as local:
        assert local.post("/heroes/", json=HERO).status_code == 401


def test_reads_are_public_but_a_bad_key_is_still_refused(
    keyed: tuple[TestClient, str, str],
) -> None:
    client, key, revoked = keyed
    hero_id = _seed(client, key)
    assert client.get(f"/heroes/{hero_id}").status_code == 200
    assert client.get("/heroes/").status_code == 200
    assert client.get("/heroes/", headers=bearer(key)).status_code == 200
    refused = client.get("/heroes/", headers=bearer(revoked))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_reads_need_a_key_when_the_setting_says_so(database_url: str) -> None:
    key = make_key(database_url)
    app = create_app(Settings(DATABASE_URL=database_url, public_reads=False))
    with TestClient(app, client=REMOTE) as client:
        assert client.get("/heroes/").status_code == 401
        assert client.get("/heroes/", headers=bearer(key)).status_code == 200
        served = client.get("/openapi.json").json()["paths"]["/heroes/"]["get"]
        assert served["security"] == [{"ApiKey": []}]


# --- protected mode: no key exists -----------------------------------------------------------


def test_protected_mode_accepts_writes_from_this_machine(app: FastAPI, engine: Engine) -> None:
    with TestClient(app, client=LOOPBACK) as client:
        hero = client.post("/heroes/", json=HERO)
        assert hero.status_code == 200
        hero_id = hero.json()["id"]
        assert client.patch(f"/heroes/{hero_id}", json={"age": 3}).status_code == 200
        assert client.delete(f"/heroes/{hero_id}").status_code == 200


@pytest.mark.parametrize(
    ("peer", "headers"),
    [
        pytest.param(REMOTE, {}, id="remote-client"),
        pytest.param(LOOPBACK, {"X-Forwarded-For": "198.51.100.4"}, id="relayed-x-forwarded-for"),
        pytest.param(LOOPBACK, {"Forwarded": "for=198.51.100.4"}, id="relayed-forwarded"),
        pytest.param(LOOPBACK, {"X-Real-IP": "198.51.100.4"}, id="relayed-x-real-ip"),
        pytest.param(LOOPBACK, {"X-Forwarded-For": "127.0.0.1"}, id="relayed-claiming-loopback"),
    ],
)
def test_protected_mode_refuses_writes_from_elsewhere(
    app: FastAPI, engine: Engine, peer: tuple[str, int], headers: dict[str, str]
) -> None:
    with TestClient(app, client=peer) as client:
        for method, path, body in _writes(1):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, response.text)
            assert response.json() == {"detail": PROTECTED_MODE}
            assert "heroes-api keys create" in response.json()["detail"]
        assert client.get("/heroes/", headers=headers).status_code == 200  # reads stay public
    assert all_heroes(engine) == []


def test_start_up_log_says_which_mode_it_is_in(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with TestClient(create_app(Settings(DATABASE_URL=database_url))):
        pass
    assert "PROTECTED MODE, no API key exists" in caplog.text
    caplog.clear()
    make_key(database_url)
    with TestClient(create_app(Settings(DATABASE_URL=database_url))):
        pass
    assert "access: 1 API key(s); every write needs one" in caplog.text


# --- secrets -------------------------------------------------------------------------------


def test_keys_never_appear_in_responses_or_logs(
    keyed: tuple[TestClient, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, key, revoked = keyed
    hero_id = _seed(client, key)
    bodies = []
    for presented in (key, revoked, key + "x"):
        for method, path, body in [*_writes(hero_id), ("GET", "/heroes/", None)]:
            response = client.request(method, path, json=body, headers=bearer(presented))
            bodies.append(response.text + str(response.headers))
    bodies.append(client.get("/openapi.json").text)
    for secret in (key, revoked, hash_key(key), hash_key(revoked)):
        assert not any(secret in text for text in bodies)
        assert secret not in caplog.text


# --- browsers -------------------------------------------------------------------------------

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def test_cors_preflight_from_an_allowed_origin_succeeds(database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, cors_origins=["https://app.example"])
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        response = client.options(
            "/heroes/", headers={"Origin": "https://app.example", **PREFLIGHT}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        assert "authorization" in response.headers["access-control-allow-headers"].lower()
        assert "POST" in response.headers["access-control-allow-methods"]
        page = client.get("/heroes/", headers={"Origin": "https://app.example"})
        assert page.headers["access-control-allow-origin"] == "https://app.example"


def test_cors_preflight_from_another_origin_is_refused_in_json(database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, cors_origins=["https://app.example"])
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        response = client.options(
            "/heroes/", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json"
        assert "access-control-allow-origin" not in response.headers
        assert "Disallowed CORS origin" in response.json()["detail"]
        page = client.get("/heroes/", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in page.headers


def test_without_an_allowlist_no_origin_is_allowed(client: TestClient) -> None:
    response = client.options("/heroes/", headers={"Origin": "https://app.example", **PREFLIGHT})
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


# --- over a real socket, through uvicorn's proxy-header handling ------------------------------


def test_protected_mode_over_a_socket_tells_local_from_relayed(live_server: str) -> None:
    local = httpx.post(f"{live_server}/heroes/", json=HERO)
    assert local.status_code == 200
    relayed = httpx.post(
        f"{live_server}/heroes/", json=HERO, headers={"X-Forwarded-For": "198.51.100.4"}
    )
    assert relayed.status_code == 403
    assert relayed.json() == {"detail": PROTECTED_MODE}


# --- the command line ----------------------------------------------------------------------


@dataclass
class Said:
    returncode: int
    stdout: str
    stderr: str


Keys = Callable[..., Said]


@pytest.fixture
def keys_command(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Keys:
    """`heroes-api keys ARGS` on `database_url`, run in this process (a child process each took
    ~2 s of CI; test_documented_commands runs the real command). Its logging set-up is left out:
    this process's logging belongs to pytest."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("api.logs.configure", lambda *_args, **_kwargs: None)

    def run(*args: str) -> Said:
        get_settings.cache_clear()
        code, message = 0, ""
        try:
            main(["keys", *args])
        except SystemExit as stopped:  # sys.exit("heroes-api: …") prints its message, status 1
            code, message = (
                (stopped.code, "") if isinstance(stopped.code, int) else (1, str(stopped.code))
            )
        finally:
            get_settings.cache_clear()
        out, err = capsys.readouterr()
        return Said(code, out, err + message)

    return run


def test_keys_command_creates_lists_and_revokes(keys_command: Keys, engine: Engine) -> None:
    created = keys_command("create", "ci-deploy")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("heroes_")
    assert len(key) > 40
    assert active_keys_by_name(engine) == {"ci-deploy": hash_key(key)}

    listed = keys_command("list")
    assert listed.returncode == 0
    assert "ci-deploy" in listed.stdout
    assert "active" in listed.stdout
    assert key not in listed.stdout
    assert hash_key(key) not in listed.stdout

    assert keys_command("revoke", "ci-deploy").returncode == 0
    assert active_keys_by_name(engine) == {}
    assert "revoked" in keys_command("list").stdout

    again = keys_command("create", "ci-deploy")
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert keys_command("revoke", "nobody").returncode == 1
    assert keys_command("create", "bad name!").returncode == 1


def active_keys_by_name(engine: Engine) -> dict[str, str]:
    connection = engine.raw_connection()
    try:
        driver = DriverConnection(connection.dbapi_connection, Statements(engine.dialect))
        return {name: key_hash for key_hash, name in active_keys(driver).items()}
    finally:
        connection.close()


def test_a_route_without_a_policy_cannot_be_declared() -> None:
    router = APIRouter(route_class=CheckedRoute)

    async def unguarded() -> None:
        pass

    with pytest.raises(MissingPolicy, match="declares no access policy"):
        router.add_api_route("/unguarded", unguarded, methods=["POST"])


def test_an_app_with_an_unchecked_route_does_not_start(settings: Settings) -> None:
    app = create_app(settings)

    async def unguarded() -> None:
        pass

    app.router.add_api_route("/unguarded", unguarded, methods=["POST"])  # a plain APIRoute
    with pytest.raises(MissingPolicy, match="is not a CheckedRoute"):
        require_policies(app)


@pytest.mark.parametrize("public_reads", [True, False])
def test_each_operations_security_is_its_routes_policy(
    database_url: str, public_reads: bool
) -> None:
    app = create_app(Settings(DATABASE_URL=database_url, public_reads=public_reads))
    paths = app.openapi()["paths"]
    checked = [route for route in app.routes if isinstance(route, CheckedRoute)]
    assert checked
    for route in checked:
        if not route.include_in_schema:
            continue
        expected = KEY_NEEDED if route.policy.read and not public_reads else route.policy.security
        for method in route.methods or set():
            assert paths[route.path][method.lower()]["security"] == expected, (route.path, method)
