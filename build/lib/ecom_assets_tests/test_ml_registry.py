"""Model registry: versions round-trip, tampered artifacts are refused, the champion pointer is atomic."""

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from ecom_assets.ml.registry import ArtifactIntegrityError, ModelRegistry

WINDOW = (dt.date(2026, 10, 1), dt.date(2026, 10, 10))


def _register(registry: ModelRegistry, seed: int = 0, trained_at: dt.datetime | None = None):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(60, 2))
    labels = (features[:, 0] > 0).astype(int)
    model = make_pipeline(LogisticRegression()).fit(features, labels)
    return registry.register(
        model,
        training_window=WINDOW,
        validation_window=(dt.date(2026, 10, 18), dt.date(2026, 10, 20)),
        feature_names=["a", "b"],
        metrics={"roc_auc": 0.8},
        split="time",
        data_fingerprint="abc",
        reference_features=pl.DataFrame(features, schema=["a", "b"]),
        validation_scores=model.predict_proba(features)[:, 1],
        trained_at=trained_at,
    )


def test_register_and_load_round_trip(lake):
    registry = ModelRegistry(lake)
    manifest = _register(registry)

    loaded = registry.load(manifest.version)
    assert registry.versions() == [manifest.version]
    assert loaded.manifest == manifest
    assert loaded.manifest.feature_names == ["a", "b"]
    assert loaded.model.predict_proba(np.zeros((1, 2))).shape == (1, 2)
    assert registry.reference_features(manifest.version).shape == (60, 2)
    assert registry.validation_scores(manifest.version).shape == (60,)
    metrics = json.loads(
        lake.read_bytes(f"ml/registry/propensity_model/versions/{manifest.version}/metrics.json")
    )
    assert metrics == {"roc_auc": 0.8}


def test_tampered_artifact_is_refused_before_unpickling(lake):
    registry = ModelRegistry(lake)
    version = _register(registry).version
    path = f"ml/registry/propensity_model/versions/{version}/propensity_model.joblib"
    data = bytearray(lake.read_bytes(path))
    data[-1] ^= 0xFF
    lake.write_bytes(path, bytes(data))

    with pytest.raises(ArtifactIntegrityError, match=version):
        registry.load(version)
    with pytest.raises(ArtifactIntegrityError):
        registry.promote(version)


def test_champion_pointer_is_replaced_whole(lake):
    registry = ModelRegistry(lake)
    assert registry.champion_version() is None and registry.load_champion() is None
    first = _register(registry, seed=0, trained_at=dt.datetime(2026, 10, 21, tzinfo=dt.UTC))
    second = _register(registry, seed=1, trained_at=dt.datetime(2026, 10, 22, tzinfo=dt.UTC))
    assert registry.versions() == [first.version, second.version]

    registry.promote(first.version)
    registry.promote(second.version)

    assert registry.champion_version() == second.version
    assert registry.load_champion().manifest.version == second.version
    pointer = json.loads(lake.read_bytes("ml/registry/propensity_model/champion.json"))
    assert pointer["sha256"] == second.sha256
    leftovers = [path for path in lake.list_files("ml/registry/propensity_model") if path.endswith(".tmp")]
    assert leftovers == []


def test_unknown_version_names_itself(lake):
    with pytest.raises(LookupError, match="nope"):
        ModelRegistry(lake).load("nope")


def test_a_version_without_manifest_is_invisible(lake):
    registry = ModelRegistry(lake)
    version = _register(registry).version
    lake.write_bytes(
        "ml/registry/propensity_model/versions/20990101T000000Z-deadbeef/propensity_model.joblib", b"x"
    )
    assert registry.versions() == [version]


def test_a_challenger_is_pointed_at_verified_and_cleared_beside_the_champion(lake):
    registry = ModelRegistry(lake)
    first = _register(registry, seed=0, trained_at=dt.datetime(2026, 10, 21, tzinfo=dt.UTC)).version
    second = _register(registry, seed=1, trained_at=dt.datetime(2026, 10, 22, tzinfo=dt.UTC)).version
    registry.promote(first, reason="first model")
    registry.assign("challenger", second, reason="close to the champion")
    assert (registry.champion_version(), registry.version_in("challenger")) == (first, second)
    assert registry.load_role("challenger").manifest.version == second
    registry.clear("challenger")
    assert registry.version_in("challenger") is None and registry.load_role("challenger") is None
    assert registry.champion_version() == first
    with pytest.raises(ValueError, match="never cleared"):
        registry.clear("champion")
    with pytest.raises(ValueError, match="unknown serving role"):
        registry.assign("canary", first)
