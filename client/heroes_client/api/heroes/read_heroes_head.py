from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(prefer, Unset):
        headers["prefer"] = prefer

    params: dict[str, Any] = {}

    params["offset"] = offset

    params["limit"] = limit

    json_after_id: int | None | Unset
    if isinstance(after_id, Unset):
        json_after_id = UNSET
    else:
        json_after_id = after_id
    params["after_id"] = json_after_id

    json_name: None | str | Unset
    if isinstance(name, Unset):
        json_name = UNSET
    else:
        json_name = name
    params["name"] = json_name

    json_min_age: int | None | Unset
    if isinstance(min_age, Unset):
        json_min_age = UNSET
    else:
        json_min_age = min_age
    params["min_age"] = json_min_age

    json_max_age: int | None | Unset
    if isinstance(max_age, Unset):
        json_max_age = UNSET
    else:
        json_max_age = max_age
    params["max_age"] = json_max_age

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "head",
        "url": "/heroes/",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | None:
    if response.status_code == 200:
        return None

    if response.status_code == 401:
        return None

    if response.status_code == 413:
        return None

    if response.status_code == 422:
        return None

    if response.status_code == 429:
        return None

    if response.status_code == 500:
        return None

    if response.status_code == 503:
        return None

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any]:
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
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> Response[Any]:
    """Read Heroes (headers only)

     The GET's status and headers, without its body.

    Args:
        offset (int | Unset): Rows to skip. Default: 0.
        limit (int | Unset): Page size. Default: 100.
        after_id (int | None | Unset): Cursor: only heroes with a larger id. Pass the last id of
            the previous page to page through a large table at constant cost (`offset` re-reads every
            skipped row).
        name (None | str | Unset): Only heroes with exactly this name.
        min_age (int | None | Unset): Only heroes whose age is at least this.
        max_age (int | None | Unset): Only heroes whose age is at most this.
        prefer (None | str | Unset): `count=exact`: also count every hero matching the filters, in
            Content-Range.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any]
    """

    kwargs = _get_kwargs(
        offset=offset,
        limit=limit,
        after_id=after_id,
        name=name,
        min_age=min_age,
        max_age=max_age,
        prefer=prefer,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> Response[Any]:
    """Read Heroes (headers only)

     The GET's status and headers, without its body.

    Args:
        offset (int | Unset): Rows to skip. Default: 0.
        limit (int | Unset): Page size. Default: 100.
        after_id (int | None | Unset): Cursor: only heroes with a larger id. Pass the last id of
            the previous page to page through a large table at constant cost (`offset` re-reads every
            skipped row).
        name (None | str | Unset): Only heroes with exactly this name.
        min_age (int | None | Unset): Only heroes whose age is at least this.
        max_age (int | None | Unset): Only heroes whose age is at most this.
        prefer (None | str | Unset): `count=exact`: also count every hero matching the filters, in
            Content-Range.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any]
    """

    kwargs = _get_kwargs(
        offset=offset,
        limit=limit,
        after_id=after_id,
        name=name,
        min_age=min_age,
        max_age=max_age,
        prefer=prefer,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)
