"""Scoring requests against the current snapshot: lookups, cold starts, and the prediction log.

Each call reads ``store.snapshot`` once, so a model swap in the middle of a request cannot mix two
models, and does no I/O: the prediction log only queues.
"""

from __future__ import annotations

import numpy as np

from serving.model_store import ModelStore, Snapshot
from serving.prediction_log import PredictionLog
from serving.prometheus import ScoreCounts
from serving.schemas import ScoreResponse


class NotReadyError(Exception):
    """No model (or, for customer lookups, no features) is loaded yet; the message says why."""


class FeatureNamesError(Exception):
    """The served model needs features the request cannot carry (it was trained on another feature list)."""

    def __init__(self, missing: list[str]):
        super().__init__(f"the model needs features {missing}")
        self.missing = missing


class ScoringService:
    def __init__(self, store: ModelStore, prediction_log: PredictionLog, counts: ScoreCounts):
        self.store = store
        self.prediction_log = prediction_log
        self.counts = counts

    def _snapshot(self, need_features: bool) -> Snapshot:
        snapshot = self.store.snapshot
        if snapshot is None:
            raise NotReadyError(self.store.not_ready_reason or "no model is loaded")
        if need_features and snapshot.features is None:
            raise NotReadyError(snapshot.features_problem or "no features are loaded")
        return snapshot

    def _respond(
        self, snapshot: Snapshot, customer_id: str | None, score: float, cold_start: bool
    ) -> ScoreResponse:
        version = snapshot.model.manifest.version
        as_of = snapshot.features.as_of if customer_id is not None else None
        self.prediction_log.record(customer_id, score, version, cold_start, as_of)
        return ScoreResponse(
            customer_id=customer_id,
            score=score,
            model_version=version,
            features_as_of=as_of,
            cold_start=cold_start,
        )

    def score_customer(self, customer_id: str) -> ScoreResponse:
        snapshot = self._snapshot(need_features=True)
        row = snapshot.features.row(customer_id)
        cold_start = row is None
        score = snapshot.model.scorer.score_one(snapshot.features.no_activity if cold_start else row)
        self.counts.add(1, int(cold_start))
        return self._respond(snapshot, customer_id, score, cold_start)

    def score_customers(self, customer_ids: list[str]) -> list[ScoreResponse]:
        snapshot = self._snapshot(need_features=True)
        index = snapshot.features
        positions = np.array([index.rows.get(customer_id, -1) for customer_id in customer_ids])
        cold = positions < 0
        rows = index.matrix[np.where(cold, 0, positions)]
        rows[cold] = index.no_activity
        scores = snapshot.model.scorer.score_many(rows)
        self.counts.add(len(customer_ids), int(cold.sum()))
        return [
            self._respond(snapshot, customer_id, float(score), bool(is_cold))
            for customer_id, score, is_cold in zip(customer_ids, scores, cold, strict=True)
        ]

    def score_features(self, features: dict[str, float]) -> ScoreResponse:
        snapshot = self._snapshot(need_features=False)
        names = snapshot.model.manifest.feature_names
        missing = [name for name in names if name not in features]
        if missing:
            raise FeatureNamesError(missing)
        score = snapshot.model.scorer.score_one(
            np.array([features[name] for name in names], dtype=np.float64)
        )
        self.counts.add(1, 0)
        return self._respond(snapshot, None, score, cold_start=False)
