"""The champion model and its online features, reloaded when the registry or the features table changes.

Everything a request needs is in one immutable ``Snapshot``; a reload builds a new one off the request
path and swaps the reference, so a request that read the old snapshot finishes on it and none ever sees
half of each. A new champion that fails its SHA-256 check or does not load is logged and skipped, and
the old snapshot keeps serving.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.registry import ModelManifest, ModelRegistry
from ecom_assets.ml.scorer import Scorer
from ecom_assets.storage.lake import Lake
from serving.online_features import FeatureIndex, features_version, load_feature_index, no_activity_vector

CHECK_ROWS = 500

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    manifest: ModelManifest
    scorer: Scorer


@dataclass(frozen=True)
class Snapshot:
    model: ServedModel
    features: FeatureIndex | None
    features_version: int | None
    features_problem: str | None


class ModelStore:
    def __init__(self, lake: Lake):
        self.lake = lake
        self.registry = ModelRegistry(lake)
        self.snapshot: Snapshot | None = None
        self.problem: str | None = "starting: the champion pointer has not been read yet"
        self.refused_version: str | None = None
        self.reloads = 0
        self.refusals = 0

    @property
    def not_ready_reason(self) -> str | None:
        snapshot = self.snapshot
        if snapshot is None:
            return self.problem
        return snapshot.features_problem

    def refresh(self) -> None:
        """Pick up a new champion or a newly written features partition; runs off the request path."""
        try:
            champion = self.registry.champion_version()
            table_version = features_version(self.lake)
        except Exception as error:  # storage hiccup: keep serving, try again at the next poll
            log.exception("cannot read the model registry or the features table in %s", self.lake.uri)
            self.problem = f"cannot read the registry in {self.lake.uri}: {error}"
            return
        current = self.snapshot
        if champion is None:
            if current is None:
                self.problem = "no champion model has been promoted yet: train one and promote it"
            return
        model = self._model(champion, current)
        if model is None:
            return
        if current and model is current.model and current.features_version == table_version:
            return
        self._swap(model, table_version, current)

    def _model(self, champion: str, current: Snapshot | None) -> ServedModel | None:
        if current and current.model.manifest.version == champion:
            return current.model
        if champion == self.refused_version:
            return current.model if current else None
        try:
            loaded = self.registry.load_champion()
            reference = self.registry.reference_features(loaded.manifest.version).head(CHECK_ROWS)
            names = loaded.manifest.feature_names
            check_rows = np.vstack([feature_matrix(reference, names), no_activity_vector(names)])
            with threadpool_limits(1):  # an OpenMP pool next to the serving thread would only contend
                model = ServedModel(loaded.manifest, Scorer(loaded.model, check_rows))
        except Exception as error:
            self.refused_version = champion
            self.refusals += 1
            serving = f"still serving {current.model.manifest.version}" if current else "nothing to serve"
            log.error("champion %s refused (%s): %s", champion, serving, error)
            if current is None:
                self.problem = f"champion {champion} cannot be served: {error}"
            return current.model if current else None
        log.info("loaded champion %s", model.manifest.version)
        return model

    def _swap(self, model: ServedModel, table_version: int | None, current: Snapshot | None) -> None:
        problem = None
        try:
            features = load_feature_index(self.lake, model.manifest.feature_names)
        except Exception as error:
            log.warning("online features not loaded for %s: %s", model.manifest.version, error)
            same_features = current and current.model.manifest.feature_names == model.manifest.feature_names
            if same_features and current.features is not None:
                if model is current.model:
                    return  # nothing changes: retry at the next poll
                features, table_version = current.features, current.features_version
            else:
                features, table_version = None, None
                problem = f"features for model {model.manifest.version} not loaded: {error}"
        self.snapshot = Snapshot(model, features, table_version, problem)
        self.problem = None
        self.reloads += 1
        if features is not None:
            version, customers = model.manifest.version, len(features)
            log.info("serving %s with %d customers' features as of %s", version, customers, features.as_of)
