import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from assistant import Assistant
from assistant.search.store import StoreError
from tests.conftest import MARRIAGE, PASSPORT, make_settings, write_guides

pytestmark = pytest.mark.integration


def consistent(assistant):
    index = assistant.index
    manifest_ids = {c.id for f in index.files() if f["status"] == "indexed" for c in index.chunks_of(f["path"])}
    return manifest_ids == index.store.ids() and index.store.count() == index.chunk_count() == len(manifest_ids)


def test_first_ingest_reports_every_file(small_assistant):
    files = {f["path"]: f for f in small_assistant.index.files()}
    assert set(files) == {"permits/passport.md", "permits/passport.en.md", "civil_affairs/marriage.md"}
    assert all(f["status"] == "indexed" for f in files.values())
    assert consistent(small_assistant)


def test_second_ingest_embeds_nothing(small_assistant):
    report = small_assistant.ingest()
    assert report.indexed == [] and report.embedded == 0 and len(report.unchanged) == 3
    # a log line with hundreds of unchanged guides stays one short line: counts, not paths
    assert "unchanged=3" in repr(report) and "passport" not in repr(report) and "\n" not in repr(report)


def test_edited_file_replaces_exactly_its_chunks(small_assistant):
    small_knowledge = small_assistant.settings.knowledge
    before = {c.id for c in small_assistant.index.chunks_of("civil_affairs/marriage.md")}
    passport_before = {c.id for c in small_assistant.index.chunks_of("permits/passport.md")}
    (small_knowledge / "permits/passport.md").write_text(PASSPORT.replace("每本120元。", "每本160元。"), encoding="utf-8")
    report = small_assistant.ingest()
    assert report.indexed == ["permits/passport.md"]
    assert report.embedded == 1, "only the changed section is embedded again"
    assert {c.id for c in small_assistant.index.chunks_of("civil_affairs/marriage.md")} == before
    assert not passport_before & {c.id for c in small_assistant.index.chunks_of("permits/passport.md")}
    assert "160元" in small_assistant.retrieve("护照收费标准", k=1)[0].text
    assert consistent(small_assistant)


def test_deleted_file_disappears(small_assistant):
    small_knowledge = small_assistant.settings.knowledge
    (small_knowledge / "civil_affairs/marriage.md").unlink()
    report = small_assistant.ingest()
    assert report.removed == ["civil_affairs/marriage.md"]
    assert all(h.doc != "civil_affairs/marriage.md" for h in small_assistant.retrieve("结婚登记", k=10))
    assert consistent(small_assistant)


def test_renamed_file_is_not_embedded_again(small_assistant):
    small_knowledge = small_assistant.settings.knowledge
    (small_knowledge / "civil_affairs/marriage.md").rename(small_knowledge / "civil_affairs/marriage-registration.md")
    report = small_assistant.ingest()
    assert report.indexed == ["civil_affairs/marriage-registration.md"]
    assert report.removed == ["civil_affairs/marriage.md"] and report.embedded == 0
    assert small_assistant.retrieve("结婚登记要带什么", k=1)[0].doc == "civil_affairs/marriage-registration.md"
    assert consistent(small_assistant)


def test_bad_files_are_skipped_with_reasons_and_the_rest_is_indexed(tmp_path):
    knowledge = write_guides(tmp_path / "k", {"permits/passport.md": PASSPORT, "a/empty.md": "",
                                              "a/notes.exe": "x"})
    (knowledge / "a" / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (knowledge / "a" / ".hidden.md").write_text("ignored")
    assistant = Assistant.from_settings(make_settings(tmp_path / "home", knowledge))
    report = assistant.ingest()
    assert report.indexed == ["permits/passport.md"]
    reasons = {r["path"]: r["reason"] for r in report.rejected}
    assert set(reasons) == {"a/empty.md", "a/notes.exe", "a/broken.pdf"}
    assert "empty" in reasons["a/empty.md"] and "unsupported" in reasons["a/notes.exe"]
    assert "PDF" in reasons["a/broken.pdf"]
    again = assistant.ingest()
    assert {r["path"] for r in again.rejected} == set(reasons) and again.embedded == 0


def test_rebuild_embeds_everything_again(small_assistant):
    report = small_assistant.ingest(rebuild=True)
    assert len(report.indexed) == 3 and report.embedded == report.chunks
    assert consistent(small_assistant)


def test_a_different_embedder_is_a_clear_error(tmp_path, small_knowledge):
    home = tmp_path / "home"
    Assistant.from_settings(make_settings(home, small_knowledge)).ingest()
    other = Assistant.from_settings(make_settings(home, small_knowledge, embedder="all-MiniLM-L6-v2"))
    with pytest.raises(StoreError, match="ingest --rebuild"):
        other.retrieve("护照")
    report = other.ingest(rebuild=True)
    assert report.chunks > 0 and other.retrieve("passport fees", k=1)[0].doc.startswith("permits/passport")


@pytest.mark.slow
def test_kill_9_during_ingestion_then_rerun_is_consistent(tmp_path):
    guides = {f"d{i % 4}/guide-{i:02d}.md": PASSPORT.replace("普通护照申领", f"第{i}号指南") + f"\n## 常见问题\n第{i}号的问答。\n"
              for i in range(40)}
    knowledge = write_guides(tmp_path / "k", guides)
    home = tmp_path / "home"
    env = {**os.environ, "CITYDESK_HOME": str(home), "CITYDESK_KNOWLEDGE": str(knowledge)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = home / "index" / "manifest.sqlite"
    deadline = time.time() + 120
    indexed = 0
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists():
            try:
                indexed = sqlite3.connect(manifest).execute("SELECT count(*) FROM files").fetchone()[0]
            except sqlite3.OperationalError:
                indexed = 0
            if indexed:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "ingestion finished before it could be killed; make the corpus bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < indexed < len(guides)
    assistant = Assistant.from_settings(make_settings(home, knowledge))
    report = assistant.ingest()
    assert len(report.indexed) + len(report.unchanged) == len(guides)
    assert consistent(assistant)
    assert assistant.ingest().embedded == 0


def test_an_edit_tokenizes_only_the_edited_guide_again(small_assistant, monkeypatch):
    import assistant.knowledge.lexical_build as lexical_build
    from assistant.search.lexical import tokenize

    calls = []

    def counting(text):
        calls.append(text)
        return tokenize(text)

    monkeypatch.setattr(lexical_build, "tokenize", counting)
    small_knowledge = small_assistant.settings.knowledge
    (small_knowledge / "permits/passport.md").write_text(PASSPORT.replace("每本120元。", "每本160元。"), encoding="utf-8")
    small_assistant.ingest()
    assert len(calls) == len(small_assistant.index.chunks_of("permits/passport.md")) < small_assistant.index.chunk_count()
    assert small_assistant.index.lexical.search("160元", k=1)[0][0].startswith(
        small_assistant.index.chunks_of("permits/passport.md")[0].id[:10])
    calls.clear()
    small_assistant.index.manifest.set_meta("tokenizer", "an older tokenizer")
    (small_knowledge / "civil_affairs/marriage.md").write_text(MARRIAGE + "\n备注：节假日不办理。\n", encoding="utf-8")
    small_assistant.ingest()
    assert len(calls) == small_assistant.index.chunk_count(), "tokens from another tokenizer are not reused"


def test_a_server_finds_guides_another_process_indexed_in_a_new_language(tmp_path):
    from tests.conftest import PASSPORT_EN

    knowledge = write_guides(tmp_path / "knowledge", {"permits/passport.md": PASSPORT})
    serving = Assistant.from_settings(make_settings(tmp_path / "home", knowledge))
    serving.ingest()
    assert {h.doc for h in serving.retrieve("How much is a passport?", k=5)} == {"permits/passport.md"}
    write_guides(knowledge, {"permits/passport.en.md": PASSPORT_EN})
    Assistant.from_settings(make_settings(tmp_path / "home", knowledge)).ingest()  # e.g. `citydesk ingest`
    assert serving.retrieve("How much is a passport?", k=1)[0].doc == "permits/passport.en.md"
