"""Proxies that lose answers on purpose, after the work behind them was done.

A killed process loses the requests in flight; a lost *answer* is worse, because the work
happened and the caller can't tell: a COMMIT that landed on PostgreSQL but whose reply never
came back, an HTTP response the service sent that never reached the caller. These proxies make
exactly that happen, at a chosen rate, so that the tests can count duplicates.

- `CommitAnswerLoser` speaks just enough of PostgreSQL's wire protocol (version 3: a length-
  prefixed startup message, then a type byte and a length per message) to see `COMMIT`s, sent
  as a simple query or through the extended protocol (a Parse message). Every
  n-th one it forwards, waits for the server's answer (so the commit has landed), throws the
  answer away and cuts both connections. The client must connect with `sslmode=disable` (and
  `gssencmode=disable`): an encrypted stream can't be read.
  With `silent`, it holds both connections open instead, and says nothing more: a server
  whose machine died right after the commit (no close comes, only silence).
- `ServerGoesSilent` stops answering, without a word and without closing: a machine gone, a
  network cut, PgBouncer holding its client. `ServerLoginFailing` answers like PgBouncer that
  can't log in to its server: an error, then silence.
- `HttpAnswerLoser` forwards HTTP/1.1 requests as they are and reads each response (status line,
  headers, a Content-Length body); every n-th response it throws away and cuts the connection.

Each runs an asyncio server in a thread of its own, so that synchronous tests can use it.
"""

import asyncio
import contextlib
import struct
import threading
from collections.abc import Iterator

from _proxy import Proxy, first_done


class _Proxy(Proxy):
    """A proxy that loses every `every`-th of what its subclass counts, once armed."""

    def __init__(self, target_port: int, every: int) -> None:
        super().__init__(target_port)
        self.every = every
        self.armed = False  # losses start once armed (a server's start-up is left alone)
        self.seen = 0  # what the subclass counts: COMMITs, or responses
        self.lost = 0
        self._lock = threading.Lock()

    def _should_lose(self) -> bool:
        """Count one more; True for every n-th once armed."""
        with self._lock:
            if not self.armed:
                return False
            self.seen += 1
            if self.seen % self.every:
                return False
            self.lost += 1
            return True


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()


async def _forward_startup(
    client_in: asyncio.StreamReader, server_out: asyncio.StreamWriter
) -> None:
    """PostgreSQL's startup message, as it is: a length (itself included), then its body; no
    type byte."""
    (length,) = struct.unpack("!I", await client_in.readexactly(4))
    server_out.write(struct.pack("!I", length) + await client_in.readexactly(length - 4))


async def _message(client_in: asyncio.StreamReader) -> tuple[bytes, bytes, bytes]:
    """The client's next message: its type byte, its body, and the whole of it."""
    kind = await client_in.readexactly(1)
    head = await client_in.readexactly(4)
    (length,) = struct.unpack("!I", head)
    body = await client_in.readexactly(length - 4)
    return kind, body, kind + head + body


class CommitAnswerLoser(_Proxy):
    """PostgreSQL behind a proxy that loses the answer to every n-th COMMIT (see the module)."""

    def __init__(self, target_port: int, every: int, silent: bool = False) -> None:
        super().__init__(target_port, every)
        self.silent = silent

    async def _relay(
        self,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_in: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
    ) -> None:
        doomed = asyncio.Event()

        async def to_server() -> None:
            await _forward_startup(client_in, server_out)
            while True:
                kind, body, message = await _message(client_in)
                commit = _query(kind, body).strip().upper() == b"COMMIT"
                if commit and self._should_lose():
                    doomed.set()
                server_out.write(message)
                await server_out.drain()

        async def to_client() -> None:
            while data := await server_in.read(65536):
                if doomed.is_set():
                    # The server has answered the COMMIT: it landed. The answer is lost.
                    if self.silent:  # held open, silent, until the client hangs up
                        await asyncio.Event().wait()
                    return
                client_out.write(data)
                await client_out.drain()

        await first_done(to_server(), to_client())


def _error(sqlstate: str, message: str) -> bytes:
    """An ErrorResponse message: severity, SQLSTATE and text."""
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in [(b"S", "ERROR"), (b"V", "ERROR"), (b"C", sqlstate), (b"M", message)]
    )
    return b"E" + struct.pack("!I", 4 + len(fields) + 1) + fields + b"\0"


class ServerGoesSilent(_Proxy):
    """PostgreSQL behind a path that goes silent: once armed, the next message a connection
    sends is not forwarded, and nothing comes back (with `ERROR`, that error first): not the
    batch's answers, not its end, and no close. Every connection's next batch meets it while
    armed."""

    ERROR = b""

    async def _relay(
        self,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_in: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
    ) -> None:
        silent = asyncio.Event()

        async def to_server() -> None:
            await _forward_startup(client_in, server_out)
            while True:
                _, _, message = await _message(client_in)
                if self._should_lose():
                    silent.set()
                    client_out.write(self.ERROR)
                    await client_out.drain()
                    while await client_in.read(65536):  # the client's, unanswered, until it
                        pass  # hangs up
                    return
                server_out.write(message)
                await server_out.drain()

        async def to_client() -> None:
            while data := await server_in.read(65536):
                if not silent.is_set():
                    client_out.write(data)
                    await client_out.drain()
            await silent.wait()  # the server's side ended: the client's is held regardless

        await first_done(to_server(), to_client())


class ServerLoginFailing(ServerGoesSilent):
    """What PgBouncer does while its logins to the server fail (a switchover under way, seen in
    `scripts/stress ha`): the next message a connection sends is answered with its error,
    "server login has been failing" (class 08), and then nothing; PgBouncer waits for the
    client to hang up."""

    ERROR = _error("08P01", "server login has been failing, try again later (server_login_retry)")


def _query(kind: bytes, body: bytes) -> bytes:
    """The SQL a message carries: a simple Query's ('Q': the query), or a Parse's of the
    extended protocol ('P': the statement's name, then the query; pipeline mode has only
    these). Empty for any other message."""
    if kind == b"Q":
        return body.split(b"\0", 1)[0]
    if kind == b"P":
        return body.split(b"\0", 2)[1]
    return b""


class HttpAnswerLoser(_Proxy):
    """An HTTP service behind a proxy that loses every n-th response, whole or after its
    headers, by turns (see the module)."""

    async def _relay(
        self,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_in: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
    ) -> None:
        async def to_client() -> None:
            while True:
                head = await server_in.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                body = await server_in.readexactly(length) if length else b""
                if self._should_lose():
                    # Processed by the service; the caller never hears of it whole: every
                    # other loss sends the headers and half the body first, as a proxy does
                    # when the server behind it dies mid-answer.
                    if self.lost % 2 == 0:
                        client_out.write(head + body[: len(body) // 2])
                        await client_out.drain()
                    return
                client_out.write(head + body)
                await client_out.drain()

        await first_done(_pipe(client_in, server_out), to_client())


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@contextlib.contextmanager
def armed(proxy: _Proxy) -> Iterator[_Proxy]:
    proxy.armed = True
    try:
        yield proxy
    finally:
        proxy.armed = False
