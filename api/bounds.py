"""Every bound of the service, in two parts.

- What the API accepts: part of the contract, each shows in openapi.json.
- How long and how many the service itself waits for and holds (workers, the database's
  graces, retries, housekeeping): not in the contract; the settings' defaults are in
  api/config.py, these are the fixed ones.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Strict, StringConstraints

NAME_MAX_LENGTH = 100
SECRET_NAME_MAX_LENGTH = 100
AGE_MAX = 2**31 - 1  # the age column is a 32-bit INTEGER on PostgreSQL
ID_MAX = 2**63 - 1  # ids and offsets are 64-bit on both databases
PAGE_MAX = 100
# A page past this offset re-reads that many rows: on SQLite it is read in a thread, not on the
# event loop, as counts are (docs/decisions/0006-sqlite-reads-on-the-loop.md).
LOOP_READ_MAX_OFFSET = 1_000
KEY_NAME_MAX_LENGTH = 64
# If-Match / If-None-Match: a list of ETags ("<id>.<version>", ~30 characters each); a
# caller naming dozens of versions of one hero has lost track of it.
CONDITION_MAX_LENGTH = 1024
PREFER_MAX_LENGTH = 256
# A key is "heroes_" and 43 URL-safe characters (32 random bytes); anything much longer in an
# Authorization header is not one of ours and is refused without hashing it.
AUTHORIZATION_MAX_LENGTH = 256
# Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a UUID is 36 characters; 255 leaves
# room for a caller's own scheme (a prefix, a request id) and fits any database's string index.
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII: no spaces, no controls
# Who stored an idempotency record: "key:<key name>" or "address:<client IP>".
CALLER_MAX_LENGTH = 100

# PostgreSQL cannot store NUL in text; refusing it on every database keeps the two alike.
NO_NUL = r"^[^\x00]*$"
# What an HTTP header value of ours may hold: visible ASCII and spaces.
VISIBLE_ASCII = r"^[\x20-\x7e]*$"


def _integral_float_to_int(value: Any) -> Any:
    # JSON Schema counts 12.0 as an integer, so the contract accepts it; 12.5 stays a float and
    # fails the strict check after it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict: the tutorial accepted `true` and `"12"` as integers; the schema says integer.
# (The before-validator goes last so that the bounds stay JSON Schema's minimum/maximum.)
LENIENCY = BeforeValidator(_integral_float_to_int)
# An `id` sent in a body is ignored. It has no bounds in the schema: FastAPI writes the bounds of
# body fields as JSON floats, and 2^63 - 1 as a float is 2^63, which would promise a value the
# server refuses. (Pydantic refuses integers over 4,300 digits before they cost anything.)
IgnoredId = Annotated[int, Strict(), LENIENCY]
ERROR_DETAIL_MAX_LENGTH = 500  # the service's own error messages; none is near it
# X-Request-ID: an incoming one is kept if it is this long at most and of these characters
# (enough for UUIDs and trace ids; nothing that could break a log line); else one is made.
REQUEST_ID_MAX_LENGTH = 128
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:+/=-]{1,128}$"
RequestId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REQUEST_ID_MAX_LENGTH, pattern=REQUEST_ID_PATTERN),
]

# --- The service's own: not in the contract. ---

# Expired idempotency records are deleted this many at a time (one short transaction each),
# every minute or so in each worker (api/housekeeping.py).
PRUNE_BATCH = 500
PRUNE_EVERY_SECONDS = 60.0
# How long a new worker may take to answer its supervisor (api/serve.py says why so long).
WORKER_START_SECONDS = 60
# PostgreSQL: how long past statement_timeout a batch may go without a word from the server
# before the server, or the way to it, is taken for gone (a machine that died without closing,
# a network cut, a pooler holding its client): no statement can still be running there, and
# TCP alone would wait ~15 minutes with data in flight. The grace covers the timeout's error
# on its way back, and a busy event loop.
SILENT_SERVER_GRACE_SECONDS = 2.0
# PostgreSQL: how often a batch in flight is looked at. One that the server answered with an
# error and then said nothing more to at two looks in a row (the rest of its answers come at
# once after an error) is given up: PgBouncer that can't log in to a server sends its error,
# then waits for the client to hang up.
STALLED_AFTER_ERROR_SECONDS = 0.25
# PostgreSQL: how long a group of writes waits for a row lock (its lock_timeout) before the
# write that waits leaves the group and waits on its own (HEROES_DB_LOCK_TIMEOUT): a write
# stuck on a lock delays the others by at most this.
GROUP_LOCK_TIMEOUT_SECONDS = 1.0
# PostgreSQL: writes that left their group to wait for a row lock on their own, at most this
# many at once per worker (each holds a connection while it waits); one more is answered with
# its lock's 503 at once.
WRITES_WAITING_ALONE_MAX = 4
# PostgreSQL: how many times a transaction the server refused for a serialization failure or a
# deadlock (SERIALIZABLE, two writers on one row) is run again before its writes get a 503.
TRANSACTION_RETRIES = 8
