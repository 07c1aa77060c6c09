"""A client library for accessing Heroes API

from heroes_client import Heroes

client = Heroes("http://127.0.0.1:8000", api_key="...")  # or $HEROES_API_KEY
"""

import builtins
import os
from typing import Any

import httpx

from .api.health import health as _health_health
from .api.health import health_head as _health_health_head
from .api.heroes import create_hero as _heroes_create_hero
from .api.heroes import delete_hero as _heroes_delete_hero
from .api.heroes import read_hero as _heroes_read_hero
from .api.heroes import read_hero_head as _heroes_read_hero_head
from .api.heroes import read_heroes as _heroes_read_heroes
from .api.heroes import read_heroes_head as _heroes_read_heroes_head
from .api.heroes import update_hero as _heroes_update_hero
from .client import NOT_GIVEN, AuthenticatedClient, Client, NotGiven, Timeout, answer, asend, next_page_kwargs, send
from .models.deleted import Deleted
from .models.error_message import ErrorMessage
from .models.health import Health
from .models.hero_create import HeroCreate
from .models.hero_public import HeroPublic
from .models.hero_update import HeroUpdate
from .models.http_validation_error import HTTPValidationError
from .models.server_error import ServerError
from .types import UNSET, AsyncPager, RawResponse, SyncPager, Unset, Versioned, version_of


class HeroesResourceWithRawResponse:
    """The heroes operations, each returning the whole answer (RawResponse)."""

    def __init__(self, client: AuthenticatedClient | Client) -> None:
        self._client = client

    def list(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        after_id: int | None | Unset = UNSET,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[builtins.list[HeroPublic]]:
        """Read Heroes"""
        kwargs = _heroes_read_heroes._get_kwargs(
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_heroes._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    def create(
        self,
        *,
        body: HeroCreate,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[HeroPublic]:
        """Create Hero"""
        kwargs = _heroes_create_hero._get_kwargs(
            body=body,
            idempotency_key=idempotency_key,
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_create_hero._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    def list_head(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        after_id: int | None | Unset = UNSET,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Heroes (headers only)"""
        kwargs = _heroes_read_heroes_head._get_kwargs(
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_heroes_head._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    def retrieve(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | HeroPublic | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[HeroPublic]:
        """Read Hero"""
        kwargs = _heroes_read_hero._get_kwargs(
            hero_id=hero_id,
            if_none_match=version_of(if_none_match),
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_hero._build_response(client=self._client, response=response).parsed
        return answer(
            response,
            parsed,
            None if if_none_match is None or isinstance(if_none_match, (str, Unset)) else if_none_match,
        )

    def delete(
        self,
        hero_id: int,
        *,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[Deleted]:
        """Delete Hero"""
        kwargs = _heroes_delete_hero._get_kwargs(
            hero_id=hero_id,
            if_match=version_of(if_match),
            idempotency_key=idempotency_key,
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_delete_hero._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    def retrieve_head(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | None | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Hero (headers only)"""
        kwargs = _heroes_read_hero_head._get_kwargs(
            hero_id=hero_id,
            if_none_match=version_of(if_none_match),
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_hero_head._build_response(client=self._client, response=response).parsed
        return answer(
            response,
            parsed,
            None if if_none_match is None or isinstance(if_none_match, (str, Unset)) else if_none_match,
        )

    def update(
        self,
        hero_id: int,
        *,
        body: HeroUpdate,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[HeroPublic]:
        """Update Hero"""
        kwargs = _heroes_update_hero._get_kwargs(
            hero_id=hero_id,
            body=body,
            if_match=version_of(if_match),
            idempotency_key=idempotency_key,
        )
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_update_hero._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)


class HeroesResource:
    """The heroes operations. `.with_raw_response` has them returning the whole answer."""

    def __init__(self, client: AuthenticatedClient | Client) -> None:
        self._client = client
        self.with_raw_response = HeroesResourceWithRawResponse(client)

    def list(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> SyncPager[HeroPublic]:
        """Read Heroes: every item, fetched a page at a time (for item in ...)."""
        kwargs = _heroes_read_heroes._get_kwargs(
            offset=offset,
            limit=limit,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )

        def page(kwargs: dict[str, Any]) -> RawResponse[builtins.list[HeroPublic]]:
            response = send(self._client, kwargs, timeout, max_retries)
            parsed = _heroes_read_heroes._build_response(client=self._client, response=response).parsed
            return answer(response, parsed)

        return SyncPager(
            lambda: page(kwargs),
            lambda url: page(next_page_kwargs(kwargs, url, "after_id")),
            "next",
            "Content-Range",
        )

    def create(
        self,
        *,
        body: HeroCreate,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> HeroPublic:
        """Create Hero"""
        raw = self.with_raw_response.create(
            body=body,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    def list_head(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        after_id: int | None | Unset = UNSET,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Heroes (headers only)"""
        raw = self.with_raw_response.list_head(
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw

    def retrieve(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | HeroPublic | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> HeroPublic:
        """Read Hero"""
        raw = self.with_raw_response.retrieve(
            hero_id,
            if_none_match=if_none_match,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    def delete(
        self,
        hero_id: int,
        *,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Deleted:
        """Delete Hero"""
        raw = self.with_raw_response.delete(
            hero_id,
            if_match=if_match,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    def retrieve_head(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | None | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Hero (headers only)"""
        raw = self.with_raw_response.retrieve_head(
            hero_id,
            if_none_match=if_none_match,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw

    def update(
        self,
        hero_id: int,
        *,
        body: HeroUpdate,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> HeroPublic:
        """Update Hero"""
        raw = self.with_raw_response.update(
            hero_id,
            body=body,
            if_match=if_match,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed


class _HeroesWithRawResponse:
    """The client's own operations and resources, each returning the whole answer."""

    def __init__(self, client: AuthenticatedClient | Client) -> None:
        self._client = client
        self.heroes = HeroesResourceWithRawResponse(client)

    def health(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[Health]:
        """Health"""
        kwargs = _health_health._get_kwargs()
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _health_health._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    def health_head(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Health (headers only)"""
        kwargs = _health_health_head._get_kwargs()
        response = send(self._client, kwargs, timeout, max_retries)
        parsed = _health_health_head._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)


class Heroes:
    """A client of the Heroes API: its operations grouped as resources
    (`client.heroes`), each returning its model and raising
    errors.APIError's classes.

    `api_key` defaults to $HEROES_API_KEY; without one, only the operations open to all work.
    `timeout` (seconds, or an httpx.Timeout) and `max_retries` apply to every call unless the call
    names its own; retries wait with backoff and honour Retry-After, and every write carries an
    Idempotency-Key, the same across its retries (`idempotency_keys=False` turns that off).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = 60.0,
        max_retries: int = 2,
        idempotency_keys: bool = True,
        headers: dict[str, str] | None = None,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("HEROES_API_KEY")
        options: dict[str, Any] = {
            "base_url": base_url,
            "timeout": timeout if isinstance(timeout, httpx.Timeout) or timeout is None else httpx.Timeout(timeout),
            "max_retries": max_retries,
            "idempotency_keys": idempotency_keys,
            "headers": dict(headers or {}),
            "httpx_args": dict(httpx_args or {}),
        }
        self._client: AuthenticatedClient | Client = (
            AuthenticatedClient(token=key, **options) if key else Client(**options)
        )
        self.with_raw_response = _HeroesWithRawResponse(self._client)
        self.heroes = HeroesResource(self._client)

    def close(self) -> None:
        """Close the client's connections."""
        self._client.get_httpx_client().close()

    def __enter__(self) -> "Heroes":
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def health(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Health:
        """Health"""
        raw = self.with_raw_response.health(
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    def health_head(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Health (headers only)"""
        raw = self.with_raw_response.health_head(
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw


class AsyncHeroesResourceWithRawResponse:
    """The heroes operations, each returning the whole answer (RawResponse)."""

    def __init__(self, client: AuthenticatedClient | Client) -> None:
        self._client = client

    async def list(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        after_id: int | None | Unset = UNSET,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[builtins.list[HeroPublic]]:
        """Read Heroes"""
        kwargs = _heroes_read_heroes._get_kwargs(
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_heroes._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    async def create(
        self,
        *,
        body: HeroCreate,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[HeroPublic]:
        """Create Hero"""
        kwargs = _heroes_create_hero._get_kwargs(
            body=body,
            idempotency_key=idempotency_key,
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_create_hero._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    async def list_head(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        after_id: int | None | Unset = UNSET,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Heroes (headers only)"""
        kwargs = _heroes_read_heroes_head._get_kwargs(
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_heroes_head._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    async def retrieve(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | HeroPublic | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[HeroPublic]:
        """Read Hero"""
        kwargs = _heroes_read_hero._get_kwargs(
            hero_id=hero_id,
            if_none_match=version_of(if_none_match),
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_hero._build_response(client=self._client, response=response).parsed
        return answer(
            response,
            parsed,
            None if if_none_match is None or isinstance(if_none_match, (str, Unset)) else if_none_match,
        )

    async def delete(
        self,
        hero_id: int,
        *,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[Deleted]:
        """Delete Hero"""
        kwargs = _heroes_delete_hero._get_kwargs(
            hero_id=hero_id,
            if_match=version_of(if_match),
            idempotency_key=idempotency_key,
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_delete_hero._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    async def retrieve_head(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | None | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Hero (headers only)"""
        kwargs = _heroes_read_hero_head._get_kwargs(
            hero_id=hero_id,
            if_none_match=version_of(if_none_match),
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_read_hero_head._build_response(client=self._client, response=response).parsed
        return answer(
            response,
            parsed,
            None if if_none_match is None or isinstance(if_none_match, (str, Unset)) else if_none_match,
        )

    async def update(
        self,
        hero_id: int,
        *,
        body: HeroUpdate,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[HeroPublic]:
        """Update Hero"""
        kwargs = _heroes_update_hero._get_kwargs(
            hero_id=hero_id,
            body=body,
            if_match=version_of(if_match),
            idempotency_key=idempotency_key,
        )
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _heroes_update_hero._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)


class AsyncHeroesResource:
    """The heroes operations. `.with_raw_response` has them returning the whole answer."""

    def __init__(self, client: AuthenticatedClient | Client) -> None:
        self._client = client
        self.with_raw_response = AsyncHeroesResourceWithRawResponse(client)

    def list(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> AsyncPager[HeroPublic]:
        """Read Heroes: every item, fetched a page at a time (async for item in ...)."""
        kwargs = _heroes_read_heroes._get_kwargs(
            offset=offset,
            limit=limit,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
        )

        async def page(kwargs: dict[str, Any]) -> RawResponse[builtins.list[HeroPublic]]:
            response = await asend(self._client, kwargs, timeout, max_retries)
            parsed = _heroes_read_heroes._build_response(client=self._client, response=response).parsed
            return answer(response, parsed)

        return AsyncPager(
            lambda: page(kwargs),
            lambda url: page(next_page_kwargs(kwargs, url, "after_id")),
            "next",
            "Content-Range",
        )

    async def create(
        self,
        *,
        body: HeroCreate,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> HeroPublic:
        """Create Hero"""
        raw = await self.with_raw_response.create(
            body=body,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    async def list_head(
        self,
        *,
        offset: int | Unset = 0,
        limit: int | Unset = 100,
        after_id: int | None | Unset = UNSET,
        name: None | str | Unset = UNSET,
        min_age: int | None | Unset = UNSET,
        max_age: int | None | Unset = UNSET,
        prefer: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Heroes (headers only)"""
        raw = await self.with_raw_response.list_head(
            offset=offset,
            limit=limit,
            after_id=after_id,
            name=name,
            min_age=min_age,
            max_age=max_age,
            prefer=prefer,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw

    async def retrieve(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | HeroPublic | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> HeroPublic:
        """Read Hero"""
        raw = await self.with_raw_response.retrieve(
            hero_id,
            if_none_match=if_none_match,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    async def delete(
        self,
        hero_id: int,
        *,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Deleted:
        """Delete Hero"""
        raw = await self.with_raw_response.delete(
            hero_id,
            if_match=if_match,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    async def retrieve_head(
        self,
        hero_id: int,
        *,
        if_none_match: None | str | None | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Read Hero (headers only)"""
        raw = await self.with_raw_response.retrieve_head(
            hero_id,
            if_none_match=if_none_match,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw

    async def update(
        self,
        hero_id: int,
        *,
        body: HeroUpdate,
        if_match: None | str | Versioned | Unset = UNSET,
        idempotency_key: None | str | Unset = UNSET,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> HeroPublic:
        """Update Hero"""
        raw = await self.with_raw_response.update(
            hero_id,
            body=body,
            if_match=if_match,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed


class _AsyncHeroesWithRawResponse:
    """The client's own operations and resources, each returning the whole answer."""

    def __init__(self, client: AuthenticatedClient | Client) -> None:
        self._client = client
        self.heroes = AsyncHeroesResourceWithRawResponse(client)

    async def health(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[Health]:
        """Health"""
        kwargs = _health_health._get_kwargs()
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _health_health._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)

    async def health_head(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Health (headers only)"""
        kwargs = _health_health_head._get_kwargs()
        response = await asend(self._client, kwargs, timeout, max_retries)
        parsed = _health_health_head._build_response(client=self._client, response=response).parsed
        return answer(response, parsed)


class AsyncHeroes:
    """A client of the Heroes API (asyncio): its operations grouped as resources
    (`client.heroes`), each returning its model and raising
    errors.APIError's classes.

    `api_key` defaults to $HEROES_API_KEY; without one, only the operations open to all work.
    `timeout` (seconds, or an httpx.Timeout) and `max_retries` apply to every call unless the call
    names its own; retries wait with backoff and honour Retry-After, and every write carries an
    Idempotency-Key, the same across its retries (`idempotency_keys=False` turns that off).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = 60.0,
        max_retries: int = 2,
        idempotency_keys: bool = True,
        headers: dict[str, str] | None = None,
        httpx_args: dict[str, Any] | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("HEROES_API_KEY")
        options: dict[str, Any] = {
            "base_url": base_url,
            "timeout": timeout if isinstance(timeout, httpx.Timeout) or timeout is None else httpx.Timeout(timeout),
            "max_retries": max_retries,
            "idempotency_keys": idempotency_keys,
            "headers": dict(headers or {}),
            "httpx_args": dict(httpx_args or {}),
        }
        self._client: AuthenticatedClient | Client = (
            AuthenticatedClient(token=key, **options) if key else Client(**options)
        )
        self.with_raw_response = _AsyncHeroesWithRawResponse(self._client)
        self.heroes = AsyncHeroesResource(self._client)

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self._client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> "AsyncHeroes":
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.aclose()

    async def health(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Health:
        """Health"""
        raw = await self.with_raw_response.health(
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw.parsed

    async def health_head(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> RawResponse[None]:
        """Health (headers only)"""
        raw = await self.with_raw_response.health_head(
            timeout=timeout,
            max_retries=max_retries,
        )
        return raw


__all__ = (
    "AsyncPager",
    "AsyncHeroes",
    "AuthenticatedClient",
    "Client",
    "Heroes",
    "RawResponse",
    "SyncPager",
    "UNSET",
    "Unset",
)
