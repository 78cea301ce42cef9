"""The champion and challenger models with their online features, reloaded when the registry's role
pointers or the features table change.

Everything a request needs is in one immutable ``Snapshot``: both arms, each with the score of every
indexed customer computed once at load (the scorer over the whole partition, bit-identical to
``predict_proba``, so a lookup answers exactly the batch score). A reload builds a new snapshot off the
request path and swaps the reference, so a request that read the old snapshot finishes on it and none ever
sees half of each. A model that fails its SHA-256 check or does not load is logged and skipped, and the
old one keeps serving.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.registry import CHALLENGER_ROLE, CHAMPION_ROLE, ModelManifest, ModelRegistry
from ecom_assets.ml.scorer import Scorer
from ecom_assets.storage.lake import Lake
from serving.online_features import FeatureIndex, features_version, load_feature_index, no_activity_vector
from serving.prediction_log import epoch_days

CHECK_ROWS = 500

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    manifest: ModelManifest
    scorer: Scorer
    no_activity: np.ndarray
    cold_score: float  # the score of every customer the features do not know


COLD = -1  # the lookup position of a customer the features do not know


@dataclass(frozen=True)
class ServedArm:
    role: str  # champion or challenger
    model: ServedModel
    # The score of each row of the snapshot's feature index, then the cold-start score: looking up
    # position ``COLD`` (-1) answers a customer the features do not know.
    scores: list[float]

    @property
    def version(self) -> str:
        return self.model.manifest.version


@dataclass(frozen=True)
class Snapshot:
    champion: ServedArm
    challenger: ServedArm | None
    features: FeatureIndex | None
    features_version: int | None
    features_problem: str | None

    def arm(self, role: str) -> ServedArm | None:
        return self.champion if role == CHAMPION_ROLE else self.challenger

    def arm_serving(self, version: str) -> ServedArm | None:
        """The arm that serves this version in either role: a promoted challenger is not loaded twice."""
        return next((arm for arm in (self.champion, self.challenger) if arm and arm.version == version), None)

    @property
    def as_of_days(self) -> int | None:
        return epoch_days(self.features.as_of) if self.features else None


def score_rows(model: ServedModel, features: FeatureIndex | None) -> list[float]:
    if features is None:
        return [model.cold_score]
    with threadpool_limits(1):  # an OpenMP pool next to the serving thread would only contend
        scores = model.scorer.score_many(features.matrix(model.manifest.feature_names))
    return [*scores.tolist(), model.cold_score]


def freeze_what_is_loaded() -> None:
    """Collect what loading left behind, then exempt every live object from later collections.

    The modules, the models and the features live until the next reload, and a full collection that
    scans their 200,000 objects holds the GIL for over 100 ms: a stall in the middle of serving. The old
    snapshot is freed by reference counting once no request holds it; a frozen object is freed the same way.
    """
    gc.collect()
    gc.freeze()


class ModelStore:
    def __init__(self, lake: Lake, with_challenger: bool = True):
        self.lake = lake
        self.with_challenger = with_challenger  # with the challenger mode off, it is not even loaded
        self.registry = ModelRegistry(lake)
        self.snapshot: Snapshot | None = None
        self.problem: str | None = "starting: the champion pointer has not been read yet"
        self.refused: dict[str, str] = {}  # role -> the version last refused for it
        self.reloads = 0
        self.refusals = 0

    @property
    def not_ready_reason(self) -> str | None:
        snapshot = self.snapshot
        if snapshot is None:
            return self.problem
        return snapshot.features_problem

    def refresh(self) -> None:
        """Pick up new role pointers or a newly written features partition; runs off the request path."""
        try:
            champion_version = self.registry.version_in(CHAMPION_ROLE)
            challenger_version = self.registry.version_in(CHALLENGER_ROLE) if self.with_challenger else None
            table_version = features_version(self.lake)
        except Exception as error:  # storage hiccup: keep serving, try again at the next poll
            log.exception("cannot read the model registry or the features table in %s", self.lake.uri)
            self.problem = f"cannot read the registry in {self.lake.uri}: {error}"
            return
        current = self.snapshot
        if champion_version is None:
            if current is None:
                self.problem = "no champion model has been promoted yet: train one and promote it"
            return
        champion = self._model(CHAMPION_ROLE, champion_version, current)
        if champion is None:
            return
        challenger = self._model(CHALLENGER_ROLE, challenger_version, current) if challenger_version else None
        features, table_version, problem = self._features(table_version, current)
        if current and features is current.features and problem == current.features_problem:
            current_challenger = current.challenger.model if current.challenger else None
            if champion is current.champion.model and challenger is current_challenger:
                return
        self._swap(champion, challenger, features, table_version, problem, current)

    def _model(self, role: str, version: str, current: Snapshot | None) -> ServedModel | None:
        loaded = current.arm_serving(version) if current else None
        if loaded:
            return loaded.model
        arm = current.arm(role) if current else None
        serving = arm.model if arm else None
        if self.refused.get(role) == version:
            return serving
        try:
            model = self._load(role)
        except Exception as error:
            self.refused[role] = version
            self.refusals += 1
            still = (
                f"still serving {serving.manifest.version}" if serving else "nothing to serve in that role"
            )
            log.error("%s %s refused (%s): %s", role, version, still, error)
            if role == CHAMPION_ROLE and current is None:
                self.problem = f"champion {version} cannot be served: {error}"
            return serving
        log.info("loaded %s %s", role, model.manifest.version)
        return model

    def _load(self, role: str) -> ServedModel:
        loaded = self.registry.load_role(role)
        if loaded is None:
            raise LookupError(f"the {role} pointer was cleared while it was being read")
        names = loaded.manifest.feature_names
        no_activity = no_activity_vector(names)
        reference = self.registry.reference_features(loaded.manifest.version).head(CHECK_ROWS)
        check_rows = np.vstack([feature_matrix(reference, names), no_activity])
        with threadpool_limits(1):
            scorer = Scorer(loaded.model, check_rows)
            cold_score = float(scorer.score_many(no_activity.reshape(1, -1))[0])
        return ServedModel(loaded.manifest, scorer, no_activity, cold_score)

    def _features(
        self, table_version: int | None, current: Snapshot | None
    ) -> tuple[FeatureIndex | None, int | None, str | None]:
        if current and current.features is not None and current.features_version == table_version:
            return current.features, table_version, None
        try:
            return load_feature_index(self.lake), table_version, None
        except Exception as error:
            log.warning("online features not loaded: %s", error)
            if current and current.features is not None:
                return current.features, current.features_version, None  # retried at the next poll
            return None, None, f"features not loaded: {error}"

    def _swap(
        self,
        champion: ServedModel,
        challenger: ServedModel | None,
        features: FeatureIndex | None,
        table_version: int | None,
        problem: str | None,
        current: Snapshot | None,
    ) -> None:
        try:
            champion_arm = self._arm(CHAMPION_ROLE, champion, features, current)
        except Exception as error:  # e.g. an old partition without a column the new champion needs
            log.warning("features as of %s cannot serve %s: %s", features and features.as_of, champion, error)
            features, table_version, problem = None, None, f"features not usable: {error}"
            champion_arm = self._arm(CHAMPION_ROLE, champion, None, current)
        challenger_arm = None
        if challenger is not None:
            try:
                challenger_arm = self._arm(CHALLENGER_ROLE, challenger, features, current)
            except Exception as error:
                log.error("challenger %s not served: %s", challenger.manifest.version, error)
        self.snapshot = Snapshot(champion_arm, challenger_arm, features, table_version, problem)
        self.problem = None
        freeze_what_is_loaded()
        self.reloads += 1
        if features is not None:
            arms = ", ".join(f"{arm.role} {arm.version}" for arm in (champion_arm, challenger_arm) if arm)
            log.info("serving %s; %d customers' features as of %s", arms, len(features), features.as_of)

    def _arm(
        self, role: str, model: ServedModel, features: FeatureIndex | None, current: Snapshot | None
    ) -> ServedArm:
        previous = current.arm_serving(model.manifest.version) if current else None
        if previous and previous.model is model and current and current.features is features:
            return previous if previous.role == role else ServedArm(role, model, previous.scores)
        return ServedArm(role, model, score_rows(model, features))
