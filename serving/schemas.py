"""Request and response bodies of the scoring API (``shared/CONTRACT.md`` section 5)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from ecom_assets.transforms.features import FEATURES, no_activity_features

MAX_BATCH = 1000
DateWindow = Annotated[list[dt.date], Field(min_length=2, max_length=2)]

CustomerId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=256)]
# Strict: "1.5" or true is not a number here; NaN and infinities are refused with 422.
FeatureValue = Annotated[float, Field(strict=True, allow_inf_nan=False)]


_FEATURE_FIELDS: dict[str, Any] = {
    feature.name: (FeatureValue, Field(description=feature.description)) for feature in FEATURES
}
_EXAMPLE: dict[str, Any] = dict(no_activity_features())
FeatureVector = create_model(
    "FeatureVector",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]}),
    __doc__="Every model feature by name, as a finite number (the columns of gold/customer_daily_features).",
    **_FEATURE_FIELDS,
)


# ScoreByFeatures for msgspec, which reads a valid body four times faster than pydantic: the /score route
# tries it first and leaves whatever it refuses to pydantic, which accepts it or names every error.
_FEATURE_VALUES = msgspec.defstruct(
    "FeatureValues", [(name, float) for name in _FEATURE_FIELDS], forbid_unknown_fields=True
)
FEATURES_BODY: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
    msgspec.defstruct("FeaturesBody", [("features", _FEATURE_VALUES)], forbid_unknown_fields=True)
)


class ScoreByCustomer(BaseModel):
    """Score a customer on the features of the newest as-of date; unknown ids are cold starts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"customer_id": "c000042"}]})

    customer_id: CustomerId


class ScoreByFeatures(BaseModel):
    """Score a feature vector as given, without a lookup."""

    model_config = ConfigDict(extra="forbid")

    features: FeatureVector


class BatchScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ids: list[CustomerId] = Field(min_length=1, max_length=MAX_BATCH)


class ScoreResponse(BaseModel):
    customer_id: str | None = Field(description="null when scored from explicit features")
    score: float = Field(ge=0, le=1, description="Probability of a purchase in the next 7 days")
    model_version: str
    features_as_of: dt.date | None = Field(
        description="As-of date of the features used; null for explicit ones"
    )
    cold_start: bool = Field(description="true when the customer had no features and was scored as inactive")
    arm: Literal["champion", "challenger"] = Field(
        description="The model that answered: the champion, or the challenger for its share in split mode"
    )


class ArmInfo(BaseModel):
    version: str
    trained_at: dt.datetime
    # Lists, not tuples: OpenAPI tools reject the tuple schema FastAPI emits.
    training_window: DateWindow = Field(description="First and last as-of date of the training rows")
    validation_window: DateWindow
    metrics: dict[str, float]
    feature_names: list[str]


class ModelInfo(ArmInfo):
    """The champion at the top level; the challenger beside it, when the registry names one and the
    challenger mode is not off."""

    features_as_of: dt.date | None
    customers_indexed: int
    challenger: ArmInfo | None = Field(description="The challenger served, null when there is none")
    challenger_mode: Literal["off", "shadow", "split"] = Field(
        description="off: champion only; shadow: the challenger scores every request unserved; "
        "split: it answers challenger_share of customers"
    )
    challenger_share: float = Field(description="Share of customers the challenger answers in split mode")


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    ready: bool
    reason: str | None = Field(None, description="Why the service is not ready")
    model_version: str | None = None
    features_as_of: dt.date | None = None


class Problem(BaseModel):
    detail: str
