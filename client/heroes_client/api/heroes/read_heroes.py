from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_message import ErrorMessage
from ...models.hero_public import HeroPublic
from ...models.http_validation_error import HTTPValidationError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["offset"] = offset

    params["limit"] = limit

    json_after_id: int | None | Unset
    if isinstance(after_id, Unset):
        json_after_id = UNSET
    else:
        json_after_id = after_id
    params["after_id"] = json_after_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/heroes/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | HTTPValidationError | list[HeroPublic] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = HeroPublic.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = ErrorMessage.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = ErrorMessage.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = HTTPValidationError.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorMessage.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = ErrorMessage.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorMessage | HTTPValidationError | list[HeroPublic]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
) -> Response[ErrorMessage | HTTPValidationError | list[HeroPublic]]:
    """Read Heroes

     List heroes in id order, a page at a time.

    Args:
        offset (int | Unset): Rows to skip. Default: 0.
        limit (int | Unset): Page size. Default: 100.
        after_id (int | None | Unset): Cursor: only heroes with a larger id. Pass the last id of
            the previous page to page through a large table at constant cost (`offset` re-reads every
            skipped row).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | HTTPValidationError | list[HeroPublic]]
    """

    kwargs = _get_kwargs(
        offset=offset,
        limit=limit,
        after_id=after_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | list[HeroPublic] | None:
    """Read Heroes

     List heroes in id order, a page at a time.

    Args:
        offset (int | Unset): Rows to skip. Default: 0.
        limit (int | Unset): Page size. Default: 100.
        after_id (int | None | Unset): Cursor: only heroes with a larger id. Pass the last id of
            the previous page to page through a large table at constant cost (`offset` re-reads every
            skipped row).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | HTTPValidationError | list[HeroPublic]
    """

    return sync_detailed(
        client=client,
        offset=offset,
        limit=limit,
        after_id=after_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
) -> Response[ErrorMessage | HTTPValidationError | list[HeroPublic]]:
    """Read Heroes

     List heroes in id order, a page at a time.

    Args:
        offset (int | Unset): Rows to skip. Default: 0.
        limit (int | Unset): Page size. Default: 100.
        after_id (int | None | Unset): Cursor: only heroes with a larger id. Pass the last id of
            the previous page to page through a large table at constant cost (`offset` re-reads every
            skipped row).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorMessage | HTTPValidationError | list[HeroPublic]]
    """

    kwargs = _get_kwargs(
        offset=offset,
        limit=limit,
        after_id=after_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | list[HeroPublic] | None:
    """Read Heroes

     List heroes in id order, a page at a time.

    Args:
        offset (int | Unset): Rows to skip. Default: 0.
        limit (int | Unset): Page size. Default: 100.
        after_id (int | None | Unset): Cursor: only heroes with a larger id. Pass the last id of
            the previous page to page through a large table at constant cost (`offset` re-reads every
            skipped row).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorMessage | HTTPValidationError | list[HeroPublic]
    """

    return (
        await asyncio_detailed(
            client=client,
            offset=offset,
            limit=limit,
            after_id=after_id,
        )
    ).parsed
