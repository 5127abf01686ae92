"""Emergency triage: is something dangerous happening now, anywhere in the message, and of what kind.

Three parts, any of which can raise an emergency:
- a classifier on the embedder's vectors, sentence by sentence (logistic regression over the kinds of
  emergency, "none" and "fever", learned from seeds/training/emergency.jsonl: thousands of phrasings
  in Chinese and English, typos, dialect and near-misses included), with the threshold chosen for
  recall by cross-validation (`citydesk train`);
- the lexicon of prompts/emergency.yaml, a high-precision complement that also fires inside
  complaints ("吵架动刀了");
- homophone typos of the lexicon's core words (着伙了, 触店了) written correctly through pinyin
  (pypinyin) before the classifier judges the message.
A second classifier tells whether the person in danger is the writer or someone else, so that a
crisis reported for a friend gets guidance for the helper. "fever" (fever with cough) is not an
emergency: it is sent to the city's fever clinics.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np
import yaml

from assistant.classifier import TRAINING, VERSIONED, digest, read_jsonl
from assistant.guardrails import normalize
from assistant.prompts import PROMPTS_DIR

log = logging.getLogger(__name__)
# The emergency probability above which a message raises an emergency, chosen for recall by
# cross-validation on the training data (bench/emergency.py; README, emergency section).
THRESHOLD = 0.4
# A message the lexicon matches needs far less from the classifier: enough to tell "着火了快来人" from
# "如果家里着火了应该怎么逃生" or "去年着火的救助怎么申请"
LEXICON_THRESHOLD = 0.2
SENTENCE_THRESHOLD = 0.8
CALM = 0.02  # below this, and with no emergency word, a message's sentences are not looked at one by one
EMBEDDING_WEIGHT = 3.0
FEVER = 0.8
MAX_SENTENCES = 8
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_EN_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


@dataclass(frozen=True)
class Emergency:
    """An emergency recognised in a message: its kind, the numbers to call and the guide with first steps."""

    kind: str
    numbers: list[str]
    guide: dict[str, str]
    label: dict[str, str]
    shelters: bool = False
    hotline: str = ""
    via: str = "lexicon"
    matched: str = ""
    for_someone_else: bool = False


@dataclass(frozen=True)
class Triage:
    """What triage found: an emergency, a fever to send to a fever clinic, or nothing."""

    emergency: Emergency | None = None
    fever: bool = False
    probability: float = 0.0


@dataclass
class Signals:
    texts: list[str]          # the message, its sentences (when several), its homophone-corrected form
    vectors: np.ndarray
    danger: np.ndarray        # the classifier's emergency probability for each text
    word: tuple[str, str] | None  # (kind, words) the lexicon matched


@lru_cache(maxsize=1)
def training_rows() -> tuple[dict, ...]:
    """Labelled phrasings (seeds/training/emergency.jsonl) and, as "none", the everyday turns of a
    conversation (names, numbers, yes, greetings: calm_turns.jsonl), the citizens' questions of
    scope.jsonl and the requests of requests/*.jsonl that name no emergency word: without them the
    classifier has only seen near-misses and takes "张伟" or "你好" for a cry for help."""
    rows = read_jsonl(TRAINING / "emergency.jsonl") + read_jsonl(TRAINING / "calm_turns.jsonl")
    data = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))
    word = re.compile("|".join(f"(?:{p})" for spec in data["kinds"].values() for p in spec["patterns"]), re.I)
    calm = [r["text"] for r in read_jsonl(TRAINING / "scope.jsonl")]
    for path in sorted((TRAINING / "requests").glob("*.jsonl")):
        calm += [r["text"] for r in read_jsonl(path)]
    rows += [{"text": t, "kind": "none", "topic": "city_question"} for t in calm if not word.search(normalize(t).lower())]
    return tuple(rows)


def emergency_data() -> tuple[list[str], list[str]]:
    rows = training_rows()
    return [r["text"] for r in rows], [("fever" if r.get("topic") == "fever_clinic" else r["kind"]) for r in rows]


@dataclass
class TriageModel:
    """Arrays of the triage classifiers (trained by `train_triage`, evaluated with numpy):
    - danger: logistic regression on [the embedder's vector × EMBEDDING_WEIGHT, character 1–3-gram
      TF-IDF of the text], emergency or not;
    - kind: which emergency (logistic regression on the vector, emergencies only);
    - other: whether the person in danger is someone else than the writer;
    - fever: fever with cough, for the fever clinics."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    danger_coef: np.ndarray
    danger_bias: float
    kinds: tuple[str, ...]
    kind_coef: np.ndarray
    kind_bias: np.ndarray
    other_coef: np.ndarray
    other_bias: float
    fever_coef: np.ndarray
    fever_bias: float
    embedder: str
    data: str

    def grams(self, text: str) -> float:
        """The n-gram part of the danger score: scikit-learn's char_wb TF-IDF (1–3 characters within
        space-separated words, sublinear tf, l2 norm) dotted with the weights, computed here because
        building scikit-learn's vectorizer for one message costs ten times more than the rest of triage."""
        counts: dict[int, int] = {}
        for word in re.sub(r"\s\s+", " ", text.lower()).split():
            word = f" {word} "
            for n in (1, 2, 3):
                for start in range(max(len(word) - n + 1, 1)):
                    index = self.vocabulary.get(word[start:start + n])
                    if index is not None:
                        counts[index] = counts.get(index, 0) + 1
        if not counts:
            return 0.0
        index = np.fromiter(counts, dtype=np.int64)
        weight = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[index]
        weight /= np.linalg.norm(weight)
        return float(weight @ self.danger_coef[self.dim + index])

    @property
    def dim(self) -> int:
        return len(self.danger_coef) - len(self.idf)

    def danger(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        scores = vectors @ self.danger_coef[:self.dim] * EMBEDDING_WEIGHT + np.array([self.grams(t) for t in texts])
        return _sigmoid(scores + self.danger_bias)

    def kind(self, vector: np.ndarray) -> str:
        return self.kinds[int(np.argmax(self.kind_coef @ vector + self.kind_bias))]

    def for_someone_else(self, vector: np.ndarray) -> bool:
        return bool(_sigmoid(self.other_coef @ vector + self.other_bias) >= 0.5)

    def fever(self, vector: np.ndarray) -> float:
        return float(_sigmoid(self.fever_coef @ vector + self.fever_bias))

    def save(self, path) -> None:
        import json

        np.savez_compressed(path, vocabulary=np.array(json.dumps(self.vocabulary, ensure_ascii=False)), idf=self.idf,
                            danger_coef=self.danger_coef, danger_bias=self.danger_bias, kinds=np.array(self.kinds),
                            kind_coef=self.kind_coef, kind_bias=self.kind_bias, other_coef=self.other_coef,
                            other_bias=self.other_bias, fever_coef=self.fever_coef, fever_bias=self.fever_bias,
                            embedder=np.array(self.embedder), data=np.array(self.data))

    @classmethod
    def load(cls, path) -> "TriageModel":
        import json

        with np.load(path) as z:
            return cls(vocabulary=json.loads(str(z["vocabulary"])), idf=z["idf"], danger_coef=z["danger_coef"],
                       danger_bias=float(z["danger_bias"]), kinds=tuple(str(k) for k in z["kinds"]),
                       kind_coef=z["kind_coef"], kind_bias=z["kind_bias"], other_coef=z["other_coef"],
                       other_bias=float(z["other_bias"]), fever_coef=z["fever_coef"],
                       fever_bias=float(z["fever_bias"]), embedder=str(z["embedder"]), data=str(z["data"]))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def train_triage(embedder, cache=None) -> TriageModel:
    """Train the triage classifiers on seeds/training/emergency.jsonl."""
    rows = list(training_rows())
    texts, labels = emergency_data()
    model = fit_triage(rows, embedder.queries(texts, cache=cache), embedder.name)
    return replace(model, data=digest(texts, labels))


def fit_triage(rows: list[dict], vectors: np.ndarray, embedder: str) -> TriageModel:
    """The triage classifiers fitted on labelled rows ({text, kind, topic, who}) and their vectors."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = np.array([("fever" if r.get("topic") == "fever_clinic" else r["kind"]) for r in rows])
    clean = [normalize(r["text"]).lower() for r in rows]
    calm = np.isin(labels, ["none", "fever"])
    grams = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True).fit(clean)
    joint = hstack([csr_matrix(vectors * EMBEDDING_WEIGHT), grams.transform(clean)]).tocsr()
    danger = LogisticRegression(C=8, max_iter=4000, class_weight="balanced").fit(joint, ~calm)
    kind = LogisticRegression(C=4, max_iter=4000, class_weight="balanced").fit(vectors[~calm], labels[~calm])
    who = np.array([r.get("who", "self") == "other" for r in rows])
    other = LogisticRegression(C=4, max_iter=4000, class_weight="balanced").fit(vectors[~calm], who[~calm])
    fever = LogisticRegression(C=4, max_iter=4000, class_weight="balanced").fit(vectors, labels == "fever")
    return TriageModel(vocabulary={k: int(v) for k, v in grams.vocabulary_.items()}, idf=grams.idf_,
                       danger_coef=danger.coef_[0], danger_bias=float(danger.intercept_[0]),
                       kinds=tuple(str(c) for c in kind.classes_), kind_coef=kind.coef_, kind_bias=kind.intercept_,
                       other_coef=other.coef_[0], other_bias=float(other.intercept_[0]),
                       fever_coef=fever.coef_[0], fever_bias=float(fever.intercept_[0]), embedder=embedder, data="")


def sentences(text: str) -> list[str]:
    """The sentences of a message (the whole message first when it has several)."""
    parts = [p.strip() for p in _SENTENCE.findall(text) if p.strip()]
    parts = [q.strip() for p in parts for q in _EN_SENTENCE.split(p) if q.strip()]
    parts = [p for p in parts if len(re.sub(r"\W", "", p)) >= 2]
    return parts[:MAX_SENTENCES] if len(parts) > 1 else [text]


@lru_cache(maxsize=1)
def _pinyin_words() -> dict[str, list[tuple[str, str]]]:
    """kind -> (word, its toneless pinyin) for the lexicon's core words."""
    from pypinyin import lazy_pinyin

    data = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))
    return {kind: [(w, " ".join(lazy_pinyin(w))) for w in spec.get("pinyin", [])] for kind, spec in data["kinds"].items()}


def pinyin_fix(text: str) -> str:
    """The text with homophones of the lexicon's core words written as those words (着伙 -> 着火,
    触店 -> 触电); the text unchanged when there are none. The classifier then judges the fixed text,
    so "出点问题" (chu dian) does not raise an alarm by sound alone."""
    chars = list(text)
    sounds = [_readings(c) for c in chars]
    starts = _by_first_syllable()
    for i in range(len(chars)):
        for reading in sounds[i]:
            for word, target in starts.get(reading, ()):
                span = "".join(chars[i:i + len(target)])
                if len(span) == len(target) and span != word and re.fullmatch(r"[\u4e00-\u9fff]+", span) \
                        and all(t in sounds[i + j] for j, t in enumerate(target)):
                    chars[i:i + len(target)] = list(word)
    return "".join(chars)


@lru_cache(maxsize=1)
def _by_first_syllable() -> dict[str, list[tuple[str, list[str]]]]:
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for words in _pinyin_words().values():
        for word, pinyin in words:
            target = pinyin.split()
            out.setdefault(target[0], []).append((word, target))
    return out


@lru_cache(maxsize=8192)
def _readings(char: str) -> frozenset[str]:
    """Every toneless reading of a character (着: zhe, zhao, zhuo)."""
    from pypinyin import Style, pinyin

    if not re.fullmatch(r"[\u4e00-\u9fff]", char):
        return frozenset()
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


class Triager:
    """Recognises emergencies in messages; the models load on first use."""

    def __init__(self, *, embedder, home=None, model: TriageModel | None = None) -> None:
        self.embedder = embedder
        self.home = home
        if model is not None:
            self.model = model
        self._lock = threading.Lock()
        data = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))
        self.kinds = data["kinds"]
        self.fever_guide = data["fever"]
        self._patterns = [(kind, re.compile("|".join(f"(?:{p})" for p in spec["patterns"]), re.IGNORECASE))
                          for kind, spec in self.kinds.items()]
        self._patterns_by_kind = dict(self._patterns)

    @cached_property
    def model(self) -> TriageModel:
        """The versioned model when it was built from this data with this embedder; else one trained here
        once (about a minute) and kept under CITYDESK_HOME/models."""
        with self._lock:
            texts, labels = emergency_data()
            wanted = digest(texts, labels)
            places = [VERSIONED / "triage.npz"] + ([self.home / "models" / "triage.npz"] if self.home else [])
            for path in places:
                try:
                    model = TriageModel.load(path)
                except (OSError, ValueError, KeyError):
                    continue
                if model.embedder == self.embedder.name and model.data == wanted:
                    return model
            log.warning("training the emergency triage for %s (data or embedder changed)", self.embedder.name)
            model = train_triage(self.embedder, cache=self.home / "cache" if self.home else None)
            if self.home:
                (self.home / "models").mkdir(parents=True, exist_ok=True)
                model.save(self.home / "models" / "triage.npz")
            return model

    def warm(self) -> None:
        self.model  # noqa: B018 - loads the model

    def emergency(self, kind: str, via: str, matched: str, vector: np.ndarray | None) -> Emergency:
        spec = self.kinds[kind]
        other = vector is not None and self.model.for_someone_else(vector)
        return Emergency(kind=kind, numbers=list(spec["numbers"]), guide=spec["guide"], label=spec["label"],
                         shelters=bool(spec.get("shelters")), hotline=str(spec.get("hotline", "")), via=via,
                         matched=matched, for_someone_else=bool(other))

    def signals(self, text: str, vector: np.ndarray | None = None) -> Signals:
        """What triage weighs: the classifier's emergency probability for the whole message, each of its
        sentences and its homophone-corrected form, and the lexicon's match."""
        clean = normalize(text).lower()
        whole = vector if vector is not None else self.embedder.query(clean)
        texts, vectors = [clean], whole[None, :]
        danger = self.model.danger(vectors, texts)
        fixed = pinyin_fix(clean)
        word = next(((kind, m.group(0)) for kind, pattern in self._patterns for m in [pattern.search(fixed)] if m), None)
        parts = sentences(clean)
        # a calm message (no emergency word, no homophone of one, the classifier sure) is not cut into
        # sentences: embedding them is most of triage's cost, and most turns are calm
        if danger[0] < CALM and not word and fixed == clean:
            return Signals(texts=texts, vectors=vectors, danger=danger, word=None)
        more = (parts if len(parts) > 1 else []) + ([fixed] if fixed != clean else [])
        if more:
            texts += more
            vectors = np.vstack([vectors, self.embedder.query_many(more)])
            danger = np.r_[danger, self.model.danger(vectors[1:], more)]
        return Signals(texts=texts, vectors=vectors, danger=danger, word=word)

    def triage(self, text: str, vector: np.ndarray | None = None) -> Triage:
        """An emergency anywhere in the message: a lexicon word the classifier does not contradict, or
        the classifier sure enough on the message or one of its sentences; else perhaps a fever."""
        s = self.signals(text, vector)
        row = int(np.argmax(s.danger))
        top = float(s.danger[row])
        if s.word and top >= LEXICON_THRESHOLD:
            kind, matched = s.word
            at = next((i for i, t in enumerate(s.texts) if self._patterns_by_kind[kind].search(t)), row)
            return Triage(self.emergency(kind, "lexicon", matched, s.vectors[at]), probability=top)
        # the whole message at THRESHOLD; one sentence of it, or its corrected form, needs more
        # ("着火了" inside "着火了打110还是119？" is a question about numbers)
        row = int(np.argmax(s.danger - np.r_[THRESHOLD, np.full(len(s.danger) - 1, SENTENCE_THRESHOLD)]))
        top = float(s.danger[row])
        if top >= (THRESHOLD if row == 0 else SENTENCE_THRESHOLD):
            kind = self.model.kind(s.vectors[row])
            return Triage(self.emergency(kind, "classifier", s.texts[row], s.vectors[row]), probability=top)
        return Triage(fever=self.model.fever(s.vectors[0]) >= FEVER, probability=top)
