"""Contains some shared types for properties"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, MutableMapping
from http import HTTPStatus
from typing import IO, BinaryIO, Generic, Literal, Protocol, TypeVar

from attrs import define


class Unset:
    def __bool__(self) -> Literal[False]:
        return False


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


@define
class Response(Generic[T]):
    """A response from an endpoint"""

    status_code: HTTPStatus
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


@define
class RawResponse(Generic[T]):
    """A successful answer, whole: its status, headers and body, and the body parsed
    (``client.<resource>.with_raw_response.<method>(...)``)."""

    status_code: HTTPStatus
    headers: MutableMapping[str, str]
    content: bytes
    parsed: T

    @property
    def request_id(self) -> str | None:
        """The answer's X-Request-ID: what the service's log line for it carries."""
        return self.headers.get("x-request-id")


class Versioned(Protocol):
    """An object read with its version (its ETag): any model the client returned."""

    etag: str | None


def version_of(value: "str | Versioned | None | Unset") -> "str | None | Unset":
    """If-Match / If-None-Match from an ETag string, or from an object the client returned."""
    if value is None or isinstance(value, (str, Unset)):
        return value
    if value.etag is None:
        raise ValueError("this object has no version: it was not read with an ETag")
    return value.etag


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r'rel\s*=\s*"?([^";]+)"?')


def linked(headers: Mapping[str, str], relation: str) -> str | None:
    """The URL of the Link header's entry with that relation (RFC 8288), if any."""
    for target, parameters in _LINK.findall(headers.get("link", "")):
        found = _REL.search(parameters)
        if found and relation in found.group(1).split():
            return str(target)
    return None


def total_of(headers: Mapping[str, str], header: str | None) -> int | None:
    """The total of a Content-Range-like header (`0-9/42`, `*/42`), if the answer has one."""
    value = headers.get(header or "", "")
    total = value.rpartition("/")[2].strip()
    return int(total) if total.isdigit() else None


class SyncPager(Generic[T]):
    """Every item of a paged list, in order, fetched a page at a time: each page after the first
    is the one its predecessor's Link names (the relation the contract declares). `total` is the
    count the first page carries, when the call asked for one (None otherwise)."""

    def __init__(
        self,
        first: Callable[[], RawResponse[list[T]]],
        follow: Callable[[str], RawResponse[list[T]]],
        relation: str,
        total_header: str | None,
    ) -> None:
        self._first, self._follow = first, follow
        self._relation, self._total_header = relation, total_header
        self._first_page: RawResponse[list[T]] | None = None

    def _start(self) -> RawResponse[list[T]]:
        if self._first_page is None:
            self._first_page = self._first()
        return self._first_page

    @property
    def total(self) -> int | None:
        """How many items match in all (fetches the first page if it hasn't been)."""
        return total_of(self._start().headers, self._total_header)

    def pages(self) -> Iterator[RawResponse[list[T]]]:
        page = self._start()
        while True:
            yield page
            following = linked(page.headers, self._relation)
            if following is None:
                return
            page = self._follow(following)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.parsed


class AsyncPager(Generic[T]):
    """SyncPager for asyncio: ``async for item in pager``; ``await pager.total()``."""

    def __init__(
        self,
        first: Callable[[], Awaitable[RawResponse[list[T]]]],
        follow: Callable[[str], Awaitable[RawResponse[list[T]]]],
        relation: str,
        total_header: str | None,
    ) -> None:
        self._first, self._follow = first, follow
        self._relation, self._total_header = relation, total_header
        self._first_page: RawResponse[list[T]] | None = None

    async def _start(self) -> RawResponse[list[T]]:
        if self._first_page is None:
            self._first_page = await self._first()
        return self._first_page

    async def total(self) -> int | None:
        """How many items match in all (fetches the first page if it hasn't been)."""
        return total_of((await self._start()).headers, self._total_header)

    async def pages(self) -> AsyncIterator[RawResponse[list[T]]]:
        page = await self._start()
        while True:
            yield page
            following = linked(page.headers, self._relation)
            if following is None:
                return
            page = await self._follow(following)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.parsed:
                yield item


__all__ = [
    "UNSET",
    "AsyncPager",
    "File",
    "FileTypes",
    "RawResponse",
    "RequestFiles",
    "Response",
    "SyncPager",
    "Unset",
    "Versioned",
    "version_of",
]
