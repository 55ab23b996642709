import numpy as np

from bench.run import SharedPassageVectors
from tests.fakes import HashingEmbedder


def test_shared_passage_vectors_embed_each_distinct_text_once_and_return_the_models_vectors() -> None:
    inner = HashingEmbedder()
    shared = SharedPassageVectors(inner)
    first = shared.embed_documents(["パスワードの再設定", "Reset your password", "パスワードの再設定"])
    again = shared.embed_documents(["Reset your password", "Two-factor sign-in"])
    assert inner.documents_embedded == shared.embedded == 3
    np.testing.assert_array_equal(
        first, inner.embed_queries(["パスワードの再設定", "Reset your password", "パスワードの再設定"])
    )
    np.testing.assert_array_equal(again[0], first[1])
    assert shared.embed_documents([]).shape == (0, inner.dim)


def test_shared_passage_vectors_never_cache_queries() -> None:
    inner = HashingEmbedder()
    shared = SharedPassageVectors(inner)
    shared.embed_documents(["How do I export invoices?"])
    calls: list[list[str]] = []
    original = inner.embed_queries
    inner.embed_queries = lambda texts: calls.append(list(texts)) or original(texts)  # type: ignore[method-assign]
    shared.embed_queries(["How do I export invoices?"])
    assert calls == [["How do I export invoices?"]]
