"""Model registry in the lake: immutable version folders plus an atomically replaced champion pointer.

Layout under ``ml/registry/<name>/``::

    versions/<version>/propensity_model.joblib   the fitted sklearn Pipeline
    versions/<version>/metrics.json              validation metrics (model and baselines)
    versions/<version>/reference_features.parquet  training feature sample, the drift reference
    versions/<version>/validation_scores.parquet   column ``score``, the prediction-drift reference
    versions/<version>/manifest.json             written last: a version exists once this does
    champion.json                                {"version", "sha256", "assigned_at", "reason"}
    challenger.json                              the same, for a challenger served beside the champion

Artifacts are verified against their SHA-256 before unpickling, so a tampered or truncated file is
refused instead of executed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from importlib.metadata import version as package_version
from typing import Protocol

import joblib
import numpy as np
import polars as pl
from pydantic import BaseModel

from ecom_assets.faults import REGISTRY_BEFORE_MANIFEST, fault_point
from ecom_assets.storage.lake import Lake

MODEL_FILE = "propensity_model.joblib"
REFERENCE_MAX_ROWS = 100_000
TRACKED_LIBRARIES = ("scikit-learn", "numpy", "polars", "joblib")
CHAMPION_ROLE = "champion"
CHALLENGER_ROLE = "challenger"
ROLES = (CHAMPION_ROLE, CHALLENGER_ROLE)


class ArtifactIntegrityError(ValueError):
    """A registry artifact does not match the SHA-256 recorded for it."""


class ModelManifest(BaseModel):
    version: str
    trained_at: dt.datetime
    training_window: tuple[dt.date, dt.date]
    validation_window: tuple[dt.date, dt.date]
    feature_names: list[str]
    metrics: dict[str, float]
    split: str
    sha256: str
    data_fingerprint: str
    library_versions: dict[str, str]


class Classifier(Protocol):
    """What the project asks of a fitted model: scikit-learn's probability interface."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LoadedModel:
    model: Classifier
    manifest: ModelManifest


def library_versions() -> dict[str, str]:
    return {name: package_version(name) for name in TRACKED_LIBRARIES}


def _version_id(trained_at: dt.datetime, sha256: str) -> str:
    return f"{trained_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{sha256[:8]}"


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


class ModelRegistry:
    def __init__(self, lake: Lake, name: str = "propensity_model"):
        self.lake = lake
        self.name = name
        self.root = f"ml/registry/{name}"

    def _file(self, version: str, filename: str) -> str:
        return f"{self.root}/versions/{version}/{filename}"

    def register(
        self,
        model: object,
        *,
        training_window: tuple[dt.date, dt.date],
        validation_window: tuple[dt.date, dt.date],
        feature_names: list[str],
        metrics: dict[str, float],
        split: str,
        data_fingerprint: str,
        reference_features: pl.DataFrame,
        validation_scores: np.ndarray,
        validation_keys: pl.DataFrame | None = None,
        trained_at: dt.datetime | None = None,
    ) -> ModelManifest:
        """Store a new immutable version; the manifest goes last so a half-written one stays invisible.

        ``validation_keys`` (``customer_id``, ``as_of_date`` per validation row) let the promotion gate
        score a champion on exactly the candidate's validation rows.
        """
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        model_bytes = buffer.getvalue()
        sha256 = hashlib.sha256(model_bytes).hexdigest()
        trained_at = trained_at or dt.datetime.now(dt.UTC)
        manifest = ModelManifest(
            version=_version_id(trained_at, sha256),
            trained_at=trained_at,
            training_window=training_window,
            validation_window=validation_window,
            feature_names=feature_names,
            metrics=metrics,
            split=split,
            sha256=sha256,
            data_fingerprint=data_fingerprint,
            library_versions=library_versions(),
        )
        if reference_features.height > REFERENCE_MAX_ROWS:
            reference_features = reference_features.sample(REFERENCE_MAX_ROWS, seed=0)
        scores = pl.DataFrame({"score": np.asarray(validation_scores, dtype=np.float64)})
        if validation_keys is not None:
            scores = validation_keys.select("customer_id", "as_of_date").with_columns(scores["score"])
        files = {
            MODEL_FILE: model_bytes,
            "metrics.json": json.dumps(metrics, indent=2, sort_keys=True).encode(),
            "reference_features.parquet": _parquet_bytes(reference_features),
            "validation_scores.parquet": _parquet_bytes(scores),
        }
        for filename, data in files.items():
            self.lake.write_bytes(self._file(manifest.version, filename), data)
        fault_point(REGISTRY_BEFORE_MANIFEST)
        self.lake.write_bytes(
            self._file(manifest.version, "manifest.json"), manifest.model_dump_json(indent=2).encode()
        )
        return manifest

    def versions(self) -> list[str]:
        """Complete versions, oldest first (version ids sort by training time)."""
        folders = self.lake.list_files(f"{self.root}/versions")
        names = [folder.rsplit("/", 1)[1] for folder in folders]
        return [name for name in names if self.lake.exists(self._file(name, "manifest.json"))]

    def manifest(self, version: str) -> ModelManifest:
        path = self._file(version, "manifest.json")
        if not self.lake.exists(path):
            raise LookupError(f"model version {version!r} is not in the registry {self.root}")
        return ModelManifest.model_validate_json(self.lake.read_bytes(path))

    def load(self, version: str) -> LoadedModel:
        manifest = self.manifest(version)
        data = self.lake.read_bytes(self._file(version, MODEL_FILE))
        actual = hashlib.sha256(data).hexdigest()
        if actual != manifest.sha256:
            raise ArtifactIntegrityError(
                f"model version {version}: {MODEL_FILE} has SHA-256 {actual[:12]}…, manifest says "
                f"{manifest.sha256[:12]}…; the artifact was altered, retrain or restore it"
            )
        return LoadedModel(model=joblib.load(io.BytesIO(data)), manifest=manifest)

    # -- serving roles: champion and challenger ---------------------------------------------------

    def _pointer_path(self, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"unknown serving role {role!r}: one of {', '.join(ROLES)}")
        return f"{self.root}/{role}.json"

    def _pointer(self, role: str) -> dict | None:
        path = self._pointer_path(role)
        return json.loads(self.lake.read_bytes(path)) if self.lake.exists(path) else None

    def version_in(self, role: str) -> str | None:
        """The version a role points at, or None when nothing was ever set there (or it was cleared)."""
        pointer = self._pointer(role)
        return pointer["version"] if pointer else None

    def load_role(self, role: str) -> LoadedModel | None:
        """The model a role points at, verified against the SHA-256 the pointer recorded."""
        pointer = self._pointer(role)
        if pointer is None:
            return None
        loaded = self.load(pointer["version"])
        if loaded.manifest.sha256 != pointer["sha256"]:
            raise ArtifactIntegrityError(
                f"{role} pointer names {pointer['version']} with SHA-256 {pointer['sha256'][:12]}…, "
                f"but its manifest says {loaded.manifest.sha256[:12]}…; set a verified version again"
            )
        return loaded

    def assign(self, role: str, version: str, reason: str = "") -> None:
        """Point a role at a verified version, replacing the pointer file in one atomic write."""
        manifest = self.load(version).manifest
        pointer = {
            "version": version,
            "sha256": manifest.sha256,
            "assigned_at": dt.datetime.now(dt.UTC).isoformat(),
            "reason": reason,
        }
        self.lake.write_bytes(self._pointer_path(role), json.dumps(pointer, indent=2).encode())

    def clear(self, role: str) -> None:
        """Remove a role's pointer (a challenger promoted or retired); the champion is only ever replaced."""
        if role == CHAMPION_ROLE:
            raise ValueError("the champion pointer is replaced, never cleared")
        if self.lake.exists(self._pointer_path(role)):
            self.lake.remove(self._pointer_path(role))

    def champion_version(self) -> str | None:
        return self.version_in(CHAMPION_ROLE)

    def load_champion(self) -> LoadedModel | None:
        return self.load_role(CHAMPION_ROLE)

    def promote(self, version: str, reason: str = "") -> None:
        self.assign(CHAMPION_ROLE, version, reason)

    # -- drift references ----------------------------------------------------------------------

    def _read_parquet(self, version: str, filename: str) -> pl.DataFrame:
        return pl.read_parquet(io.BytesIO(self.lake.read_bytes(self._file(version, filename))))

    def reference_features(self, version: str) -> pl.DataFrame:
        return self._read_parquet(version, "reference_features.parquet")

    def validation_scores(self, version: str) -> np.ndarray:
        return self.validation_set(version)["score"].to_numpy()

    def validation_set(self, version: str) -> pl.DataFrame:
        """The candidate's validation scores, with ``customer_id`` and ``as_of_date`` when registered."""
        return self._read_parquet(version, "validation_scores.parquet")
