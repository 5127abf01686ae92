"""Evaluation, the entry point of `citydesk eval`: answer-quality suites with metrics, reports and a release
gate, and retrieval / routing quality on external JSONL sets.

Suites are loaded by evalsuite, run by evalrun, measured by evalmetrics and written by evalreport.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.evaluation import report as evalreport
from assistant.search.embed import Embedder
from assistant.evaluation.judge import build_judge
from assistant.evaluation.metrics import build_report, classification_report, format_confusion, load_baseline, route_label
from assistant.evaluation.run import JOBS, Runner, check_cites, reusable_index, temporary_assistant
from assistant.evaluation.suite import SuiteError, load_suites, resolve_paths
from assistant.search.lexical import LexicalIndex
from assistant.knowledge.retrieve import Fusion, Retriever
from assistant.skills import REGISTRY
from assistant.search.store import VectorStore
from assistant.core.types import Chunk

__all__ = ["read_jsonl", "CorpusIndex", "evaluate_retrieval", "score_rankings", "route_label",
           "classification_report", "format_confusion", "build_report", "run_cli"]


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    return rows


class CorpusIndex:
    """An in-memory stand-in for `Index` over a JSONL corpus: a real Chroma store and a real BM25."""

    def __init__(self, *, corpus: list[dict], embedder: Embedder, directory: Path, cache: Path | None = None) -> None:
        self.embedder = embedder
        self._chunks = {str(row["doc_id"]): Chunk(id=str(row["doc_id"]), doc=str(row["doc_id"]),
                                                  domain=str(row.get("department", "corpus")), title="",
                                                  section="", text=str(row["text"]))
                        for row in corpus}
        chunks = list(self._chunks.values())
        vectors = _cached_passages(embedder, [c.text for c in chunks], cache)
        self.store = VectorStore(path=directory / "chroma", embedder_name=embedder.name, dim=embedder.dim)
        self.store.upsert([c.id for c in chunks], vectors, [{"doc": c.doc, "domain": c.domain} for c in chunks],
                          [c.text for c in chunks])
        self.lexical = LexicalIndex.build([c.id for c in chunks], [c.text for c in chunks],
                                          [c.domain for c in chunks])

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return {i: self._chunks[i] for i in ids if i in self._chunks}

    def docs_of(self, ids: list[str]) -> dict[str, str]:
        return {i: self._chunks[i].doc for i in ids if i in self._chunks}

    def titles_of(self, docs: list[str]) -> dict[str, str]:
        """The external sets' passages have no guide titles: no title prior."""
        return {}


def _cached_passages(embedder: Embedder, texts: list[str], cache: Path | None) -> np.ndarray:
    if cache is None:
        return embedder.passages(texts)
    key = hashlib.sha256((embedder.name + "\0" + "\0".join(texts)).encode()).hexdigest()[:16]
    path = cache / f"passages-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.concatenate([embedder.passages(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


@dataclass
class RetrievalScores:
    """Recall@1/5/10 and MRR@10 of one retrieval configuration."""

    name: str
    recall_1: float
    recall_5: float
    recall_10: float
    mrr_10: float

    def as_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def score_rankings(name: str, rankings: list[list[str]], gold: list[str]) -> RetrievalScores:
    ranks = [r.index(g) + 1 if g in r else None for r, g in zip(rankings, gold)]
    n = max(len(gold), 1)

    def recall(k):
        return sum(1 for r in ranks if r is not None and r <= k) / n

    mrr = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    return RetrievalScores(name, recall(1), recall(5), recall(10), mrr)


def evaluate_retrieval(*, corpus: list[dict], queries: list[dict], embedder: Embedder,
                       fusions: dict[str, Fusion], cache: Path | None = None) -> list[RetrievalScores]:
    """Index `corpus` ({doc_id, text}) in a temporary home; score each fusion on `queries`."""
    texts = [" ".join(str(q.get(f, "")) for f in ("title", "question", "text") if q.get(f)) for q in queries]
    gold = [str(q["gold_doc_id"]) for q in queries]
    with tempfile.TemporaryDirectory(prefix="citydesk-eval-") as tmp:
        index = CorpusIndex(corpus=corpus, embedder=embedder, directory=Path(tmp), cache=cache)
        retriever = Retriever(index=index)
        results = []
        for name, fusion in fusions.items():
            rankings = [[h.doc for h in retriever.retrieve(t, k=10, fusion=fusion)] for t in texts]
            results.append(score_rankings(name, rankings, gold))
        return results


# ----- answer-quality suites ---------------------------------------------------------------------------

def run_suites(assistant, args) -> int:
    """Load, run and report the suites; 0 when every threshold holds, 1 when one is missed."""
    began = time.perf_counter()
    suites = [s for s in load_suites(resolve_paths(args.suites), set(REGISTRY), smoke=args.smoke) if s.cases]
    if not suites:
        raise SuiteError("no cases to run" + (": no case is marked smoke: true" if args.smoke else ""))
    baseline = load_baseline(args.baseline) if args.baseline else None
    judge = build_judge(assistant.settings) if args.llm else None
    if args.llm and judge is None:
        raise SuiteError("--llm needs an LLM: set CITYDESK_LLM_BASE_URL (and CITYDESK_LLM_MODEL)")
    progress = not args.json
    with tempfile.TemporaryDirectory(prefix="citydesk-eval-") as tmp:
        if progress:
            print("Copying the index into a temporary home…" if reusable_index(assistant.settings) else
                  f"No index in {assistant.settings.home} to copy: indexing {assistant.settings.knowledge} in a "
                  "temporary home (minutes; `citydesk ingest` first makes later runs fast)…", file=sys.stderr)
        base = temporary_assistant(assistant, Path(tmp) / "home", llm=args.llm, progress=progress)
        check_cites(suites, base)
        results = Runner(base=base, directory=Path(tmp) / "db", judge=judge).run(suites, progress=progress)
    s = assistant.settings
    run = {"suites": [x.file for x in suites], "smoke": args.smoke, "knowledge": str(s.knowledge),
           "embedder": assistant.embedder.name, "llm": s.llm_model or s.llm_base_url if args.llm else "",
           "judge": judge.name if judge else "", "jobs": JOBS, "seconds": round(time.perf_counter() - began, 1)}
    report = build_report(suites, results, run, baseline)
    if args.report:
        written = evalreport.write(report, args.report)
        if progress:
            print("Reports: " + ", ".join(map(str, written)), file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else evalreport.summary(report))
    return 0 if report["gate"]["passed"] else 1


# ----- external sets ---------------------------------------------------------------------------------------

EXTERNAL_FUSIONS = {"citydesk (default fusion)": Fusion(), "dense only": Fusion("dense"), "bm25 only": Fusion("bm25")}
# Labels of the public sets in ../shared/evaldata when a row has no `label`: CrossWOZ metro and taxi turns
# are transport questions, its greetings small talk, the rest (hotels, food, sights) out of scope; CLINC
# is out of scope but for greetings and a few city topics.
CROSSWOZ_TRANSPORT = {"地铁", "出租"}
CLINC_CITY = {"traffic", "directions", "international_visa", "vaccines", "taxes", "pay_tax", "income",
              "report_lost_card", "lost_luggage", "w2"}
CLINC_SMALLTALK = {"greeting", "goodbye", "thank_you", "what_can_i_ask_you", "are_you_a_bot", "who_made_you",
                   "what_is_your_name"}
NOT_CITY = ("smalltalk", "out_of_scope", "rejected")


def expected_label(row: dict) -> str | None:
    """The route a row expects: its `label`, else derived from CrossWOZ `domains` or CLINC `intent`."""
    if "label" in row:
        return str(row["label"])
    if "domains" in row:
        domains = set(row["domains"])
        return "transport" if domains & CROSSWOZ_TRANSPORT else "smalltalk" if domains == {"General"} \
            else "out_of_scope"
    if "intent" in row:
        if row.get("is_oos") or row["intent"] not in CLINC_CITY | CLINC_SMALLTALK:
            return "out_of_scope"
        return "smalltalk" if row["intent"] in CLINC_SMALLTALK else "city"
    return None


def collapse(label: str, vocabulary: set[str]) -> str:
    """A predicted label in the expected vocabulary: any service counts as `city` when that is a label."""
    return "city" if label not in vocabulary and "city" in vocabulary and label not in NOT_CITY else label


def _rows(path: Path, fields: tuple[str, ...]) -> list[dict]:
    try:
        rows = read_jsonl(path)
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise SuiteError(str(exc)) from None
    for n, row in enumerate(rows, 1):
        missing = [f for f in fields if not isinstance(row, dict) or f not in row]
        if missing:
            raise SuiteError(f"{path}: row {n} has no {', '.join(missing)}")
    if not rows:
        raise SuiteError(f"{path}: no rows")
    return rows


def run_retrieval(assistant, corpus_path: Path, queries_path: Path) -> dict:
    """Recall@1/5/10 and MRR@10 against gold_doc_id, the corpus indexed in a temporary home."""
    corpus = _rows(corpus_path, ("doc_id", "text"))
    queries = _rows(queries_path, ("gold_doc_id",))
    results = evaluate_retrieval(corpus=corpus, queries=queries, embedder=assistant.embedder, fusions=EXTERNAL_FUSIONS)
    return {"corpus": str(corpus_path), "queries": str(queries_path), "passages": len(corpus),
            "questions": len(queries), "embedder": assistant.embedder.name, "results": [r.as_json() for r in results]}


def run_routing(assistant, path: Path, progress: bool) -> dict:
    """Routing accuracy, macro-F1, out-of-scope precision / recall and the confusion matrix; rows with a
    `context` are also routed after their previous user turn, in one session."""
    rows = _rows(path, ("text",))
    expected = [expected_label(r) for r in rows]
    if None in expected:
        raise SuiteError(f"{path}: row {expected.index(None) + 1} has no label (nor CrossWOZ domains / CLINC intent)")
    vocabulary = set(expected)
    out = {"file": str(path)}
    with tempfile.TemporaryDirectory(prefix="citydesk-eval-") as tmp:
        base = temporary_assistant(assistant, Path(tmp) / "home", llm=False, progress=progress)
        for name, with_context in (("alone", False), ("in_context", True)):
            if with_context and not any(r.get("context") for r in rows):
                continue
            predicted, began = [], time.perf_counter()
            for row in rows:
                previous = [t["text"] for t in row.get("context", []) if t.get("role") in ("usr", "user")]
                session = base.ask(previous[-1]).session_id if with_context and previous else None
                predicted.append(collapse(route_label(base.route(row["text"], session_id=session)), vocabulary))
            report = classification_report(expected, predicted)
            report["ms_per_row"] = round((time.perf_counter() - began) * 1000 / len(rows), 1)
            out[name] = report
    return out


def _print_external(retrieval: dict | None, routes: dict | None) -> None:
    if retrieval:
        print(f"{retrieval['passages']} passages, {retrieval['questions']} questions, embedder {retrieval['embedder']}")
        print(f"{'method':28s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR@10':>7s}")
        for r in retrieval["results"]:
            print(f"{r['name']:28s} {r['recall_1']:6.3f} {r['recall_5']:6.3f} {r['recall_10']:6.3f} {r['mrr_10']:7.3f}")
    for name in ("alone", "in_context") if routes else ():
        if name in routes:
            r = routes[name]
            print(f"\nrouting {name}: n={r['n']} accuracy {r['accuracy']:.3f} macro-F1 {r['macro_f1']:.3f} "
                  f"out-of-scope precision {r['out_of_scope_precision']:.3f} recall {r['out_of_scope_recall']:.3f}")
            print(format_confusion(r))


def run_cli(assistant, args) -> int:
    """`citydesk eval`: suites (exit 1 when a threshold is missed), or the external sets; 2 on bad input."""
    try:
        if not args.retrieval and not args.routing:
            return run_suites(assistant, args)
        retrieval = run_retrieval(assistant, *args.retrieval) if args.retrieval else None
        routes = run_routing(assistant, args.routing, progress=not args.json) if args.routing else None
        result = {"retrieval": retrieval, "routing": routes}
        if args.report:
            args.report.mkdir(parents=True, exist_ok=True)
            (args.report / "external.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            _print_external(retrieval, routes)
        return 0
    except SuiteError as exc:
        print(f"citydesk eval: {exc}", file=sys.stderr)
        return 2
