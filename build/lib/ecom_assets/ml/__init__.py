"""Propensity model: training set, split, metrics, training, promotion gate and the model registry."""
