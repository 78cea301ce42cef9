"""What goes wrong with storage, told in one line that names the lake and what to do."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from azure.core.exceptions import ServiceRequestError, ServiceResponseError

if TYPE_CHECKING:
    from ecom_assets.storage.lake import Lake

P = ParamSpec("P")
R = TypeVar("R")

# An unreachable object store: delta-rs raises a plain OSError, azure-core (adlfs) these. OSError's
# subclasses such as FileNotFoundError or PermissionError are answers, not outages, and pass unchanged.
_UNREACHABLE = (ConnectionError, TimeoutError, ServiceRequestError, ServiceResponseError)
_DECORATION = re.compile(r"\x1b\[[0-9;]*m|↳")


class ConcurrentWriteError(RuntimeError):
    """Another run kept committing to the same partitions of a table; the run can simply be retried."""


class LakeUnavailableError(RuntimeError):
    """The lake's storage did not answer; what was not committed is not there, so a rerun is safe."""


def root_cause(error: BaseException) -> str:
    """The innermost cause in an error message: delta-rs nests its causes one per line, each after ``↳``,
    and may end with the server's XML body."""
    lines = str(error).splitlines()
    causes = [_DECORATION.sub("", line).strip() for line in lines if "↳" in line]
    causes = [cause for cause in causes if cause and not cause.startswith("<")]
    return causes[-1] if causes else (lines[0] if lines else type(error).__name__)


def reaching_storage(method: Callable[Concatenate[Lake, P], R]) -> Callable[Concatenate[Lake, P], R]:
    """Turn an outage of the lake's storage inside ``method`` into one LakeUnavailableError."""

    @functools.wraps(method)
    def call(lake: Lake, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(lake, *args, **kwargs)
        except (OSError, *_UNREACHABLE) as error:
            if type(error) is not OSError and not isinstance(error, _UNREACHABLE):
                raise
            target = f" {args[0]}" if args else ""
            raise LakeUnavailableError(
                f"lake {lake.uri} failed in {method.__name__}{target}: {root_cause(error)} "
                "(nothing was half-written: check that the storage answers, then rerun)"
            ) from error

    return call
