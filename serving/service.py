"""Scoring requests against the current snapshot: lookups, cold starts, arms, and the prediction log.

Each call reads ``store.snapshot`` once, so a model swap in the middle of a request cannot mix two
models, and does no I/O: the prediction log only queues. A known customer's score is a lookup (every
indexed customer was scored when the snapshot was built); explicit features are scored on the spot.

Which arm answers: the champion, unless the challenger mode is ``split`` and the customer's stable
hash falls in the challenger's share. Requests with explicit features carry no identity to keep stable,
so the champion answers them. In ``shadow`` mode the challenger scores every request too; its scores
go to the log (``served`` false) and the metrics, never into an answer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import TypedDict

import numpy as np

from serving.model_store import COLD, ModelStore, ServedArm, Snapshot
from serving.prediction_log import PredictionLog
from serving.prometheus import ScoreCounts
from serving.settings import ChallengerMode

HASH_SPACE = 2**64


class Scored(TypedDict):
    customer_id: str | None
    score: float
    model_version: str
    features_as_of: dt.date | None
    cold_start: bool
    arm: str


class NotReadyError(Exception):
    """No model (or, for customer lookups, no features) is loaded yet; the message says why."""


class FeatureNamesError(Exception):
    """The served model needs features the request cannot carry (it was trained on another feature list)."""

    def __init__(self, missing: list[str]):
        super().__init__(f"the model needs features {missing}")
        self.missing = missing


def customer_hash(customer_id: str) -> int:
    """A hash of the id that is the same in every process and release (unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(customer_id.encode(), digest_size=8).digest(), "big")


class ScoringService:
    def __init__(
        self,
        store: ModelStore,
        prediction_log: PredictionLog,
        counts: ScoreCounts,
        mode: ChallengerMode = "off",
        share: float = 0.0,
    ):
        self.store = store
        self.prediction_log = prediction_log
        self.counts = counts
        self.mode = mode
        self.share = share
        self._challenger_below = int(share * HASH_SPACE)

    def _snapshot(self, need_features: bool) -> Snapshot:
        snapshot = self.store.snapshot
        if snapshot is None:
            raise NotReadyError(self.store.not_ready_reason or "no model is loaded")
        if need_features and snapshot.features is None:
            raise NotReadyError(snapshot.features_problem or "no features are loaded")
        return snapshot

    def goes_to_challenger(self, customer_id: str) -> bool:
        return customer_hash(customer_id) < self._challenger_below

    def _arms(self, snapshot: Snapshot, customer_id: str | None) -> tuple[ServedArm, ServedArm | None]:
        """The arm that answers, and the one that scores in its shadow (if any)."""
        challenger = snapshot.challenger
        if challenger is None or self.mode == "off":
            return snapshot.champion, None
        if self.mode == "shadow":
            return snapshot.champion, challenger
        if customer_id is not None and self.goes_to_challenger(customer_id):
            return challenger, None
        return snapshot.champion, None

    def _assignments(
        self, snapshot: Snapshot, customer_ids: list[str]
    ) -> Iterator[tuple[ServedArm, bool, list[int]]]:
        """For a batch: (arm, served, positions in the batch it scores)."""
        everyone = list(range(len(customer_ids)))
        challenger = snapshot.challenger
        if challenger is None or self.mode == "off":
            yield snapshot.champion, True, everyone
        elif self.mode == "shadow":
            yield snapshot.champion, True, everyone
            yield challenger, False, everyone
        else:
            chosen = [self.goes_to_challenger(customer_id) for customer_id in customer_ids]
            yield challenger, True, [place for place in everyone if chosen[place]]
            yield snapshot.champion, True, [place for place in everyone if not chosen[place]]

    def _lookup(
        self, snapshot: Snapshot, arm: ServedArm, customer_id: str, position: int, served: bool
    ) -> Scored:
        score, cold_start = arm.scores[position], position == COLD
        self.prediction_log.record(
            customer_id, score, arm.version, cold_start, snapshot.as_of_days, arm.role, served
        )
        self.counts.add(arm.role, served, 1, int(cold_start))
        return {
            "customer_id": customer_id,
            "score": score,
            "model_version": arm.version,
            "features_as_of": snapshot.features.as_of if snapshot.features else None,
            "cold_start": cold_start,
            "arm": arm.role,
        }

    def score_customer(self, customer_id: str) -> Scored:
        snapshot = self._snapshot(need_features=True)
        position = snapshot.features.rows.get(customer_id, COLD) if snapshot.features else COLD
        answering, shadow = self._arms(snapshot, customer_id)
        if shadow is not None:
            self._lookup(snapshot, shadow, customer_id, position, served=False)
        return self._lookup(snapshot, answering, customer_id, position, served=True)

    def score_customers(self, customer_ids: list[str]) -> list[Scored]:
        """Batch lookups: one pass per arm over plain lists, rows logged per arm in one call."""
        snapshot = self._snapshot(need_features=True)
        features = snapshot.features
        assert features is not None  # _snapshot checked it
        rows, as_of = features.rows, features.as_of
        positions = [rows.get(customer_id, COLD) for customer_id in customer_ids]
        answers: list[Scored] = []
        places: list[int] = []
        for arm, served, picked in self._assignments(snapshot, customer_ids):
            ids = [customer_ids[place] for place in picked]
            scores = [arm.scores[positions[place]] for place in picked]
            cold = [positions[place] == COLD for place in picked]
            self.prediction_log.record_many(
                ids, scores, arm.version, cold, snapshot.as_of_days, arm.role, served
            )
            self.counts.add(arm.role, served, len(picked), sum(cold))
            if served:
                version, role = arm.version, arm.role
                places += picked
                answers += [
                    {
                        "customer_id": customer_id,
                        "score": score,
                        "model_version": version,
                        "features_as_of": as_of,
                        "cold_start": cold_start,
                        "arm": role,
                    }
                    for customer_id, score, cold_start in zip(ids, scores, cold, strict=True)
                ]
        if places == list(range(len(customer_ids))):
            return answers
        by_place = dict(zip(places, answers, strict=True))  # split mode: two arms, back in request order
        return [by_place[place] for place in range(len(customer_ids))]

    def _score_vector(self, arm: ServedArm, features: dict[str, float], served: bool) -> Scored:
        names = arm.model.manifest.feature_names
        try:
            row = np.fromiter(map(features.__getitem__, names), np.float64, len(names))
        except KeyError:
            raise FeatureNamesError([name for name in names if name not in features]) from None
        score = arm.model.scorer.score_one(row)
        self.prediction_log.record(None, score, arm.version, False, None, arm.role, served)
        self.counts.add(arm.role, served, 1, 0)
        return Scored(
            customer_id=None,
            score=score,
            model_version=arm.version,
            features_as_of=None,
            cold_start=False,
            arm=arm.role,
        )

    def score_features(self, features: dict[str, float]) -> Scored:
        snapshot = self._snapshot(need_features=False)
        answering, shadow = self._arms(snapshot, None)
        answer = self._score_vector(answering, features, served=True)
        if shadow is not None:
            with contextlib.suppress(FeatureNamesError):  # a shadow's needs never change the answer
                self._score_vector(shadow, features, served=False)
        return answer
