"""Refuse a pip install plan that would bring in CUDA: `python scripts/cpu_only.py plan.json` after
`pip install --dry-run --report plan.json ...`. A torch from the wrong index pulls gigabytes of CUDA libraries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def cuda_packages(report: dict[str, Any]) -> list[str]:
    """The packages of a pip installation report that are CUDA libraries (nvidia-*), or torch built for CUDA."""
    found = []
    for item in report.get("install", []):
        name, version = item["metadata"]["name"].lower(), item["metadata"]["version"]
        if name.startswith("nvidia-") or (name == "torch" and "+cu" in version):
            found.append(f"{name} {version}")
    return found


def main() -> None:
    found = cuda_packages(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    if found:
        sys.exit(
            f"pip would install {', '.join(found[:3])}: a CUDA build. Point pip at an index or wheel directory "
            "that holds the CPU torch wheel (docs/container.md)."
        )


if __name__ == "__main__":
    main()
