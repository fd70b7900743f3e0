"""The server's HTTP layer, in front of Gradio's routes: body caps, upload pace, `/healthz`, draining.

- A request body is judged by its `Content-Length` before a byte of it is read: over the cap
  is 413; a body without a length (chunked) is 411. Uploads (`/gradio_api/upload`) may carry
  a full upload's files; every other route gets JSON, capped near the largest pasted article.
- Uploads are counted per client address: past `uploads_per_minute` the answer is 429, "slow
  down, try again in N s", before the files reach the disk.
- Each client may have at most `waiting_per_client` events waiting in the queue (per user, or
  per address without login): one client's burst of questions cannot fill the queue for
  everyone ("Queue is full!"); past it the answer is 429.
- `GET /healthz` answers without login: index counts, whether the embedder and reader are
  loaded, the queue's depth. 503 while starting or stopping, else 200.
- While the server stops (`draining`), new requests that would start work get 503.

It is a plain ASGI middleware, installed through `launch(app_kwargs={"middleware": ...})`. What
this leaves out: per-user limits on questions and roles (`ui.auth`, where the user is known).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio.to_thread

from ui.auth import Limiter, slow_down

log = logging.getLogger(__name__)

JSON_BODY_LIMIT_BYTES = 12 * 1024 * 1024  # a 5 MB pasted article, escaped as JSON, with room to spare
DEFAULT_UPLOADS_PER_MINUTE = 20
DEFAULT_WAITING_PER_CLIENT = 8


@dataclass
class GuardState:
    upload_body_limit_bytes: int
    json_body_limit_bytes: int = JSON_BODY_LIMIT_BYTES
    uploads: Limiter = field(default_factory=lambda: Limiter(DEFAULT_UPLOADS_PER_MINUTE))
    health: Callable[[], dict] | None = None
    waiting_per_client: int | None = DEFAULT_WAITING_PER_CLIENT
    # (cookies, address) -> (the caller's name for limits, how many events they have waiting)
    waiting_of: Callable[[dict[str, str], str], tuple[str, int]] | None = None
    draining: bool = False
    refused: dict[int, int] = field(default_factory=dict)  # status -> count, for the log and tests
    joining: dict[str, int] = field(default_factory=dict)  # who -> requests joining the queue right now


async def _reply(send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": data})


class HttpGuard:
    def __init__(self, app, state: GuardState):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state, path, method = self.state, scope.get("path", ""), scope.get("method", "GET")
        if path.rstrip("/").endswith("/healthz") and method in ("GET", "HEAD"):
            # in a worker thread: the index's counts wait for its lock, which questions hold while
            # they read, and the event loop must not wait with them
            report = dict(await anyio.to_thread.run_sync(state.health) if state.health else {"ready": False})
            report["stopping"] = state.draining
            return await _reply(send, 200 if report.get("ready") and not state.draining else 503, report)
        if method not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        if state.draining:
            return await self._refuse(send, 503, "the server is restarting; try again in a moment", [(b"retry-after", b"10")])
        headers = dict(scope.get("headers") or [])
        upload = path.rstrip("/").endswith("/upload")
        limit = state.upload_body_limit_bytes if upload else state.json_body_limit_bytes
        length = headers.get(b"content-length")
        if length is None:
            if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                return await self._refuse(send, 411, "send the request with a Content-Length")
            length = b"0"
        try:
            size = int(length)
        except ValueError:
            return await self._refuse(send, 400, "bad Content-Length")
        if size > limit:
            return await self._refuse(send, 413, f"the request is {size / 2**20:.1f} MB; "
                                                 f"the limit is {limit / 2**20:.0f} MB")
        client = (scope.get("client") or ("unknown", 0))[0]
        if state.waiting_of is not None and state.waiting_per_client is not None and _joins_queue(path):
            who, waiting = state.waiting_of(_cookies(headers), client)
            waiting += state.joining.get(who, 0)  # joins still being read: not in the queue yet
            if waiting >= state.waiting_per_client:
                return await self._refuse(send, 429, f"slow down: {who} has {waiting} requests waiting already; "
                                                     "try again when one is answered", [(b"retry-after", b"5")])
            state.joining[who] = state.joining.get(who, 0) + 1  # one event loop: no lock needed
            try:
                return await self.app(scope, receive, send)
            finally:
                state.joining[who] -= 1
                if not state.joining[who]:
                    del state.joining[who]
        if upload:
            wait = state.uploads.wait_s(f"upload:{client}")
            if wait:
                return await self._refuse(send, 429, slow_down(wait), [(b"retry-after", str(wait).encode())])
        return await self.app(scope, receive, send)

    async def _refuse(self, send, status: int, message: str, headers=()) -> None:
        self.state.refused[status] = self.state.refused.get(status, 0) + 1
        log.warning("refused a request (%s): %s", status, message)
        await _reply(send, status, {"detail": message, "error": message}, list(headers))


def _joins_queue(path: str) -> bool:
    path = path.rstrip("/")
    return path.endswith("/queue/join") or "/gradio_api/call/" in path


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar = SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # a malformed cookie header: no login
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
