"""The stages import one way: app -> retrieval -> indexer, and only app/api knows it is behind HTTP."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, anywhere in it (function-level imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str, *, leaving_out: str | None = None) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / package).rglob("*.py"))
        if leaving_out is None or not path.is_relative_to(ROOT / leaving_out)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"), [("indexer", {"app", "retrieval", "bench"}), ("retrieval", {"app", "bench"})]
)
def test_a_stage_never_imports_a_later_one(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) & forbidden) for path in _modules(package)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_http_edge_imports_fastapi_or_starlette() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("indexer", "retrieval", "app")
        for path in _modules(package, leaving_out="app/api")
        if _imported_packages(path) & {"fastapi", "starlette"}
    ]
    assert offenders == []
