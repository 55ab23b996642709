"""The live search index: loaded once, swapped whole when a new build is published.

Requests read `LiveIndex.current` once and use that object throughout, so each request sees
either the old build or the new one, never a mix. Swapping is one attribute assignment.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from indexer import store
from indexer.analysis import Analyzer
from retrieval.search import SearchIndex

logger = logging.getLogger("deflect.index")


class LiveIndex:
    def __init__(self, index_dir: Path, *, model: str, analyzer: Analyzer) -> None:
        self.index_dir = index_dir
        self.model = model
        self.analyzer = analyzer
        self.current: SearchIndex | None = None
        self.problem: str | None = None
        self._reload_lock = threading.Lock()
        self._failed_build: str | None = None

    def load(self) -> None:
        """Load the live build; if it is missing or broken, keep (or find) the last good one and say why."""
        with self._reload_lock:
            try:
                build = store.load_current(
                    self.index_dir, expected_model=self.model, expected_analyzer=self.analyzer.name
                )
            except store.StoreError as exc:
                self.problem = str(exc)
                self._failed_build = store.current_build_id(self.index_dir)
                logger.error("index problem: %s", exc)
                if self.current is None and not isinstance(exc, store.IndexNotFoundError):
                    fallback = store.load_last_good(
                        self.index_dir, expected_model=self.model, expected_analyzer=self.analyzer.name
                    )
                    if fallback is not None:
                        logger.warning("serving the last good build %s", fallback.build_id)
                        self.current = SearchIndex(fallback, self.analyzer)
                return
            self.current = SearchIndex(build, self.analyzer)
            self.problem = None
            logger.info("serving index build %s (%d articles)", build.build_id, len(build.articles))

    def refresh(self) -> bool:
        """Load a newly published build if CURRENT moved; True when the live build changed."""
        published = store.current_build_id(self.index_dir)
        current = self.current.build_id if self.current else None
        # A broken build is tried once; the next publish gets a new id and is tried again.
        if published is None or published in (current, self._failed_build):
            return False
        self.load()
        return self.current is not None and self.current.build_id != current
