"""Service settings from the environment (prefix ``ECOM_``); the lake itself comes from ``EcomSettings``."""

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ChallengerMode = Literal["off", "shadow", "split"]


class ServingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOM_", extra="ignore", populate_by_name=True)

    api_keys: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), description="Comma-separated; when set, /score* and /model need one of them in X-API-Key"
    )
    reload_interval_seconds: float = Field(
        10.0, gt=0, description="How often the role pointers and the features table are checked"
    )
    max_body_bytes: int = Field(262_144, ge=1024, description="Larger request bodies are refused with 413")
    prediction_log_flush_seconds: float = Field(5.0, gt=0, description="How often predictions are written")
    prediction_log_max_pending: int = Field(
        200_000, ge=1, description="Predictions held while the lake is unreachable; beyond that, counted lost"
    )
    challenger_mode: ChallengerMode = Field(
        "off",
        validation_alias="ECOM_SERVING_CHALLENGER_MODE",
        description="shadow: the challenger scores every request, logged unserved; split: it answers a share",
    )
    challenger_share: float = Field(
        0.1,
        ge=0,
        le=1,
        validation_alias="ECOM_SERVING_CHALLENGER_SHARE",
        description="In split mode, the share of customers (by a stable hash of the id) it answers",
    )
    max_connections: int = Field(
        1024, ge=1, description="Requests on connections beyond this many get a fast 503 from uvicorn"
    )
    max_requests_in_flight: int = Field(
        256, ge=1, description="Requests inside the app at once beyond this get 503 with Retry-After"
    )
    shutdown_grace_seconds: int = Field(
        20, ge=1, description="On SIGTERM, how long requests in flight may take before the final flush"
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(key.strip() for key in value.split(",") if key.strip())
        return value
