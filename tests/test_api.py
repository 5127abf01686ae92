import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app

pytestmark = pytest.mark.integration


def test_health_and_chat_over_http(small_assistant):
    client = TestClient(create_app(small_assistant))
    health = client.get("/healthz").json()
    assert health["ok"] and health["indexed_files"] == 3 and health["chunks"] > 0
    reply = client.post("/api/chat", json={"message": "办护照要多少钱"}).json()
    assert reply["status"] == "answered" and reply["citations"][0]["doc"] == "permits/passport.md"
    follow = client.post("/api/chat", json={"message": "结婚登记要什么材料", "session_id": reply["session_id"]}).json()
    assert follow["session_id"] == reply["session_id"]
    assert client.post("/api/chat", json={"message": 5, "lang": "fr"}).status_code == 422
