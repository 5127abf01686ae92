"""Opening the index from several threads at once (the watcher's first pass, /healthz, the warm-up)."""

import threading

import pytest

from assistant.knowledge.index import Index

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("shared", [True, False], ids=["one index", "an index per thread"])
def test_a_healthy_index_opened_by_many_threads_at_once_is_ok_everywhere(small_assistant, shared):
    s = small_assistant.settings

    def fresh():
        return Index(directory=s.index_dir, knowledge=s.knowledge, embedder=small_assistant.embedder)

    for _ in range(3):
        one = fresh()
        states = []
        threads = [threading.Thread(target=lambda: states.append((one if shared else fresh()).status()))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert states == ["ok"] * 8, "a start-up race is no reason to advise a rebuild"
