from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.hero_public import HeroPublic
from ...models.http_validation_error import HTTPValidationError
from ...models.server_error import ServerError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    hero_id: int,
    *,
    if_none_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["if-none-match"] = if_none_match

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/heroes/{hero_id}".format(
            hero_id=quote(str(hero_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError | None:
    if response.status_code == 200:
        response_200 = HeroPublic.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 401:
        response_401 = ErrorMessage.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorMessage.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = ErrorMessage.from_dict(response.json())

        return response_413

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
) -> Response[Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    hero_id: int,
    *,
    client: AuthenticatedClient | Client,
    if_none_match: None | str | Unset = UNSET,
) -> Response[Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError]:
    """Read Hero

     Read one hero. With `If-None-Match` naming its current ETag: 304, no body.

    Args:
        hero_id (int): The hero's id.
        if_none_match (None | str | Unset): 304 (no body) if the hero's ETag is one of these (weak
            comparison) or `*`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError]
    """

    kwargs = _get_kwargs(
        hero_id=hero_id,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    hero_id: int,
    *,
    client: AuthenticatedClient | Client,
    if_none_match: None | str | Unset = UNSET,
) -> Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError | None:
    """Read Hero

     Read one hero. With `If-None-Match` naming its current ETag: 304, no body.

    Args:
        hero_id (int): The hero's id.
        if_none_match (None | str | Unset): 304 (no body) if the hero's ETag is one of these (weak
            comparison) or `*`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError
    """

    return sync_detailed(
        hero_id=hero_id,
        client=client,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    hero_id: int,
    *,
    client: AuthenticatedClient | Client,
    if_none_match: None | str | Unset = UNSET,
) -> Response[Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError]:
    """Read Hero

     Read one hero. With `If-None-Match` naming its current ETag: 304, no body.

    Args:
        hero_id (int): The hero's id.
        if_none_match (None | str | Unset): 304 (no body) if the hero's ETag is one of these (weak
            comparison) or `*`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError]
    """

    kwargs = _get_kwargs(
        hero_id=hero_id,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    hero_id: int,
    *,
    client: AuthenticatedClient | Client,
    if_none_match: None | str | Unset = UNSET,
) -> Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError | None:
    """Read Hero

     Read one hero. With `If-None-Match` naming its current ETag: 304, no body.

    Args:
        hero_id (int): The hero's id.
        if_none_match (None | str | Unset): 304 (no body) if the hero's ETag is one of these (weak
            comparison) or `*`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorMessage | HTTPValidationError | HeroPublic | ServerError
    """

    return (
        await asyncio_detailed(
            hero_id=hero_id,
            client=client,
            if_none_match=if_none_match,
        )
    ).parsed
