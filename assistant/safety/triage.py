"""Emergency triage: is something dangerous happening now, anywhere in the message, and of what kind.

Three parts, any of which can raise an emergency:
- a classifier on the embedder's vectors (logistic regression over the kinds of emergency, "none" and
  "fever", learned from seeds/training/emergency.jsonl: thousands of phrasings in Chinese and English,
  typos, dialect and near-misses included), with the threshold chosen for recall by cross-validation
  (`citydesk train`); the sentences of a longer message are judged by a second one that has also
  learned from the sentences of complaints ("the driver just went past us"), which tell of a danger
  without being one;
- the lexicon of prompts/emergency.yaml, a high-precision complement that also fires inside
  complaints ("吵架动刀了");
- homophone typos of the lexicon's core words (着伙了, 触店了) written correctly through pinyin
  (homophones.py) before the classifier judges the message.
A second classifier tells whether the person in danger is the writer or someone else, so that a
crisis reported for a friend gets guidance for the helper. "fever" (fever with cough) is not an
emergency: it is sent to the city's fever clinics.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np
import yaml

from assistant.search.classifier import TRAINING, ModelSet, TextModel, digest, fit_text_model, read_jsonl, request_files, versioned_or_trained
from assistant.safety.guardrails import normalize
from assistant.safety.homophones import pinyin_fix
from assistant.core.prompts import PROMPTS_DIR
from assistant.core.types import Emergency

# The three thresholds are chosen together by cross-validation on the training data, never on an
# untouched set (bench/emergency_sweep.py, 2026-12-04, 16,894 phrasings and turns by ten authors: the fewest
# near-miss false alarms with no less recall than the thresholds before (0.5, 0.35, 0.95), 0.984, and no
# more false alarms on everyday turns; near-miss false alarms 0.061 -> 0.059; README). The emergency
# probability above which a whole message raises an emergency:
THRESHOLD = 0.5
# A message the lexicon matches needs far less from the classifier: enough to tell "着火了快来人" from
# "如果家里着火了应该怎么逃生" or "去年着火的救助怎么申请"
LEXICON_THRESHOLD = 0.45
SENTENCE_THRESHOLD = 0.9  # one sentence of several, or the homophone-corrected message
CALM = 0.02  # below this, and with no emergency word, a message's sentences are not looked at one by one
EMBEDDING_WEIGHT = 3.0
# the danger model leans more on character n-grams ("怎么办理", "去年", "if") and is less regularised:
# chosen by 5-fold cross-validation of the danger probability alone on the tuned and everyday data
# (2026-12-03, at recall 0.974: near-miss false alarms 0.083 -> 0.050, everyday 0.064 -> 0.032;
# C 2-64 and weights 0.75-6 tried)
DANGER_C, DANGER_WEIGHT = 16.0, 1.5
FEVER = 0.8
MAX_SENTENCES = 8
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_EN_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


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


# the labelled phrasings, each file by one author who saw no code (seeds/README.md names each): emergencies
# (in panic, typos, dialect, personas, English as expats write it, told only by what is seen or smelt, inside
# another request) and near-misses (questions about 119, claims after a past fire, drills, hypotheticals,
# news, idioms "气炸了", urgent everyday "急！"); the English calm file of the fourteenth author is kept in
# seeds/review, not learned from: its idioms of dying took an English hint of suicide below the threshold
TUNED = ("emergency.jsonl", "calm_near_misses.jsonl", "emergency_more.jsonl", "calm_near_misses_more.jsonl",
         "emergency_personas.jsonl", "calm_near_misses_personas.jsonl", "emergency_english.jsonl",
         "calm_near_misses_english.jsonl", "emergency_english_more.jsonl", "calm_near_misses_english_more.jsonl",
         "emergency_chinese_more.jsonl", "calm_near_misses_chinese_more.jsonl", "emergency_chinese_described.jsonl",
         "calm_near_misses_chinese_described.jsonl", "emergency_english_described.jsonl", "emergency_varied.jsonl",
         "calm_near_misses_varied.jsonl")
# whole messages by two more authors (zh, en), each with the sentence that states the danger where there is
# one: an emergency told inside a complaint, a booking or a question (emergency_in_messages.jsonl, the
# sentence learned from as a phrasing of its own too), and hazards, past incidents, safety paperwork and
# idioms told at length (calm_hazard_messages.jsonl, each sentence of it learned from as a calm one, as
# NARRATIVES are)
MESSAGES = ("emergency_in_messages.jsonl", "calm_hazard_messages.jsonl")


# everyday turns, all calm: names, numbers, yes, greetings (calm_turns, calm_greetings: "Hello!", "Good
# evening :)"), everyday problems said urgently (calm_everyday: "社保卡掉了咋整"), asking for a person
# (calm_handoff), a conversation's own follow-ups (calm_followups: "地址发我")
EVERYDAY = ("calm_turns.jsonl", "calm_everyday.jsonl", "calm_handoff.jsonl", "calm_followups.jsonl",
            "calm_greetings.jsonl")


# every sentence of the labelled requests (seeds/training/calm_narratives.jsonl, 13 present dangers left
# out by a reviewer): learned from by the sentence model only, and less than a whole labelled phrasing
# (chosen by cross-validation, bench/emergency_sweep.py): a sentence cut from its message says less
NARRATIVES, NARRATIVE_WEIGHT = "calm_narratives.jsonl", 0.3


@lru_cache(maxsize=1)
def tuned_rows() -> tuple[dict, ...]:
    rows = [r for name in TUNED for r in read_jsonl(TRAINING / name)]
    for r in (r for name in MESSAGES for r in read_jsonl(TRAINING / name)):
        rows.append(r)
        if r["kind"] != "none" and r["emergency_sentence"] != r["text"]:
            rows.append({**r, "text": r["emergency_sentence"]})
        elif r["kind"] == "none":
            parts = sentences(r["text"])
            rows += [{"text": p, "kind": "none", "topic": "narrative_sentence", "lang": r["lang"]} for p in parts
                     if len(parts) > 1]
    return tuple(rows)


@lru_cache(maxsize=1)
def everyday_rows() -> tuple[dict, ...]:
    return tuple(r for name in EVERYDAY for r in read_jsonl(TRAINING / name))


@lru_cache(maxsize=1)
def training_rows() -> tuple[dict, ...]:
    """The labelled phrasings (TUNED), the EVERYDAY turns and, as "none", the citizens' questions of
    scope.jsonl that name no emergency word and every labelled request of requests/*.jsonl: without
    them the classifier has only seen near-misses and takes "张伟" or "你好" for a cry for help."""
    rows = list(tuned_rows()) + list(everyday_rows())
    data = yaml.safe_load((PROMPTS_DIR / "emergency.yaml").read_text(encoding="utf-8"))
    word = re.compile("|".join(f"(?:{p})" for spec in data["kinds"].values() for p in spec["patterns"]), re.I)
    # a question that names an emergency word may be one asked in the middle of it ("someone fell into the
    # river, how can I help?"): only those without such a word are calm for certain
    calm = [r["text"] for r in read_jsonl(TRAINING / "scope.jsonl") if not word.search(normalize(r["text"]).lower())]
    # so are the router's bookings and health questions: "头疼挂什么科" asks for a doctor, not for help now
    # (without them, whole messages in which a sudden splitting headache is one sentence taught "我头疼得
    # 厉害，想挂个号" to raise an emergency)
    calm += [r["text"] for name in ("booking.jsonl", "health_questions.jsonl")
             for r in read_jsonl(TRAINING / "skills" / name) if not word.search(normalize(r["text"]).lower())]
    # the requests were labelled complaint, help, suggestion or question by their authors: a street
    # light, a fire lane blocked by cars, "last month a kitchen caught fire and the engine could not get
    # in" are reports to a department, and the classifier needs to see them as such
    for path in request_files():
        calm += [r["text"] for r in read_jsonl(path)]
    rows += [{"text": t, "kind": "none", "topic": "city_question"} for t in calm]
    return tuple(rows + list(read_jsonl(TRAINING / NARRATIVES)))


def emergency_data() -> tuple[list[str], list[str]]:
    rows = training_rows()
    return [r["text"] for r in rows], [("fever" if r.get("topic") == "fever_clinic" else r["kind"]) for r in rows]


@dataclass
class TriageModel(ModelSet):
    """The triage classifiers (assistant/search/classifier.py TextModel: the embedder's vector and character
    n-grams): `danger` (an emergency or not), `sentence` (the same for one sentence of several),
    `kind` (which one, learned from emergencies only), `other` (the person in danger is not the
    writer), `fever` (fever with cough)."""

    danger: TextModel
    sentence: TextModel
    kind: TextModel
    other: TextModel
    fever: TextModel
    embedder: str
    data: str

    PARTS = ("danger", "sentence", "kind", "other", "fever")

    def danger_of(self, vectors: np.ndarray, texts: list[str], *, sentence: bool = False) -> np.ndarray:
        model = self.sentence if sentence else self.danger
        if not texts:
            return np.zeros(0)
        return model.proba(vectors, texts)[:, model.classes.index("True")]

    def kind_of(self, vector: np.ndarray, text: str) -> str:
        p = self.kind.proba(vector, [text])[0]
        return self.kind.classes[int(np.argmax(p))]

    def for_someone_else(self, vector: np.ndarray, text: str) -> bool:
        return bool(self.other.proba(vector, [text])[0, self.other.classes.index("True")] >= 0.5)

    def fever_of(self, vector: np.ndarray, text: str) -> float:
        return float(self.fever.proba(vector, [text])[0, self.fever.classes.index("True")])


def train_triage(embedder, cache=None) -> TriageModel:
    """Train the triage classifiers on seeds/training/emergency.jsonl and the calm examples."""
    rows = list(training_rows())
    texts, labels = emergency_data()
    model = fit_triage(rows, embedder.queries(texts, cache=cache), embedder.name)
    return replace(model, data=digest(texts, labels))


def fit_triage(rows: list[dict], vectors: np.ndarray, embedder: str) -> TriageModel:
    """The triage classifiers fitted on labelled rows ({text, kind, topic, who}) and their vectors; the
    sentences of NARRATIVES train the sentence model only."""
    labels = np.array([("fever" if r.get("topic") == "fever_clinic" else r["kind"]) for r in rows])
    clean = [normalize(r["text"]).lower() for r in rows]
    calm = np.isin(labels, ["none", "fever"])
    who = np.array([r.get("who", "self") == "other" for r in rows])
    pick = [c for c, keep in zip(clean, ~calm) if keep]
    told = np.array([r.get("topic") == "narrative_sentence" for r in rows])
    whole = [c for c, keep in zip(clean, ~told) if keep]
    return TriageModel(danger=fit_text_model(whole, vectors[~told], ~calm[~told], c=DANGER_C, weight=DANGER_WEIGHT),
                       sentence=fit_text_model(clean, vectors, ~calm, c=DANGER_C, weight=DANGER_WEIGHT,
                                               sample_weight=np.where(told, NARRATIVE_WEIGHT, 1.0)),
                       kind=fit_text_model(pick, vectors[~calm], labels[~calm], c=4.0, weight=EMBEDDING_WEIGHT),
                       other=fit_text_model(pick, vectors[~calm], who[~calm], c=4.0, weight=EMBEDDING_WEIGHT),
                       fever=fit_text_model(whole, vectors[~told], labels[~told] == "fever", c=4.0, weight=EMBEDDING_WEIGHT),
                       embedder=embedder, data="")


def sentences(text: str) -> list[str]:
    """The sentences of a message (the whole message first when it has several)."""
    parts = [p.strip() for p in _SENTENCE.findall(text) if p.strip()]
    parts = [q.strip() for p in parts for q in _EN_SENTENCE.split(p) if q.strip()]
    parts = [p for p in parts if len(re.sub(r"\W", "", p)) >= 2]
    return parts[:MAX_SENTENCES] if len(parts) > 1 else [text]


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
        """The versioned model, or one trained here once (about a minute) and kept under CITYDESK_HOME/models."""
        with self._lock:
            return versioned_or_trained("triage", digest(*emergency_data()), self.embedder.name, TriageModel.load,
                                        lambda: train_triage(self.embedder), self.home)

    def warm(self) -> None:
        self.model  # noqa: B018 - loads the model

    def emergency(self, kind: str, via: str, matched: str, vector: np.ndarray, text: str) -> Emergency:
        spec = self.kinds[kind]
        other = self.model.for_someone_else(vector, text)
        return Emergency(kind=kind, numbers=list(spec["numbers"]), guide=spec["guide"], label=spec["label"],
                         shelters=bool(spec.get("shelters")), hotline=str(spec.get("hotline", "")), via=via,
                         matched=matched, for_someone_else=bool(other))

    def signals(self, text: str, vector: np.ndarray | None = None) -> Signals:
        """What triage weighs: the classifier's emergency probability for the whole message, each of its
        sentences and its homophone-corrected form, and the lexicon's match."""
        clean = normalize(text).lower()
        whole = vector if vector is not None else self.embedder.query(clean)
        texts, vectors = [clean], whole[None, :]
        danger = self.model.danger_of(vectors, texts)
        fixed = pinyin_fix(clean)
        word = next(((kind, m.group(0)) for kind, pattern in self._patterns for m in [pattern.search(fixed)] if m), None)
        parts = sentences(clean)
        # a calm message (no emergency word, no homophone of one, the classifier sure) is not cut into
        # sentences: embedding them is most of triage's cost, and most turns are calm
        if danger[0] < CALM and not word and fixed == clean:
            return Signals(texts=texts, vectors=vectors, danger=danger, word=None)
        parts = parts if len(parts) > 1 else []
        more = parts + ([fixed] if fixed != clean else [])
        if more:
            texts += more
            vectors = np.vstack([vectors, self.embedder.query_many(more)])
            # the sentences by the sentence model, the corrected message by the whole-message one
            n = 1 + len(parts)
            danger = np.r_[danger, self.model.danger_of(vectors[1:n], parts, sentence=True),
                           self.model.danger_of(vectors[n:], more[len(parts):])]
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
            return Triage(self.emergency(kind, "lexicon", matched, s.vectors[at], s.texts[at]), probability=top)
        # the whole message at THRESHOLD; one sentence of it, or its corrected form, needs more
        # ("着火了" inside "着火了打110还是119？" is a question about numbers)
        row = int(np.argmax(s.danger - np.r_[THRESHOLD, np.full(len(s.danger) - 1, SENTENCE_THRESHOLD)]))
        top = float(s.danger[row])
        if top >= (THRESHOLD if row == 0 else SENTENCE_THRESHOLD):
            kind = self.model.kind_of(s.vectors[row], s.texts[row])
            return Triage(self.emergency(kind, "classifier", s.texts[row], s.vectors[row], s.texts[row]), probability=top)
        return Triage(fever=self.model.fever_of(s.vectors[0], s.texts[0]) >= FEVER, probability=top)
