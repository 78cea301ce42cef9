"""Thin asset definitions, one module per layer: load inputs, call a transform, return data with metadata."""
