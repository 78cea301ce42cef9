"""Servers that tests start (uvicorn, Azurite): logged to a file, always stopped."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def background_process(command: list[str], log_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Run ``command`` with its output in ``log_path``; terminate it (kill if it lingers) on the way out."""
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
