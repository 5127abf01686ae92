"""Classifiers on the embedder's vectors and character n-grams, trained from data, versioned as arrays."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from assistant.search.classifier import LinearModel, fit_text_model, load_or_train

pytestmark = pytest.mark.unit

TEXTS = ["着火了 快来人", "办护照多少钱", "我妈晕倒了", "路灯坏了", "help fire now", "how much is it", "有人落水",
         "公积金怎么取"] * 3


class CountingEmbedder:
    """A deterministic stand-in embedder (hash of the text) that counts what it embeds."""

    name = "test/hash"
    dim = 8

    def __init__(self):
        self.embedded = 0

    def queries(self, texts, cache=None):
        self.embedded += len(texts)
        return np.stack([np.random.RandomState(abs(hash(t)) % 2**31).normal(size=self.dim) for t in texts])


@pytest.mark.parametrize("labels", [["d", "c"] * 12, ["a", "b", "c"] * 8])
def test_text_model_gives_scikit_learns_probabilities_with_numpy(labels):
    vectors = np.random.RandomState(0).normal(size=(len(TEXTS), 8))
    model = fit_text_model(TEXTS, vectors, labels)
    grams = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True).fit(TEXTS)
    features = hstack([csr_matrix(vectors * 3), grams.transform(TEXTS)]).tocsr()
    reference = LogisticRegression(C=8, max_iter=4000, class_weight="balanced").fit(features, labels)
    assert np.allclose(reference.predict_proba(features), model.proba(vectors, TEXTS), atol=1e-9)


def test_a_model_is_trained_again_when_its_data_changes_and_kept_under_home(tmp_path, monkeypatch):
    monkeypatch.setattr("assistant.search.classifier.VERSIONED", tmp_path / "versioned")
    embedder = CountingEmbedder()
    data = {"rows": (["a", "b", "c", "d"], ["x", "y", "x", "y"])}
    first = load_or_train("demo", lambda: data["rows"], embedder, tmp_path)
    assert (tmp_path / "models" / "demo.npz").exists() and embedder.embedded == 4
    again = load_or_train("demo", lambda: data["rows"], embedder, tmp_path)
    assert embedder.embedded == 4 and again.data == first.data  # unchanged data: loaded, not trained
    data["rows"] = (["a", "b", "c", "e"], ["x", "y", "x", "y"])
    changed = load_or_train("demo", lambda: data["rows"], embedder, tmp_path)
    assert embedder.embedded == 8 and changed.data != first.data


def test_linear_model_round_trips_through_a_file(tmp_path):
    model = LinearModel(classes=("a", "b", "c"), coef=np.eye(3, 4), intercept=np.zeros(3), embedder="e", data="d")
    model.save(tmp_path / "m.npz")
    loaded = LinearModel.load(tmp_path / "m.npz")
    x = np.array([[1.0, 0.0, 0.0, 0.0]])
    assert loaded.predict(x) == ["a"] and np.allclose(loaded.proba(x), model.proba(x))
