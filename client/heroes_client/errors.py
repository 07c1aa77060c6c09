"""The errors the client raises: the call got no answer (APIConnectionError, APITimeoutError), or
an answer whose status says no (APIStatusError and a class per status). Catch APIError for all."""

import email.utils
import time
from typing import Any, ClassVar, NoReturn

import httpx

from .models import ErrorMessage, Health, HTTPValidationError, ServerError


class UnexpectedStatus(Exception):
    """Raised by api functions when the response status an undocumented status and Client.raise_on_unexpected_status is True"""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

        super().__init__(
            f"Unexpected status code: {status_code}\n\nResponse content:\n{content.decode(errors='ignore')}"
        )


class APIError(Exception):
    """Anything the client raises for a call: no answer, or an answer that says no."""

    def __init__(self, message: str, request: httpx.Request | None) -> None:
        Exception.__init__(self, message)  # not the next class's: APIStatusError has two bases
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """No answer, after the client's retries: the connection was refused, reset or cut."""

    def __init__(self, request: httpx.Request | None, message: str = "Connection error") -> None:
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    """No answer within the timeout, after the client's retries."""

    def __init__(self, request: httpx.Request | None) -> None:
        super().__init__(request, "Request timed out")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (RFC 9110: a number of seconds, or an HTTP date)."""
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class APIStatusError(APIError, UnexpectedStatus):
    """An answer whose status is not a success. `body` is the answer parsed as the contract
    documents it for that status (None if it documents none); `request_id` is what to quote
    when reporting it; `retry_after` the seconds the server asked to wait, if it did."""

    body: Any
    _BODY: ClassVar[tuple[type, ...]] = (object,)

    def __init__(self, response: httpx.Response, body: Any) -> None:
        detail = getattr(body, "detail", None)
        message = detail if isinstance(detail, str) else response.reason_phrase
        APIError.__init__(self, f"{response.status_code} {message}", response.request)
        UnexpectedStatus.__init__(self, response.status_code, response.content)
        self.args = (f"{response.status_code} {message}",)
        self.response = response
        self.headers = response.headers
        self.body = body
        self.request_id: str | None = response.headers.get("x-request-id")
        self.retry_after = _retry_after(response.headers.get("retry-after"))

    def __str__(self) -> str:
        return self.message


class NotModifiedError(APIStatusError):
    """304: the object is the version you named in If-None-Match (pass the object itself, and the call returns it)."""

    _BODY: ClassVar[tuple[type, ...]] = (object,)


class BadRequestError(APIStatusError):
    """400: the request was malformed."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class AuthenticationError(APIStatusError):
    """401: no API key, or one the service doesn't know."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class NotFoundError(APIStatusError):
    """404: no such object."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class ConflictError(APIStatusError):
    """409: the request conflicts with another (an Idempotency-Key still in flight, say)."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class PreconditionFailedError(APIStatusError):
    """412: the object changed since the version named in If-Match: read it again, then retry."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class ContentTooLargeError(APIStatusError):
    """413: the request is larger than the service takes."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class UnsupportedMediaTypeError(APIStatusError):
    """415: the body is not in a media type the operation takes."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class UnprocessableEntityError(APIStatusError):
    """422: a value is not valid; `body` says which, and why."""

    body: HTTPValidationError
    _BODY: ClassVar[tuple[type, ...]] = (HTTPValidationError,)


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` says when to try again."""

    body: ErrorMessage
    _BODY: ClassVar[tuple[type, ...]] = (ErrorMessage,)


class InternalServerError(APIStatusError):
    """5xx: the service failed; quote `request_id` when reporting it."""

    body: ErrorMessage | Health | ServerError
    _BODY: ClassVar[tuple[type, ...]] = (
        ErrorMessage,
        Health,
        ServerError,
    )


class ServiceUnavailableError(InternalServerError):
    """503: the service can't answer now (its database, say); `retry_after` says when to try again."""

    body: ErrorMessage | Health
    _BODY: ClassVar[tuple[type, ...]] = (
        ErrorMessage,
        Health,
    )


_BY_STATUS: dict[int, type[APIStatusError]] = {
    304: NotModifiedError,
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: ContentTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def raise_for_status(response: httpx.Response, body: Any) -> NoReturn:
    """Raise the class for the answer's status; the base class when its body is not what that
    class promises (a status the contract doesn't document for the operation)."""
    cls = _BY_STATUS.get(response.status_code)
    if cls is None and response.status_code >= 500:
        cls = InternalServerError
    if cls is None or not isinstance(body, cls._BODY):
        cls = APIStatusError
    raise cls(response, body)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentTooLargeError",
    "InternalServerError",
    "NotFoundError",
    "NotModifiedError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "UnexpectedStatus",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "raise_for_status",
]
