"""A build killed with SIGKILL mid-way leaves the live index untouched, and the next build succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_index
from tests.factories import write_article
from tests.fakes import HashingEmbedder

REPO = Path(__file__).resolve().parents[2]
SLOW_BUILD = """
import sys, time
from pathlib import Path
from indexer.analysis import Analyzer
from indexer.build import build_index
from tests.fakes import HashingEmbedder

class SlowEmbedder(HashingEmbedder):
    def embed_documents(self, texts):
        print("embedding", flush=True)
        time.sleep(30)
        return super().embed_documents(texts)

build_index(content_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), embedder=SlowEmbedder(),
            analyzer=Analyzer(), force=True)
"""


def test_a_build_killed_mid_way_leaves_the_live_index_and_the_next_build_succeeds(
    content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    live = store.current_build_id(index_dir)
    write_article(content_dir, id="new-article", title="新しい記事", body="## 本文\n新機能の説明です。")
    with subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILD, str(content_dir), str(index_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    ) as builder:
        assert builder.stdout is not None
        assert builder.stdout.readline().strip() == "embedding"  # it holds the lock and is mid-build
        os.kill(builder.pid, signal.SIGKILL)
        builder.wait(timeout=10)

    assert store.current_build_id(index_dir) == live
    assert store.load_current(index_dir).build_id == live
    started = time.monotonic()
    report = build_index(content_dir=content_dir, index_dir=index_dir, embedder=HashingEmbedder(), analyzer=analyzer)
    assert report.published and "new-article" in report.added
    assert store.load_current(index_dir).build_id == report.build_id
    assert time.monotonic() - started < 10  # the dead builder's lock did not outlive it
