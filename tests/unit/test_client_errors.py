"""What the resource-style client raises, against a scripted server (httpx's MockTransport):
one class per documented status with its parsed body, headers, request id and Retry-After; no
answer wrapped as APIConnectionError / APITimeoutError; a 304 giving back the object named."""

import httpx
import pytest
from heroes_client import Heroes
from heroes_client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    NotModifiedError,
    ServiceUnavailableError,
    UnexpectedStatus,
)
from heroes_client.models import ErrorMessage, Health, HeroCreate

HERO = {"id": 7, "name": "Deadpond", "age": None}


def _client(handler: httpx.MockTransport) -> Heroes:
    return Heroes(
        "http://heroes.test", api_key="k", max_retries=0, httpx_args={"transport": handler}
    )


def _answering(status: int, body: object, **headers: str) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _: httpx.Response(status, json=body, headers=headers))


@pytest.mark.parametrize(("status", "cls"), [(401, AuthenticationError), (409, ConflictError)])
def test_a_documented_status_is_its_class_with_the_parsed_body(
    status: int, cls: type[APIStatusError]
) -> None:
    answer = _answering(status, {"detail": "no"}, **{"X-Request-ID": "r-1", "Retry-After": "3"})
    with pytest.raises(cls) as raised:
        _client(answer).heroes.create(body=HeroCreate(name="a", secret_name="b"))
    error = raised.value
    assert error.status_code == status
    assert error.body == ErrorMessage(detail="no")
    assert error.request_id == "r-1"
    assert error.retry_after == 3.0
    assert isinstance(error, UnexpectedStatus)  # what the function modules' callers catch


def test_a_503_of_health_parses_as_health() -> None:
    body = {
        "status": "unavailable",
        "database": "unreachable",
        "detail": "The database does not answer",
    }
    with pytest.raises(ServiceUnavailableError) as raised:
        _client(_answering(503, body, **{"Retry-After": "1"})).health()
    assert isinstance(raised.value.body, Health)
    assert raised.value.retry_after == 1.0


def test_an_undocumented_status_is_the_base_class() -> None:
    with pytest.raises(APIStatusError) as raised:
        _client(_answering(418, {"detail": "teapot"})).heroes.retrieve(7)
    assert type(raised.value) is APIStatusError
    assert raised.value.status_code == 418


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
    ],
)
def test_no_answer_is_wrapped(failure: Exception, cls: type[APIConnectionError]) -> None:
    def fail(_: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(cls):
        _client(httpx.MockTransport(fail)).heroes.retrieve(7)


def test_a_304_gives_back_the_object_named_else_says_not_modified() -> None:
    seen: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("if-none-match") == '"7.1"':
            return httpx.Response(304, headers={"ETag": '"7.1"'})
        return httpx.Response(200, json=HERO, headers={"ETag": '"7.1"'})

    client = _client(httpx.MockTransport(serve))
    hero = client.heroes.retrieve(7)
    assert hero.etag == '"7.1"'
    assert client.heroes.retrieve(7, if_none_match=hero) is hero
    with pytest.raises(NotModifiedError):
        client.heroes.retrieve(7, if_none_match='"7.1"')
    assert [request.headers.get("if-none-match") for request in seen] == [None, '"7.1"', '"7.1"']


def test_a_model_without_a_version_is_refused_as_if_match() -> None:
    client = _client(_answering(200, [HERO]))
    (listed,) = client.heroes.list()
    with pytest.raises(ValueError, match="no version"):
        client.heroes.delete(7, if_match=listed)
