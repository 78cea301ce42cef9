"""``POST /score``, the hot path, as a plain ASGI endpoint.

FastAPI's per-request machinery (dependency solving, answer validation) cost a third of a ``/score``
request, and Starlette's request and response objects a little more; this endpoint reads the body,
validates JSON and schema in one pass, scores, and sends the answer, its errors included. FastAPI cannot
describe such a route, so its OpenAPI operation is written here from the same models and responses as
the other routes.

``ScoreShortcut`` hands ``POST /score`` to the endpoint inside the service's own middleware (metrics,
admission, API keys) and inside FastAPI's body limit, but before Starlette's exception middleware, exit
stack and router, which cost about a tenth of a request and do nothing for it. Every other request,
``/score`` with another method included, goes on to the router as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
import orjson
from fastapi import FastAPI, HTTPException
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.errors import NOT_READY, TOO_LARGE, UNAUTHORIZED, feature_errors, not_ready, validation_error
from serving.schemas import FEATURES_BODY, ScoreByCustomer, ScoreByFeatures
from serving.service import FeatureNamesError, NotReadyError, ScoringService

SCORE_REQUEST = TypeAdapter(ScoreByCustomer | ScoreByFeatures)
_REQUEST_SCHEMA = SCORE_REQUEST.json_schema(ref_template="#/components/schemas/{model}")


def parse_score_request(body: bytes) -> ScoreByCustomer | dict[str, float]:
    """The customer asked for, or the feature values by name.

    A body fits at most one of the two shapes (each forbids the other's field), so it is first read as
    the shape it names: a valid body gets the union's answer at a fraction of the cost. Any other body goes
    through the union, which accepts it or reports every error exactly as before."""
    if b'"customer_id"' in body:
        try:
            return ScoreByCustomer.model_validate_json(body)
        except ValidationError:
            pass
    else:
        features = _finite_features(body)
        if features is not None:
            return features
    try:
        asked = SCORE_REQUEST.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [_in_body(problem) for problem in error.errors(include_url=False)]
        ) from None
    return asked if isinstance(asked, ScoreByCustomer) else vars(asked.features)


def _finite_features(body: bytes) -> dict[str, float] | None:
    """The features of a body msgspec reads as the schema's and whose values are finite, else None."""
    try:
        features = msgspec.structs.asdict(FEATURES_BODY.decode(body).features)
    except msgspec.MsgspecError:
        return None
    return features if all(map(math.isfinite, features.values())) else None


def _in_body(problem: Mapping[str, Any]) -> dict:
    """A pydantic error as FastAPI reports body errors; a body that is not JSON is echoed as text."""
    given = problem.get("input")
    if isinstance(given, bytes):
        given = given.decode("utf-8", errors="replace")
    return {**problem, "loc": ("body", *problem["loc"]), "input": given}


JSON = (b"content-type", b"application/json")


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class ScoreEndpoint:
    """Score a customer by id (unknown ids: no-activity vector, cold_start true) or a feature vector."""

    def __init__(self, service: ScoringService):
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = self._answer(await read_body(receive))
        except RequestValidationError as error:  # 422, answered as the app's own handler does
            refusal = await validation_error(Request(scope), error)
        except HTTPException as error:  # 503 not ready, or 413 from the body limit
            refusal = await http_exception_handler(Request(scope), error)
        else:
            headers = [JSON, (b"content-length", b"%d" % len(answer))]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer})
            return
        await refusal(scope, receive, send)

    def _answer(self, body: bytes) -> bytes:
        asked = parse_score_request(body)
        try:
            if isinstance(asked, ScoreByCustomer):
                scored = self.service.score_customer(asked.customer_id)
            else:
                scored = self.service.score_features(asked)
        except NotReadyError as error:
            raise not_ready(error) from None
        except FeatureNamesError as error:
            raise feature_errors(error) from None
        return orjson.dumps(scored)


class ScoreShortcut:
    """ASGI middleware: ``POST /score`` goes straight to ``endpoint``, every other request to ``app``."""

    def __init__(self, app: ASGIApp, endpoint: ScoreEndpoint):
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/score" and scope["method"] == "POST":
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def score_route(endpoint: ScoreEndpoint) -> Route:
    """The route that answers ``/score`` with another method than POST (405), as FastAPI's routes do."""
    return Route("/score", endpoint, methods=["POST"])


def _json(description: str, component: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_score(app: FastAPI) -> None:
    """The /score operation in the app's OpenAPI description (its models are components already)."""
    schema = app.openapi()
    schema["components"]["schemas"].update(_REQUEST_SCHEMA["$defs"])
    body = {"anyOf": _REQUEST_SCHEMA["anyOf"]}
    schema["paths"]["/score"] = {
        "post": {
            "tags": ["scoring"],
            "summary": "Score",
            "description": ScoreEndpoint.__doc__,
            "operationId": "score_score_post",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": _json("Successful Response", "ScoreResponse"),
                "401": _json(str(UNAUTHORIZED[401]["description"]), "Problem"),
                "413": TOO_LARGE[413],
                "422": _json("Validation Error", "HTTPValidationError"),
                "503": _json(str(NOT_READY[503]["description"]), "Problem"),
            },
        }
    }
