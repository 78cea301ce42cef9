"""Operator workflows on top of the definitions: the range runs of `ecom materialize`, the demo, the drift
episode and the CI drift check. Nothing here is loaded by Dagster itself."""
