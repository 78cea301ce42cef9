"""Errors of the operator workflows that the CLI reports in one line, importable without Dagster."""


class RunFailedError(RuntimeError):
    """A step of the plan failed; the message names the run and the failing step."""
