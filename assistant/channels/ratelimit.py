"""Request limits of the HTTP API: per-client token buckets, and a cap on request body size.

Both live in the process: behind several workers each worker counts for itself, so a client may
get up to (workers x limit) requests a minute through; put a shared limiter in the load balancer
when that matters.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict


class RateLimiter:
    """A token bucket per client key: `per_minute` requests a minute on average, bursts up to `burst`."""

    def __init__(self, *, per_minute: int, burst: int | None = None, max_clients: int = 10_000,
                 clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst or per_minute)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, key: str) -> float:
        """Take one token for `key`: 0.0 when allowed, else the seconds until the next one."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, seen = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


class BodyLimit:
    """ASGI middleware: a request whose path starts with a key of `limits` and whose body is over
    that many bytes gets a 413 JSON error before the route sees it."""

    def __init__(self, app, *, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        limit = next((n for prefix, n in self.limits.items() if scope.get("path", "").startswith(prefix)), None)
        if scope["type"] != "http" or limit is None:
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            return await self._reject(send, limit)
        parts, size, more = [], 0, True
        while more:  # a body sent without Content-Length (chunked) is counted as it arrives
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            more = message.get("more_body", False)
            if size > limit:
                return await self._reject(send, limit)
        body = b"".join(parts)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send, limit: int) -> None:
        payload = json.dumps({"error": {"status": 413, "type": "too_large",
                                        "message": f"request body over {limit} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
