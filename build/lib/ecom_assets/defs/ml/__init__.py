"""The propensity model, the promotion decision and the batch scores."""
