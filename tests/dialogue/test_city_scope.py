"""One index shared by several cities: a desk set to one city never answers from another city's guides."""

import pytest

from assistant import Assistant
from assistant.knowledge.retrieve import Fusion
from tests.conftest import MARRIAGE, make_settings, write_guides

pytestmark = pytest.mark.integration

CHENGWAN = """---
title: 普通护照申领
city: 澄湾
lang: zh
---
# 普通护照申领

## 收费标准
每本120元，澄湾市出入境窗口收取。

## 所需材料
居民身份证原件。
"""
LINGANG_HTML = """<html lang="zh"><head><title>普通护照申领</title><meta name="city" content="临港"></head>
<body><h1>普通护照申领</h1><h2>收费标准</h2><p>每本200元，临港市出入境窗口收取。</p>
<h2>所需材料</h2><p>居民身份证原件和户口簿。</p></body></html>"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One knowledge folder with two cities' passport guides and a guide for every city, indexed once."""
    root = tmp_path_factory.mktemp("cities")
    knowledge = write_guides(root / "knowledge", {"permits/passport.md": CHENGWAN,
                                                  "permits/lingang/passport.html": LINGANG_HTML,
                                                  "civil_affairs/marriage.md": MARRIAGE})
    Assistant.from_settings(make_settings(root / "home", knowledge)).ingest()
    return lambda city: Assistant.from_settings(make_settings(root / "home", knowledge, city=city))


@pytest.mark.parametrize("city,own,other", [("澄湾", "120元", "200元"), ("临港", "200元", "120元")])
def test_a_desk_answers_from_its_own_citys_guide(shared, city, own, other):
    desk = shared(city)
    for question in ("办护照要多少钱？", "How much is a passport?"):
        reply = desk.ask(question)
        assert own in reply.text and other not in reply.text, (question, reply.text)
    for fusion in (Fusion("dense"), Fusion("bm25"), Fusion()):
        hits = desk.retriever.retrieve("护照收费 元", k=10, fusion=fusion)
        assert hits and all(other not in h.text for h in hits), fusion
    assert "免费" in desk.ask("结婚登记收费吗？").text, "a guide without a city serves every desk"


def test_a_desk_without_a_city_searches_every_guide(shared):
    texts = " ".join(h.text for h in shared("").retriever.retrieve("护照收费", k=10))
    assert "120元" in texts and "200元" in texts


def test_an_index_from_before_city_filtering_is_upgraded_by_the_next_ingestion(tmp_path):
    """The layout of earlier versions: one collection, no `city` field. It keeps answering, unfiltered,
    until `citydesk ingest` moves every chunk to its city's collection without embedding anything."""
    from assistant.search.store import COLLECTION

    knowledge = write_guides(tmp_path / "knowledge", {"permits/passport.md": CHENGWAN,
                                                      "permits/lingang/passport.html": LINGANG_HTML})
    settings = make_settings(tmp_path / "home", knowledge, city="澄湾")
    built = Assistant.from_settings(settings)
    built.ingest()
    client = built.index.store._client
    legacy = client.create_collection(COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                                      metadata={"embedder": built.embedder.name, "dim": built.embedder.dim})
    for collection in list(built.index.store._collections.values()):
        got = collection.get(include=["embeddings", "metadatas", "documents"])
        if got["ids"]:
            legacy.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                       metadatas=[{k: v for k, v in m.items() if k != "city"} for m in got["metadatas"]])
        client.delete_collection(collection.name)
    built.index.manifest.set_meta("store_fields", "")

    desk = Assistant.from_settings(settings)
    texts = " ".join(h.text for h in desk.retriever.retrieve("护照收费", k=10))
    assert "120元" in texts and "200元" in texts, "until re-ingested, every guide is searched rather than none"
    report = desk.ingest()
    assert report.embedded == 0 and desk.index.filters_ready()
    assert COLLECTION not in desk.index.store._collections
    texts = " ".join(h.text for h in desk.retriever.retrieve("护照收费", k=10))
    assert "120元" in texts and "200元" not in texts
    assert "120元" in desk.ask("How much is a passport?").text
