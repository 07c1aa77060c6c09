import ssl
import uuid
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx
from attrs import define, evolve, field
from httpx_retries import Retry, RetryTransport

from . import errors
from .types import RawResponse

# The retry policy, as the OpenAI and Stripe SDKs have it: retry what can't have been done twice.
# httpx-retries does the mechanics (Retry-After in seconds or as a date, exponential backoff with
# full jitter); this module decides what may be retried, and gives every write an
# Idempotency-Key, the same for all of one call's attempts, so that the server can tell a retry
# from a new request and answer it with the first outcome.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A lost answer, a timeout, and the statuses that mean "not now": 408, 429 (rate limited; nothing
# was done), 502/503/504 (a proxy or the service could not answer), and 409 (the same key's first
# request is still running: its answer will be there shortly).
RETRY_STATUSES = frozenset({408, 409, 429, 502, 503, 504})
# A write without a key is retried only when it can't have reached the server, or was refused
# before anything ran (429).
UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request extension a call's own `max_retries` travels in, to the transport.
MAX_RETRIES = "heroes_client.max_retries"
# What httpx.Client would otherwise hand to the transport it builds itself.
_TRANSPORT_ARGS = ("cert", "http1", "http2", "limits", "proxy", "trust_env")


class _WholeAnswers(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Reads each answer's body before the retries judge it: an answer cut off after its headers
    (a proxy whose server died mid-answer) is a lost answer too, retried like one."""

    def __init__(self, inner: httpx.BaseTransport | httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self._inner, httpx.BaseTransport):
            raise RuntimeError("a sync request, but the transport is async")
        response = self._inner.handle_request(request)
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self._inner, httpx.AsyncBaseTransport):
            raise RuntimeError("an async request, but the transport is sync")
        response = await self._inner.handle_async_request(request)
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    def close(self) -> None:
        if isinstance(self._inner, httpx.BaseTransport):
            self._inner.close()

    async def aclose(self) -> None:
        if isinstance(self._inner, httpx.AsyncBaseTransport):
            await self._inner.aclose()


class RetryingTransport(RetryTransport):
    """Retries with backoff (httpx-retries), an Idempotency-Key on every write."""

    def __init__(
        self,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport,
        max_retries: int,
        initial_delay: float,
        max_delay: float,
        idempotency_keys: bool,
    ) -> None:
        self._initial_delay, self._max_delay = initial_delay, max_delay
        super().__init__(_WholeAnswers(transport), self._policy(max_retries, keyed=True))
        self._max_retries = max_retries
        self._keyless = self._policy(max_retries, keyed=False)
        self._idempotency_keys = idempotency_keys

    def _policy(self, total: int, keyed: bool) -> Retry:
        policy: dict[str, Any] = {
            "total": total,
            "allowed_methods": ["GET", "HEAD", "OPTIONS", *WRITES],
            # Retry n waits up to initial_delay * 2 ** (n - 1) (full jitter), at most max_delay.
            "backoff_factor": self._initial_delay / 2,
            "max_backoff_wait": self._max_delay,
            "backoff_jitter": 1.0,
        }
        if keyed:
            return Retry(status_forcelist=RETRY_STATUSES, **policy)
        return Retry(status_forcelist=[429], retry_on_exceptions=UNSENT, **policy)

    def _prepare(self, request: httpx.Request) -> None:
        # A call's own max_retries (MAX_RETRIES in its extensions) overrides the client's.
        total = request.extensions.pop(MAX_RETRIES, None)
        if self._idempotency_keys and request.method in WRITES and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        keyed = request.method not in WRITES or "idempotency-key" in request.headers
        if total is not None:
            request.extensions["retry"] = self._policy(total, keyed)
        elif not keyed:
            request.extensions.setdefault("retry", self._keyless)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._prepare(request)
        return super().handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._prepare(request)
        return await super().handle_async_request(request)


@define
class Client:
    """A class for keeping track of data related to the API

    The following are accepted as keyword arguments and will be used to construct httpx Clients internally:

        ``base_url``: The base URL for the API, all requests are made to a relative path to this URL

        ``cookies``: A dictionary of cookies to be sent with every request

        ``headers``: A dictionary of headers to be sent with every request

        ``timeout``: The maximum amount of a time a request can take. API functions will raise
        httpx.TimeoutException if this is exceeded.

        ``verify_ssl``: Whether or not to verify the SSL certificate of the API server. This should be True in production,
        but can be set to False for testing purposes.

        ``follow_redirects``: Whether or not to follow redirects. Default value is False.

        ``httpx_args``: A dictionary of additional arguments to be passed to the ``httpx.Client`` and ``httpx.AsyncClient`` constructor.


    Attributes:
        raise_on_unexpected_status: Whether or not to raise an errors.UnexpectedStatus if the API returns a
            status code that was not documented in the source OpenAPI document. Can also be provided as a keyword
            argument to the constructor.
        max_retries: How many times a failed request is retried (0: never): after a connection error, a
            timeout, a lost answer, or a 408, 409, 429, 502, 503 or 504.
        retry_initial_delay: Seconds: the first retry waits up to this long (a random time, doubling with
            each retry), unless the answer says Retry-After.
        retry_max_delay: Seconds: no wait between retries is longer, Retry-After included.
        idempotency_keys: Send an Idempotency-Key (a UUID4) with every POST, PATCH and DELETE that has none,
            so that retrying it is safe. A write without a key is retried only when it can't have reached the
            server.
    """

    raise_on_unexpected_status: bool = field(default=False, kw_only=True)
    max_retries: int = field(default=2, kw_only=True)
    retry_initial_delay: float = field(default=0.5, kw_only=True)
    retry_max_delay: float = field(default=8.0, kw_only=True)
    idempotency_keys: bool = field(default=True, kw_only=True)
    _base_url: str = field(alias="base_url")
    _cookies: dict[str, str] = field(factory=dict, kw_only=True, alias="cookies")
    _headers: dict[str, str] = field(factory=dict, kw_only=True, alias="headers")
    _timeout: httpx.Timeout | None = field(default=None, kw_only=True, alias="timeout")
    _verify_ssl: str | bool | ssl.SSLContext = field(default=True, kw_only=True, alias="verify_ssl")
    _follow_redirects: bool = field(default=False, kw_only=True, alias="follow_redirects")
    _httpx_args: dict[str, Any] = field(factory=dict, kw_only=True, alias="httpx_args")
    _client: httpx.Client | None = field(default=None, init=False)
    _async_client: httpx.AsyncClient | None = field(default=None, init=False)

    def with_headers(self, headers: dict[str, str]) -> "Client":
        """Get a new client matching this one with additional headers"""
        if self._client is not None:
            self._client.headers.update(headers)
        if self._async_client is not None:
            self._async_client.headers.update(headers)
        return evolve(self, headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> "Client":
        """Get a new client matching this one with additional cookies"""
        if self._client is not None:
            self._client.cookies.update(cookies)
        if self._async_client is not None:
            self._async_client.cookies.update(cookies)
        return evolve(self, cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> "Client":
        """Get a new client matching this one with a new timeout configuration"""
        if self._client is not None:
            self._client.timeout = timeout
        if self._async_client is not None:
            self._async_client.timeout = timeout
        return evolve(self, timeout=timeout)

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Manually set the underlying httpx.Client

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._client is None:
            args = dict(self._httpx_args)
            inner = args.pop("transport", None) or httpx.HTTPTransport(
                verify=self._verify_ssl, **{name: args.pop(name) for name in _TRANSPORT_ARGS if name in args}
            )
            self._client = httpx.Client(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._headers,
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                transport=self._retrying(inner),
                **args,
            )
        return self._client

    def __enter__(self) -> Self:
        """Enter a context manager for self.client—you cannot enter twice (see httpx docs)"""
        self.get_httpx_client().__enter__()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for internal httpx.Client (see httpx docs)"""
        self.get_httpx_client().__exit__(*args, **kwargs)

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Self:
        """Manually set the underlying httpx.AsyncClient

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._async_client is None:
            args = dict(self._httpx_args)
            inner = args.pop("transport", None) or httpx.AsyncHTTPTransport(
                verify=self._verify_ssl, **{name: args.pop(name) for name in _TRANSPORT_ARGS if name in args}
            )
            self._async_client = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._headers,
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                transport=self._retrying(inner),
                **args,
            )
        return self._async_client

    def _retrying(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport) -> RetryingTransport:
        return RetryingTransport(
            transport,
            max_retries=self.max_retries,
            initial_delay=self.retry_initial_delay,
            max_delay=self.retry_max_delay,
            idempotency_keys=self.idempotency_keys,
        )

    async def __aenter__(self) -> Self:
        """Enter a context manager for underlying httpx.AsyncClient—you cannot enter twice (see httpx docs)"""
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for underlying httpx.AsyncClient (see httpx docs)"""
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)


@define
class AuthenticatedClient:
    """A Client which has been authenticated for use on secured endpoints

    The following are accepted as keyword arguments and will be used to construct httpx Clients internally:

        ``base_url``: The base URL for the API, all requests are made to a relative path to this URL

        ``cookies``: A dictionary of cookies to be sent with every request

        ``headers``: A dictionary of headers to be sent with every request

        ``timeout``: The maximum amount of a time a request can take. API functions will raise
        httpx.TimeoutException if this is exceeded.

        ``verify_ssl``: Whether or not to verify the SSL certificate of the API server. This should be True in production,
        but can be set to False for testing purposes.

        ``follow_redirects``: Whether or not to follow redirects. Default value is False.

        ``httpx_args``: A dictionary of additional arguments to be passed to the ``httpx.Client`` and ``httpx.AsyncClient`` constructor.


    Attributes:
        raise_on_unexpected_status: Whether or not to raise an errors.UnexpectedStatus if the API returns a
            status code that was not documented in the source OpenAPI document. Can also be provided as a keyword
            argument to the constructor.
        max_retries: How many times a failed request is retried (0: never): after a connection error, a
            timeout, a lost answer, or a 408, 409, 429, 502, 503 or 504.
        retry_initial_delay: Seconds: the first retry waits up to this long (a random time, doubling with
            each retry), unless the answer says Retry-After.
        retry_max_delay: Seconds: no wait between retries is longer, Retry-After included.
        idempotency_keys: Send an Idempotency-Key (a UUID4) with every POST, PATCH and DELETE that has none,
            so that retrying it is safe. A write without a key is retried only when it can't have reached the
            server.
        token: The token to use for authentication
        prefix: The prefix to use for the Authorization header
        auth_header_name: The name of the Authorization header
    """

    raise_on_unexpected_status: bool = field(default=False, kw_only=True)
    max_retries: int = field(default=2, kw_only=True)
    retry_initial_delay: float = field(default=0.5, kw_only=True)
    retry_max_delay: float = field(default=8.0, kw_only=True)
    idempotency_keys: bool = field(default=True, kw_only=True)
    _base_url: str = field(alias="base_url")
    _cookies: dict[str, str] = field(factory=dict, kw_only=True, alias="cookies")
    _headers: dict[str, str] = field(factory=dict, kw_only=True, alias="headers")
    _timeout: httpx.Timeout | None = field(default=None, kw_only=True, alias="timeout")
    _verify_ssl: str | bool | ssl.SSLContext = field(default=True, kw_only=True, alias="verify_ssl")
    _follow_redirects: bool = field(default=False, kw_only=True, alias="follow_redirects")
    _httpx_args: dict[str, Any] = field(factory=dict, kw_only=True, alias="httpx_args")
    _client: httpx.Client | None = field(default=None, init=False)
    _async_client: httpx.AsyncClient | None = field(default=None, init=False)

    token: str
    prefix: str = "Bearer"
    auth_header_name: str = "Authorization"

    def with_headers(self, headers: dict[str, str]) -> "AuthenticatedClient":
        """Get a new client matching this one with additional headers"""
        if self._client is not None:
            self._client.headers.update(headers)
        if self._async_client is not None:
            self._async_client.headers.update(headers)
        return evolve(self, headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> "AuthenticatedClient":
        """Get a new client matching this one with additional cookies"""
        if self._client is not None:
            self._client.cookies.update(cookies)
        if self._async_client is not None:
            self._async_client.cookies.update(cookies)
        return evolve(self, cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> "AuthenticatedClient":
        """Get a new client matching this one with a new timeout configuration"""
        if self._client is not None:
            self._client.timeout = timeout
        if self._async_client is not None:
            self._async_client.timeout = timeout
        return evolve(self, timeout=timeout)

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Manually set the underlying httpx.Client

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._client is None:
            self._headers[self.auth_header_name] = f"{self.prefix} {self.token}" if self.prefix else self.token
            args = dict(self._httpx_args)
            inner = args.pop("transport", None) or httpx.HTTPTransport(
                verify=self._verify_ssl, **{name: args.pop(name) for name in _TRANSPORT_ARGS if name in args}
            )
            self._client = httpx.Client(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._headers,
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                transport=self._retrying(inner),
                **args,
            )
        return self._client

    def __enter__(self) -> Self:
        """Enter a context manager for self.client—you cannot enter twice (see httpx docs)"""
        self.get_httpx_client().__enter__()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for internal httpx.Client (see httpx docs)"""
        self.get_httpx_client().__exit__(*args, **kwargs)

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Self:
        """Manually set the underlying httpx.AsyncClient

        **NOTE**: This will override any other settings on the client, including cookies, headers, and timeout.
        """
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._async_client is None:
            self._headers[self.auth_header_name] = f"{self.prefix} {self.token}" if self.prefix else self.token
            args = dict(self._httpx_args)
            inner = args.pop("transport", None) or httpx.AsyncHTTPTransport(
                verify=self._verify_ssl, **{name: args.pop(name) for name in _TRANSPORT_ARGS if name in args}
            )
            self._async_client = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=self._headers,
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                transport=self._retrying(inner),
                **args,
            )
        return self._async_client

    def _retrying(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport) -> RetryingTransport:
        return RetryingTransport(
            transport,
            max_retries=self.max_retries,
            initial_delay=self.retry_initial_delay,
            max_delay=self.retry_max_delay,
            idempotency_keys=self.idempotency_keys,
        )

    async def __aenter__(self) -> Self:
        """Enter a context manager for underlying httpx.AsyncClient—you cannot enter twice (see httpx docs)"""
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for underlying httpx.AsyncClient (see httpx docs)"""
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)


class NotGiven:
    """A per-call option left out: the client's own setting applies."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()
# A call's timeout: seconds, an httpx.Timeout, or None for none at all.
Timeout = float | httpx.Timeout | None


def _options(timeout: "Timeout | NotGiven", max_retries: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if not isinstance(timeout, NotGiven):
        options["timeout"] = timeout
    if max_retries is not None:
        options["extensions"] = {MAX_RETRIES: max_retries}
    return options


def _request_of(error: httpx.RequestError) -> httpx.Request | None:
    try:
        return error.request
    except RuntimeError:
        return None


def send(
    client: "Client | AuthenticatedClient",
    kwargs: dict[str, Any],
    timeout: "Timeout | NotGiven",
    max_retries: int | None,
) -> httpx.Response:
    """One call through the client's retries; no answer is an APIConnectionError."""
    try:
        return client.get_httpx_client().request(**kwargs, **_options(timeout, max_retries))
    except httpx.TimeoutException as error:
        raise errors.APITimeoutError(_request_of(error)) from error
    except httpx.TransportError as error:
        raise errors.APIConnectionError(_request_of(error)) from error


async def asend(
    client: "Client | AuthenticatedClient",
    kwargs: dict[str, Any],
    timeout: "Timeout | NotGiven",
    max_retries: int | None,
) -> httpx.Response:
    """`send`, for asyncio."""
    try:
        return await client.get_async_httpx_client().request(**kwargs, **_options(timeout, max_retries))
    except httpx.TimeoutException as error:
        raise errors.APITimeoutError(_request_of(error)) from error
    except httpx.TransportError as error:
        raise errors.APIConnectionError(_request_of(error)) from error


def answer(response: httpx.Response, parsed: Any, current: Any = None) -> RawResponse[Any]:
    """A success as a RawResponse (the object read carrying the answer's ETag); any other
    status raised as its error class. A 304 gives back `current`, the object the caller named
    in If-None-Match, if it named one."""
    if response.status_code == 304 and current is not None:
        parsed = current
    elif not 200 <= response.status_code < 300:
        errors.raise_for_status(response, parsed)
    version = response.headers.get("etag")
    if version is not None and hasattr(parsed, "etag"):
        parsed.etag = version
    return RawResponse(
        status_code=HTTPStatus(response.status_code),
        headers=response.headers,
        content=response.content,
        parsed=parsed,
    )


def next_page_kwargs(kwargs: dict[str, Any], url: str, cursor: str) -> dict[str, Any]:
    """The request for the page a Link names: the first page's, at that URL (the server chose
    which of the first call's query parameters it keeps), which must set the cursor."""
    if cursor not in parse_qs(urlsplit(url).query):
        raise errors.APIError(f"the next page's link sets no {cursor}: {url}", None)
    return {**{key: value for key, value in kwargs.items() if key != "params"}, "url": url}
