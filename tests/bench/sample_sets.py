"""Tiny data sets in the shared layout (articles.jsonl, queries.jsonl) for the benchmark's own tests."""

import json
from pathlib import Path
from typing import Any

BASE = [
    {
        "id": "reset",
        "title": "パスワードを忘れた場合の再設定方法",
        "body": "ログイン画面の「パスワードを忘れた」から再設定します。",
    },
    {
        "id": "invoice",
        "title": "Downloading invoices and receipts",
        "body": "Open Billing, then Invoices, and download.",
    },
]
VARIANT = [*BASE, {"id": "sso", "title": "SSO sign-in fails with E-2001", "body": "Ask your admin to check the IdP."}]
OTHER = [{"id": "dark", "title": "Dark mode", "body": "Settings."}]


def write_dataset(datasets_dir: Path, name: str, articles: list[dict[str, str]], queries: list[dict[str, Any]]) -> None:
    directory = datasets_dir / name
    directory.mkdir(parents=True)
    for file, rows in (("articles.jsonl", articles), ("queries.jsonl", queries)):
        (directory / file).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
