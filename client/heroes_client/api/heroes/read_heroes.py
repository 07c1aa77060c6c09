from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client, answer, next_page_kwargs
from ...models.error_message import ErrorMessage
from ...models.hero_public import HeroPublic
from ...models.http_validation_error import HTTPValidationError
from ...models.server_error import ServerError
from ...types import UNSET, Response, Unset, linked


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
        "method": "get",
        "url": "/heroes/",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic] | None:
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
) -> Response[ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]]:
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
) -> Response[ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]]:
    """Read Heroes

     List heroes in id order, a page at a time, optionally filtered (the query parameters).

    A full page carries `Link: <…>; rel="next"`, the next page's URL (`after_id`, filters kept).
    With `Prefer: count=exact`, `Content-Range` gives the number of matching heroes.

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
        Response[ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]]
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


def sync(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic] | None:
    """Read Heroes

     List heroes in id order, a page at a time, optionally filtered (the query parameters).

    A full page carries `Link: <…>; rel="next"`, the next page's URL (`after_id`, filters kept).
    With `Prefer: count=exact`, `Content-Range` gives the number of matching heroes.

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
        ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]
    """

    return sync_detailed(
        client=client,
        offset=offset,
        limit=limit,
        after_id=after_id,
        name=name,
        min_age=min_age,
        max_age=max_age,
        prefer=prefer,
    ).parsed


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
) -> Response[ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]]:
    """Read Heroes

     List heroes in id order, a page at a time, optionally filtered (the query parameters).

    A full page carries `Link: <…>; rel="next"`, the next page's URL (`after_id`, filters kept).
    With `Prefer: count=exact`, `Content-Range` gives the number of matching heroes.

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
        Response[ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]]
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


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    after_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic] | None:
    """Read Heroes

     List heroes in id order, a page at a time, optionally filtered (the query parameters).

    A full page carries `Link: <…>; rel="next"`, the next page's URL (`after_id`, filters kept).
    With `Prefer: count=exact`, `Content-Range` gives the number of matching heroes.

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
        ErrorMessage | HTTPValidationError | ServerError | list[HeroPublic]
    """

    return (
        await asyncio_detailed(
            client=client,
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )
    ).parsed


def sync_all(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> Iterator[HeroPublic]:
    """Every item, in order, a page at a time: each page after the first is the one its
    predecessor's Link names (rel="next", which sets `after_id`), so that a deep list
    costs the same per page.

    Raises:
        errors.APIStatusError: a page was not a success (a subclass of errors.UnexpectedStatus).
    """
    kwargs = _get_kwargs(
        offset=offset,
        limit=limit,
        name=name,
        min_age=min_age,
        max_age=max_age,
        prefer=prefer,
    )
    while True:
        response = client.get_httpx_client().request(**kwargs)
        page = answer(response, _parse_response(client=client, response=response))
        yield from page.parsed
        following = linked(response.headers, "next")
        if following is None:
            return
        kwargs = next_page_kwargs(kwargs, following, "after_id")


async def asyncio_all(
    *,
    client: AuthenticatedClient | Client,
    offset: int | Unset = 0,
    limit: int | Unset = 100,
    name: None | str | Unset = UNSET,
    min_age: int | None | Unset = UNSET,
    max_age: int | None | Unset = UNSET,
    prefer: None | str | Unset = UNSET,
) -> AsyncIterator[HeroPublic]:
    """`sync_all`, for asyncio: `async for item in asyncio_all(client=client)`."""
    kwargs = _get_kwargs(
        offset=offset,
        limit=limit,
        name=name,
        min_age=min_age,
        max_age=max_age,
        prefer=prefer,
    )
    while True:
        response = await client.get_async_httpx_client().request(**kwargs)
        page = answer(response, _parse_response(client=client, response=response))
        for found in page.parsed:
            yield found
        following = linked(response.headers, "next")
        if following is None:
            return
        kwargs = next_page_kwargs(kwargs, following, "after_id")
