"""Service settings from the environment (prefix ``ECOM_``); the lake itself comes from ``EcomSettings``."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ServingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOM_", extra="ignore")

    api_keys: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), description="Comma-separated; when set, /score* and /model need one of them in X-API-Key"
    )
    reload_interval_seconds: float = Field(
        10.0, gt=0, description="How often the champion pointer and the features table are checked"
    )
    max_body_bytes: int = Field(262_144, ge=1024, description="Larger request bodies are refused with 413")
    prediction_log_flush_seconds: float = Field(5.0, gt=0, description="How often predictions are written")
    prediction_log_max_pending: int = Field(
        200_000, ge=1, description="Predictions held while the lake is unreachable; beyond that, counted lost"
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(key.strip() for key in value.split(",") if key.strip())
        return value
