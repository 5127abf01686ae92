"""The watched knowledge folder: a copied file is answered within seconds, a deleted one disappears."""

import shutil
import time

import pytest

from assistant.knowledge.watch import KnowledgeWatcher
from tests.channels.test_staff import DOG

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def wait_for(condition, timeout: float = 20.0) -> float:
    """Seconds until `condition()` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


def cited(assistant, question: str) -> list[str]:
    return [c.doc for c in assistant.ask(question).citations]


@pytest.fixture
def watched(small_assistant):
    watcher = KnowledgeWatcher(assistant=small_assistant, debounce=0.3, retry=0.3).start(initial=False)
    yield small_assistant, watcher
    watcher.stop()


def test_a_copied_file_is_answered_and_a_deleted_one_disappears(watched, tmp_path):
    assistant, watcher = watched
    source = tmp_path / "dog.md"
    source.write_text(DOG, encoding="utf-8")
    target = assistant.settings.knowledge / "pets" / "dog.md"
    target.parent.mkdir()
    shutil.copy(source, target)
    seconds = wait_for(lambda: any(f["path"] == "pets/dog.md" for f in assistant.index.files()))
    assert seconds < 10
    assert cited(assistant, "养狗登记要多少钱")[0] == "pets/dog.md"
    target.unlink()
    wait_for(lambda: all(f["path"] != "pets/dog.md" for f in assistant.index.files()))
    assert "pets/dog.md" not in cited(assistant, "养狗登记要多少钱")


def test_many_files_at_once_make_one_run_and_reads_do_not_wake_it(watched):
    assistant, watcher = watched
    folder = assistant.settings.knowledge / "pets"
    folder.mkdir()
    for n in range(5):
        (folder / f"dog{n}.md").write_text(DOG.replace("犬只登记", f"犬只登记{n}"), encoding="utf-8")
    wait_for(lambda: watcher.runs >= 1)
    time.sleep(1.5)
    assert watcher.runs == 1 and sum(f["path"].startswith("pets/") for f in assistant.index.files()) == 5
    (folder / ".dog.md.swp").write_text("editor scratch", encoding="utf-8")
    assistant.ingest()  # reads every file: must not trigger another run
    time.sleep(1.5)
    assert watcher.runs == 1


def test_a_busy_index_is_retried(watched):
    assistant, watcher = watched
    with assistant.index._exclusive():  # another ingestion holds the lock
        (assistant.settings.knowledge / "civil_affairs" / "dog.md").write_text(DOG, encoding="utf-8")
        time.sleep(1.5)
        assert watcher.runs == 0
    wait_for(lambda: any(f["path"] == "civil_affairs/dog.md" for f in assistant.index.files()))


def test_changes_while_nobody_watched_are_caught_up_at_start(small_assistant):
    (small_assistant.settings.knowledge / "civil_affairs" / "dog.md").write_text(DOG, encoding="utf-8")
    watcher = KnowledgeWatcher(assistant=small_assistant, debounce=0.1).start()
    try:
        wait_for(lambda: watcher.runs == 1)
        assert any(f["path"] == "civil_affairs/dog.md" for f in small_assistant.index.files())
    finally:
        watcher.stop()
