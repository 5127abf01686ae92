"""Bad input at every door of a real server: each gets a clear error in bounded time, and others are served.

Doors: the REST chat, the OpenAI-compatible API, the staff upload, Gradio's upload routes and the
watched knowledge folder. Inputs: empty, 1 MB, binary, invalid UTF-8, emoji-only, malformed JSON,
a 10,000-turn session, a 200 MB upload, a zip bomb named .docx, a PDF that makes the parser loop.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
import zlib
from pathlib import Path

import httpx
import pytest

from assistant.services.database import make_session_factory
from assistant.services.db import Conversation, Message
from assistant.knowledge import load as loader
from assistant.core.prompts import render
from tests.files import zip_bomb_docx
from tests.test_crash import citydesk_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "s3cret-token"
MB = 1 << 20


def looping_pdf(pages: int = 200, operations: int = 100_000) -> bytes:
    """A 44 KB PDF whose pages share one compressed content stream of `operations` text operators:
    pypdf needs seconds per page, so reading it all would take many minutes."""
    stream = zlib.compress(b"BT /F1 12 Tf " + b"(x) Tj 1 0 Td " * operations + b"ET", 9)
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 "
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>")
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages)).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)] + [page] * pages
    out, offsets = io.BytesIO(b"%PDF-1.4\n"), []
    out.seek(0, io.SEEK_END)
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def zeros(total: int, head: bytes = b"", tail: bytes = b""):
    """A request body streamed in 1 MB pieces (no Content-Length: the server must count as it reads)."""
    yield head
    for _ in range(total // MB):
        yield b"\0" * MB
    yield tail


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def json_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text and 'File "' not in response.text
    return response.json()["error"]["message"]


class Timed:
    """A normal citizen's question asked while something bad is in flight; records how long it took."""

    def __init__(self, url: str) -> None:
        self.url, self.seconds, self.reply = url, None, None

    def __call__(self) -> None:
        began = time.monotonic()
        self.reply = httpx.post(self.url + "/api/chat", json={"message": "办护照要多少钱"}, timeout=120).json()
        self.seconds = time.monotonic() - began

    def assert_served(self, bound: float = 15.0) -> None:
        assert self.reply["status"] == "answered" and "120" in self.reply["reply"]
        assert self.seconds < bound


@pytest.fixture(scope="module")
def desk(tmp_path_factory, _small_template) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    shutil.copytree(_small_template, root / "desk")
    return root / "desk"


@pytest.fixture(scope="module")
def server(desk):
    with citydesk_serve(desk / "home", desk / "knowledge", desk / "serve.log", CITYDESK_STAFF_TOKEN=TOKEN) as running:
        yield running


@pytest.mark.parametrize("path, body, status, says", [
    ("/api/chat", b'{"message": "\xff\xfe \xc3"}', 400, "not JSON text in UTF-8"),
    ("/api/chat", b"\x00\x01\x02\x89PNG binary", 422, "not valid JSON"),
    ("/api/chat", b"{not json", 422, "not valid JSON: Expecting property name"),
    ("/api/chat", b'["a list"]', 422, "valid dictionary"),
    ("/api/chat", b'{"message": 5}', 422, "message"),
    ("/api/chat", b'{"text": "no message field"}', 422, "message: Field required"),
    ("/v1/chat/completions", b"{bad", 422, "not valid JSON"),
    ("/v1/chat/completions", b'{"messages": []}', 422, "at least 1 item"),
    ("/v1/chat/completions", b'{"messages": [{"role": "system", "content": "hi"}]}', 400, "role 'user'"),
    ("/api/feedback", b'{"session_id": "", "helpful": "maybe"}', 422, "helpful"),
])
def test_malformed_bodies_get_a_json_error_not_a_trace(server, path, body, status, says):
    url, _ = server
    began = time.monotonic()
    response = httpx.post(url + path, content=body, headers={"content-type": "application/json"}, timeout=30)
    assert says in json_error(response, status)
    assert time.monotonic() - began < 5


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("message, key", [("", "empty"), ("   \n\t ", "empty"), ("\x00\x01\x02\x03\x04 abc", "binary"),
                                          ("长" * 2500, "too_long")])
def test_bad_messages_get_the_clear_canned_reply_in_the_citizens_language(server, message, key, lang):
    url, _ = server
    reply = httpx.post(url + "/api/chat", json={"message": message, "lang": lang}, timeout=30).json()
    assert reply["status"] == "rejected" and reply["reply"] == render(key, lang, limit=2000)


@pytest.mark.parametrize("message, lang", [("😀😀😀", "zh"), ("🙏🙏", "en"), ("👍", "zh")])
def test_emoji_only_gets_a_reply_not_an_error(server, message, lang):
    url, _ = server
    reply = httpx.post(url + "/api/chat", json={"message": message, "lang": lang}, timeout=30).json()
    assert reply["status"] == "answered" and reply["lang"] == lang
    assert reply["reply"] == render("no_words", lang)


def test_a_1_mb_body_is_refused_while_another_citizen_is_served(server):
    url, process = server
    declared = httpx.post(url + "/api/chat", json={"message": "x" * MB}, timeout=30)
    assert "over 65536 bytes" in json_error(declared, 413)
    other = Timed(url)
    sender = threading.Thread(target=other)

    def trickle():
        yield b'{"message": "'
        for _ in range(16):
            time.sleep(0.2)
            yield b"x" * (64 * 1024)
        yield b'"}'

    sender.start()
    streamed = httpx.post(url + "/v1/chat/completions", content=trickle(), timeout=60,
                          headers={"content-type": "application/json"})
    sender.join()
    assert "over 65536 bytes" in json_error(streamed, 413)
    other.assert_served()


def test_a_200_mb_upload_is_refused_before_it_is_read_and_others_are_served(server):
    url, process = server
    before = rss_mb(process.pid)
    other = Timed(url)
    asker = threading.Thread(target=other)
    asker.start()
    multipart = (b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
                 b"Content-Type: application/pdf\r\n\r\n")
    for path, auth in (("/api/staff/upload", {"authorization": f"Bearer {TOKEN}"}), ("/staff/gradio_api/upload", {}),
                       ("/gradio_api/upload", {})):
        began = time.monotonic()
        response = httpx.post(url + path, content=zeros(200 * MB, multipart, b"\r\n--b0undary--\r\n"), timeout=60,
                              headers={"content-type": "multipart/form-data; boundary=b0undary", **auth})
        assert response.status_code == 413, (path, response.text[:200])
        assert time.monotonic() - began < 20
    asker.join()
    other.assert_served()
    assert rss_mb(process.pid) - before < 100  # the 200 MB never sat in the server's memory


def test_a_zip_bomb_named_docx_is_refused_at_upload_in_bounded_time(server, tmp_path):
    url, _ = server
    bomb = zip_bomb_docx(tmp_path / "guide.docx", megabytes=300).read_bytes()
    began = time.monotonic()
    response = httpx.post(url + "/api/staff/upload", files={"file": ("guide.docx", bomb)}, data={"domain": "permits"},
                          headers={"authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert "zip bomb" in json_error(response, 400)
    assert time.monotonic() - began < 5
    files = httpx.get(url + "/api/staff/files", headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert "permits/guide.docx" not in str(files)


def test_a_10000_turn_session_still_answers_in_bounded_time(server, desk):
    url, _ = server
    sessions = make_session_factory(f"sqlite:///{desk / 'home' / 'citydesk.db'}")
    with sessions.begin() as db:
        db.add(Conversation(id="long-session", lang="zh", state={"turns": 10_000}))
        for turn in range(10_000):
            db.add(Message(session_id="long-session", role="user", text=f"第{turn}个问题：办护照要多少钱"))
            db.add(Message(session_id="long-session", role="assistant", text="每本120元。", status="answered"))
    with httpx.Client(timeout=60) as client:
        for message, status in (("办护照要多少钱", "answered"), ("转人工", "handoff")):
            began = time.monotonic()
            reply = client.post(url + "/api/chat", json={"message": message, "session_id": "long-session"}).json()
            assert reply["status"] == status and reply["session_id"] == "long-session"
            assert time.monotonic() - began < 10
        began = time.monotonic()
        history = client.get(url + "/api/sessions/long-session")
        assert history.status_code == 200 and len(history.json()["messages"]) == 20_004
        assert time.monotonic() - began < 10


def test_a_pdf_that_makes_the_parser_loop_is_rejected_in_bounded_time(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "PDF_SECONDS", 2)
    path = tmp_path / "k" / "health" / "loop.pdf"
    path.parent.mkdir(parents=True)
    path.write_bytes(looping_pdf())
    began = time.monotonic()
    with pytest.raises(loader.Rejected, match="took over 2 s"):
        loader.load(path, tmp_path / "k", 20 * MB)
    assert time.monotonic() - began < 5


def test_the_watched_folder_rejects_a_looping_pdf_goes_on_and_keeps_serving(tmp_path, _small_template):
    shutil.copytree(_small_template, tmp_path / "desk")
    knowledge = tmp_path / "desk" / "knowledge"
    with citydesk_serve(tmp_path / "desk" / "home", knowledge, tmp_path / "serve.log",
                        CITYDESK_STAFF_TOKEN=TOKEN) as (url, _):
        (knowledge / "health").mkdir()
        (knowledge / "health" / "loop.pdf").write_bytes(looping_pdf())
        (knowledge / "health" / "flu.md").write_text("# 流感疫苗\n\n## 收费标准\n60岁以上老人免费接种。\n", encoding="utf-8")
        began, other = time.monotonic(), Timed(url)
        time.sleep(3)  # the watcher has started reading the PDF
        other()
        other.assert_served()
        files: dict[str, dict] = {}
        while time.monotonic() - began < loader.PDF_SECONDS + 60 and not {"health/loop.pdf", "health/flu.md"} <= set(files):
            listed = httpx.get(url + "/api/staff/files", headers={"authorization": f"Bearer {TOKEN}"}).json()
            files = {f["path"]: f for f in listed}
            time.sleep(1)
        assert files["health/loop.pdf"]["status"] == "rejected" and files["health/flu.md"]["status"] == "indexed"
        reason = files["health/loop.pdf"]["reason"]
        assert f"took over {loader.PDF_SECONDS} s" in reason
        reply = httpx.post(url + "/api/chat", json={"message": "流感疫苗老人收费吗"}, timeout=60).json()
        assert reply["status"] == "answered" and "免费" in reply["reply"]
