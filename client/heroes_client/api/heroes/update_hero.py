from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.hero_public import HeroPublic
from ...models.hero_update import HeroUpdate
from ...models.http_validation_error import HTTPValidationError
from ...models.server_error import ServerError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    hero_id: int,
    *,
    body: HeroUpdate,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["if-match"] = if_match

    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/heroes/{hero_id}".format(
            hero_id=quote(str(hero_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | HTTPValidationError | HeroPublic | ServerError | None:
    if response.status_code == 200:
        response_200 = HeroPublic.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorMessage.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorMessage.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorMessage.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorMessage.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorMessage.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = ErrorMessage.from_dict(response.json())

        return response_412

    if response.status_code == 413:
        response_413 = ErrorMessage.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorMessage.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorMessage.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ServerError.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorMessage.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorMessage | HTTPValidationError | HeroPublic | ServerError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    hero_id: int,
    *,
    client: AuthenticatedClient,
    body: HeroUpdate,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ErrorMessage | HTTPValidationError | HeroPublic | ServerError]:
    """Update Hero

     Change only the fields present in the body; `null` clears an optional one. With `If-Match`,
    only if the hero is still the version the caller read (else 412, nothing changes).

    Args:
        hero_id (int): The hero's id.
        if_match (None | str | Unset): Change the hero only if its ETag is one of these (strong
            comparison) or `*`; otherwise 412 and nothing changes.
        idempotency_key (None | str | Unset): Makes the write safe to retry: a repeat with the
            same key (a UUID is recommended) gets the first request's stored answer, marked
            `Idempotent-Replayed: true`, and changes nothing again. Scoped to the caller (its API
            key); kept for HEROES_IDEMPOTENCY_TTL (24 hours by default). The same key with a different
            request is a 422; while the first is still running, a 409.
        body (HeroUpdate): Only the fields present in the body change; `age: null` clears the age.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | HTTPValidationError | HeroPublic | ServerError]
    """

    kwargs = _get_kwargs(
        hero_id=hero_id,
        body=body,
        if_match=if_match,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    hero_id: int,
    *,
    client: AuthenticatedClient,
    body: HeroUpdate,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | HeroPublic | ServerError | None:
    """Update Hero

     Change only the fields present in the body; `null` clears an optional one. With `If-Match`,
    only if the hero is still the version the caller read (else 412, nothing changes).

    Args:
        hero_id (int): The hero's id.
        if_match (None | str | Unset): Change the hero only if its ETag is one of these (strong
            comparison) or `*`; otherwise 412 and nothing changes.
        idempotency_key (None | str | Unset): Makes the write safe to retry: a repeat with the
            same key (a UUID is recommended) gets the first request's stored answer, marked
            `Idempotent-Replayed: true`, and changes nothing again. Scoped to the caller (its API
            key); kept for HEROES_IDEMPOTENCY_TTL (24 hours by default). The same key with a different
            request is a 422; while the first is still running, a 409.
        body (HeroUpdate): Only the fields present in the body change; `age: null` clears the age.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | HTTPValidationError | HeroPublic | ServerError
    """

    return sync_detailed(
        hero_id=hero_id,
        client=client,
        body=body,
        if_match=if_match,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    hero_id: int,
    *,
    client: AuthenticatedClient,
    body: HeroUpdate,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ErrorMessage | HTTPValidationError | HeroPublic | ServerError]:
    """Update Hero

     Change only the fields present in the body; `null` clears an optional one. With `If-Match`,
    only if the hero is still the version the caller read (else 412, nothing changes).

    Args:
        hero_id (int): The hero's id.
        if_match (None | str | Unset): Change the hero only if its ETag is one of these (strong
            comparison) or `*`; otherwise 412 and nothing changes.
        idempotency_key (None | str | Unset): Makes the write safe to retry: a repeat with the
            same key (a UUID is recommended) gets the first request's stored answer, marked
            `Idempotent-Replayed: true`, and changes nothing again. Scoped to the caller (its API
            key); kept for HEROES_IDEMPOTENCY_TTL (24 hours by default). The same key with a different
            request is a 422; while the first is still running, a 409.
        body (HeroUpdate): Only the fields present in the body change; `age: null` clears the age.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | HTTPValidationError | HeroPublic | ServerError]
    """

    kwargs = _get_kwargs(
        hero_id=hero_id,
        body=body,
        if_match=if_match,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    hero_id: int,
    *,
    client: AuthenticatedClient,
    body: HeroUpdate,
    if_match: None | str | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | HeroPublic | ServerError | None:
    """Update Hero

     Change only the fields present in the body; `null` clears an optional one. With `If-Match`,
    only if the hero is still the version the caller read (else 412, nothing changes).

    Args:
        hero_id (int): The hero's id.
        if_match (None | str | Unset): Change the hero only if its ETag is one of these (strong
            comparison) or `*`; otherwise 412 and nothing changes.
        idempotency_key (None | str | Unset): Makes the write safe to retry: a repeat with the
            same key (a UUID is recommended) gets the first request's stored answer, marked
            `Idempotent-Replayed: true`, and changes nothing again. Scoped to the caller (its API
            key); kept for HEROES_IDEMPOTENCY_TTL (24 hours by default). The same key with a different
            request is a 422; while the first is still running, a 409.
        body (HeroUpdate): Only the fields present in the body change; `age: null` clears the age.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | HTTPValidationError | HeroPublic | ServerError
    """

    return (
        await asyncio_detailed(
            hero_id=hero_id,
            client=client,
            body=body,
            if_match=if_match,
            idempotency_key=idempotency_key,
        )
    ).parsed
