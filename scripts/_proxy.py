"""A TCP proxy on 127.0.0.1 whose connections a subclass relays (and breaks, on purpose): an
asyncio server in a thread of its own, so that synchronous tests and scripts can use it. The
lossy proxies (tests/support/lossy.py) and the fault drill (scripts/_faults.py) build on it.
"""

import asyncio
import threading
from typing import Self

from sqlalchemy.engine import URL, make_url


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self.loop
        )
        self._server = started.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_exc: object) -> None:
        # Every connection's task ended here, on the running loop: left pending, a task is
        # collected later, after the loop is gone, and its cleanup (closing its sockets) fails
        # inside whichever test is running then (CI saw it, as an unraisable exception).
        stopped = asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
        stopped.result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def through(self, url: URL | str) -> str:
        """`url` (PostgreSQL's) through this proxy, unencrypted: an encrypted stream can't be
        read, nor cut at a chosen message."""
        parsed = make_url(url)
        query = {**parsed.query, "sslmode": "disable", "gssencmode": "disable"}
        moved = parsed.set(host="127.0.0.1", port=self.port, query=query)
        return moved.render_as_string(hide_password=False)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_out.close()
            return
        try:
            await self._relay(client_in, client_out, server_in, server_out)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_out, server_out):
                writer.close()

    async def _relay(
        self,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_in: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
    ) -> None:
        raise NotImplementedError


async def first_done(*coroutines: object) -> None:
    """Run both directions; when either ends, the connection is over."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]  # type: ignore[call-overload]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
