"""Fast refusals under overload, so a flood of clients costs a 503 each instead of a growing queue.

Two bounds: uvicorn's ``limit_concurrency`` answers 503 to requests on connections beyond
``ECOM_MAX_CONNECTIONS`` (a connection costs memory even while idle), and ``AdmissionMiddleware``
answers 503 with ``Retry-After`` once ``ECOM_MAX_REQUESTS_IN_FLIGHT`` requests are inside the app at
once (slow bodies, slow readers), before it reads a byte of the body.
"""

from __future__ import annotations

import json

RETRY_AFTER_SECONDS = b"1"
BUSY = json.dumps({"detail": "overloaded: too many requests in flight, retry shortly"}).encode()
BUSY_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BUSY)).encode()),
    (b"retry-after", RETRY_AFTER_SECONDS),
]


class AdmissionMiddleware:
    def __init__(self, app, max_in_flight: int, exempt: frozenset[str]):
        self.app = app
        self.max_in_flight = max_in_flight
        self.exempt = exempt  # liveness probes must answer even when the service is busy
        self.in_flight = 0
        self.refused = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.refused += 1
            await send({"type": "http.response.start", "status": 503, "headers": BUSY_HEADERS})
            await send({"type": "http.response.body", "body": BUSY})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
