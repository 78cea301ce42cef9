"""Optional API keys: when ``ECOM_API_KEYS`` is set, protected paths need one of them in ``X-API-Key``.

Checked in a plain ASGI middleware, before the body is read or parsed (an unauthenticated client
learns nothing about the API), and cheaper than a FastAPI dependency on the hot path.
"""

from __future__ import annotations

import hmac
import json

from fastapi import FastAPI

HEADER = b"x-api-key"
SCHEME = {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
UNAUTHORIZED = json.dumps({"detail": "missing or unknown X-API-Key"}).encode()


class ApiKeyMiddleware:
    def __init__(self, app, api_keys: frozenset[str], protected: frozenset[str]):
        self.app = app
        self.allowed = [key.encode() for key in api_keys]
        self.protected = protected

    def _allows(self, headers: list[tuple[bytes, bytes]]) -> bool:
        given = next((value for name, value in headers if name == HEADER), b"")
        # compare_digest takes as long for a near miss as for a far one.
        return any(hmac.compare_digest(given, key) for key in self.allowed)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.allowed or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        if self._allows(scope["headers"]):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(UNAUTHORIZED)).encode()),
            (b"www-authenticate", b"ApiKey"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": UNAUTHORIZED})


def document_api_key(app: FastAPI, protected: frozenset[str]) -> None:
    """Declare the key in the OpenAPI description of the protected operations."""
    schema = app.openapi()
    schema.setdefault("components", {})["securitySchemes"] = SCHEME
    for path in protected:
        for operation in schema["paths"][path].values():
            operation["security"] = [{"ApiKey": []}]
