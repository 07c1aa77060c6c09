"""Who may call: API keys (`Authorization: Bearer <key>`), and the protected mode that holds
while no key exists.

Protected mode is Redis' answer to "a fresh install must be safe and still work on a laptop":
with no key, writes are accepted from loopback clients only. A request that came through a
proxy is never taken for a loopback one: anything carrying a forwarding header (X-Forwarded-For,
Forwarded, X-Real-IP) is relayed, whatever the address of the peer that relayed it. Once a key
exists, every writer needs one.
"""

import asyncio
import hmac
import ipaddress
import logging
import time

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.bounds import AUTHORIZATION_MAX_LENGTH
from api.db import Database
from api.errors import forbidden_protected_mode, keys_unavailable, unauthorized
from api.keys import active_keys, hash_key

logger = logging.getLogger("api")

SCHEME = "ApiKey"
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


bearer = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    bearerFormat="heroes_…",
    description="An API key, made with `heroes-api keys create NAME`: "
    "`Authorization: Bearer heroes_…`.",
)


class KeyRing:
    """The active keys as this worker knows them, re-read from the database every few seconds,
    so that a key made or revoked anywhere counts everywhere without a restart."""

    def __init__(self, db: Database, refresh_seconds: float) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self._by_hash: dict[str, str] = {}
        self._failing = False
        # Until the keys have been read once, nobody can tell protected mode from a missing
        # key: requests that need an answer get a 503 rather than a guess.
        self.loaded = False
        self._read_at = float("-inf")  # when the read of the keys held now began (monotonic)
        self._reading = asyncio.Lock()

    @property
    def protected(self) -> bool:
        """No active key: writes only from loopback clients."""
        return not self._by_hash

    def __len__(self) -> int:
        return len(self._by_hash)

    async def load(self) -> bool:
        """Re-read the keys; on failure keep the ones known, say so once, and return False."""
        started = time.monotonic()
        try:
            self._by_hash = await self.db.read(active_keys)
        except Exception as error:  # the database is away, or not migrated yet
            if not self._failing:
                logger.warning(
                    "API keys could not be read (%s); %s",
                    type(error).__name__,
                    "using the last ones read" if self.loaded else "writes get 503 until they are",
                )
            self._failing = True
            return False
        self._failing, self.loaded, self._read_at = False, True, started
        return True

    async def refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            await self.load()

    async def recognise(self, key: str) -> str | None:
        """The name of the active key `key`, or None. A key the worker doesn't know is looked
        for again in the database before it is refused, so a key made a moment ago works at once
        (the README's walkthrough writes with it the next second). Reads for unknown keys run
        one at a time and are shared: a flood of bad keys costs one small read at a time."""
        name = self.identify(key)
        if name is None:
            missed_at = time.monotonic()
            async with self._reading:
                if self._read_at < missed_at:  # no read began since the key was asked for
                    await self.load()
            name = self.identify(key)
        return name

    def identify(self, key: str) -> str | None:
        """The name of the active key `key`, or None. Every stored hash is compared, in constant
        time, so the answer's timing says nothing about which (or whether one) matched."""
        digest = hash_key(key)
        found = None
        for stored, name in self._by_hash.items():
            if hmac.compare_digest(stored, digest):
                found = name
        return found


def _loaded(ring: KeyRing) -> KeyRing:
    if not ring.loaded:
        raise keys_unavailable()
    return ring


def _direct_loopback(request: Request) -> bool:
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _client_address(request: Request) -> str:
    return f"address:{request.client.host if request.client else 'unknown'}"


async def _key_holder(
    request: Request, credentials: HTTPAuthorizationCredentials | None, ring: KeyRing
) -> str:
    """The caller named by a present Authorization header, or a 401."""
    header = request.headers["authorization"]
    if credentials is None or len(header) > AUTHORIZATION_MAX_LENGTH:
        raise unauthorized("Malformed Authorization header: send 'Bearer <key>'")
    name = await _loaded(ring).recognise(credentials.credentials)
    if name is None:
        raise unauthorized("Unknown or revoked API key", error="invalid_token")
    return f"key:{name}"


async def writer(
    request: Request, credentials: HTTPAuthorizationCredentials | None, ring: KeyRing
) -> str:
    """Who is writing: a key's holder, or (protected mode) a loopback client. Else 401 or 403."""
    if "authorization" in request.headers:
        return await _key_holder(request, credentials, ring)
    if not _loaded(ring).protected:
        raise unauthorized("This operation needs an API key: send 'Authorization: Bearer <key>'")
    if _direct_loopback(request):
        return _client_address(request)
    raise forbidden_protected_mode()


async def reader(request: Request, ring: KeyRing, public: bool) -> str:
    """Who is reading. Reads are public unless HEROES_PUBLIC_READS=false (`public`); a key that
    is sent is checked all the same (a wrong key is a mistake worth telling)."""
    if "authorization" in request.headers:
        return await _key_holder(request, await bearer(request), ring)
    if public:
        return _client_address(request)
    return await writer(request, None, ring)
