"""Print the requirements of the Dagster webserver and daemon image, read from pyproject.toml.

They are the ``deploy`` extra plus the pinned Dagster packages the webserver and daemon run, wherever
pyproject.toml declares them: the pins live in one place, and the image never installs the project.
"""

import re
import sys
import tomllib
from pathlib import Path

SERVICE_PACKAGES = ("dagster", "dagster-webserver")


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def service_requirements(pyproject: dict) -> list[str]:
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    declared = [*project.get("dependencies", []), *(req for group in extras.values() for req in group)]
    pinned = {requirement_name(req): req for req in declared if "==" in req}
    missing = [name for name in SERVICE_PACKAGES if name not in pinned]
    if missing or "deploy" not in extras:
        raise SystemExit(f"pyproject.toml: no pinned {', '.join(missing) or 'deploy extra'} to build from")
    return [*(pinned[name] for name in SERVICE_PACKAGES), *extras["deploy"]]


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    print("\n".join(service_requirements(tomllib.loads(path.read_text()))))
