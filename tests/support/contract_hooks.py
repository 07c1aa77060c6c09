"""Schemathesis hooks for our contract runs: every generated write gets an Idempotency-Key of
its own.

A fuzzer draws header values from the schema, so it sends the same key ("0", a 255-character
run of one letter) with many different requests. The service answers those repeats with the
draft's 422 (the key was used for another request), by design, as it answers a stale If-Match
with 412: state a generator can't know about. Rather than accept a 422 for every schema-valid
write (which would hide real refusals), each call's key is made unique, as a client would: a
valid key stays valid (same characters, length within the bound); an invalid one, generated to
test the refusal, is left as it is. The key's own rules (replay, 422, 409, bounds) are pinned by
tests/integration/writes/test_idempotency.py.

In-process runs import this module (tests/support/contract.py); the `st` CLI loads it from
SCHEMATHESIS_HOOKS (`contract_env()` sets it).
"""

import re
import uuid
from typing import Any

import schemathesis

from api.bounds import IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN

HEADER = "idempotency-key"
_VALID = re.compile(IDEMPOTENCY_KEY_PATTERN)


def unique(key: str) -> str:
    """`key`, made unique and kept valid."""
    suffix = f"-{uuid.uuid4()}"
    return key[: IDEMPOTENCY_KEY_MAX_LENGTH - len(suffix)] + suffix


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == HEADER and isinstance(value, str) and _VALID.fullmatch(value):
            headers[name] = unique(value)
