import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from assistant import Assistant
from assistant.search.store import StoreError, VectorStore
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1, stopped after the test."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


def test_embedded_store_round_trip(tmp_path):
    store = VectorStore(path=tmp_path / "c", embedder_name="e", dim=3)
    vectors = np.eye(3, dtype=np.float32)
    store.upsert(["a", "b", "c"], vectors, [{"doc": "x.md", "domain": "p"}, {"doc": "y.md", "domain": "q"},
                                             {"doc": "y.md", "domain": "q"}], ["A", "B", "C"])
    assert store.query(np.array([1, 0, 0], dtype=np.float32), 1)[0][0] == "a"
    assert [i for i, _ in store.query(np.array([1, 0, 0], dtype=np.float32), 3, ["q"])] in (["b", "c"], ["c", "b"])
    store.delete_docs(["y.md"])
    assert store.ids() == {"a"}


def test_store_opened_with_another_embedder_says_to_rebuild(tmp_path):
    VectorStore(path=tmp_path / "c", embedder_name="e", dim=3)
    with pytest.raises(StoreError, match="ingest --rebuild"):
        VectorStore(path=tmp_path / "c", embedder_name="other", dim=4)


def test_unreachable_server_is_a_clear_error_that_does_not_send_staff_to_a_rebuild():
    with pytest.raises(StoreError, match="cannot reach the vector store") as caught:
        VectorStore(url=f"http://127.0.0.1:{free_port()}", embedder_name="e", dim=3)
    assert "CITYDESK_CHROMA_URL" in str(caught.value) and "--rebuild" not in str(caught.value)


@pytest.mark.slow
def test_ingest_and_answer_through_a_chroma_server(tmp_path, small_knowledge, chroma_server):
    settings = make_settings(tmp_path / "home", small_knowledge, chroma_url=chroma_server)
    assistant = Assistant.from_settings(settings)
    report = assistant.ingest()
    assert len(report.indexed) == 3
    assert not (tmp_path / "home" / "index" / "chroma").exists(), "nothing is stored locally"
    reply = assistant.ask("办护照要带什么材料")
    assert reply.status == "answered" and reply.citations[0].doc == "permits/passport.md"
    assert assistant.ingest().embedded == 0


def test_a_store_path_that_cannot_be_a_folder_is_not_sent_to_a_rebuild(tmp_path):
    (tmp_path / "chroma").write_text("not a folder")  # an operator's mistake, or a disk problem: nothing to rebuild
    with pytest.raises(StoreError, match="cannot open the vector store") as caught:
        VectorStore(path=tmp_path / "chroma", embedder_name="e", dim=3)
    assert "permissions" in str(caught.value) and "--rebuild" not in str(caught.value)
