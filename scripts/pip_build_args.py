"""Print the podman build arguments that give pip in the build this host's pip settings, one per line:
each setting as a build argument (PIP_FIND_LINKS ...), each local directory or file it names mounted read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

# The settings that say where packages come from; the Dockerfile declares one ARG for each.
PASSED = ("index-url", "extra-index-url", "find-links", "no-index", "constraint", "cert", "trusted-host")


def effective_settings(listing: str) -> dict[str, str]:
    """The settings of `pip config list` that apply to every command: PIP_* variables win over config files."""
    found: dict[str, str] = {}
    for line in listing.splitlines():
        name, _, quoted = line.partition("=")
        section, _, key = name.rpartition(".")
        if key in PASSED and section in (":env:", "global") and (section == ":env:" or key not in found):
            found[key] = quoted.strip("'")
    return found


def local_paths(key: str, value: str) -> list[Path]:
    """The paths on this host that a setting names: plain paths and file:// URLs."""
    paths = []
    for token in value.split():
        path = Path(unquote(urlparse(token).path)) if token.startswith("file:") else Path(token)
        if key.endswith("index-url"):
            path = path.parent  # an index's pages may link files beside it (../files/...)
        if path.is_absolute() and path.exists():
            paths.append(path)
    return paths


def build_args(settings: dict[str, str]) -> list[str]:
    """--build-arg and --volume arguments for podman build."""
    args = []
    for key, value in settings.items():
        args.append(f"--build-arg=PIP_{key.upper().replace('-', '_')}={value}")
        args.extend(f"--volume={path}:{path}:ro" for path in local_paths(key, value))
    return args


def main() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], check=True, capture_output=True, text=True
    ).stdout
    sys.stdout.write("".join(f"{arg}\n" for arg in build_args(effective_settings(listing))))


if __name__ == "__main__":
    main()
