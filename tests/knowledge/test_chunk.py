import pytest

from assistant.knowledge.chunk import chunk_document, sections
from assistant.knowledge.load import Document
from assistant.core.tokens import count

pytestmark = pytest.mark.unit


def test_sections_keep_heading_paths_and_text_as_written():
    body = "# 护照\n导语\n\n## 所需材料\n1. 身份证\n\n2. 照片\n### 未成年人\n出生证明\n## 收费标准\n```\n# 不是标题\n```\n120元"
    got = sections(body)
    assert got[0] == (["护照"], "导语")
    assert got[1] == (["护照", "所需材料"], "1. 身份证\n\n2. 照片")
    assert got[2] == (["护照", "所需材料", "未成年人"], "出生证明")
    assert got[3][0] == ["护照", "收费标准"] and "# 不是标题" in got[3][1]


def test_chunks_know_their_guide_section_and_language():
    doc = Document(path="permits/passport.md", domain="permits", title="护照", lang="zh",
                   meta={"source_url": "https://x.example", "updated": "2026-10-01"},
                   body="# 护照\n## 所需材料\n身份证。\n## 收费标准\n120元。")
    chunks = chunk_document(doc, chunk_tokens=200, content_hash="abc123")
    assert [c.section for c in chunks] == ["所需材料", "收费标准"]
    assert all(c.doc == "permits/passport.md" and c.domain == "permits" and c.lang == "zh" for c in chunks)
    assert chunks[0].source_url == "https://x.example" and chunks[0].embedding_text().startswith("护照 | 所需材料")
    assert len({c.id for c in chunks}) == 2


def test_long_sections_are_split_within_the_token_budget():
    long = "\n".join(f"{i}. 申请人需要提交的第{i}项材料是加盖公章的证明文件原件和复印件各一份。" for i in range(1, 80))
    doc = Document(path="a/b.md", domain="a", title="长", lang="zh", body=f"## 所需材料\n{long}")
    chunks = chunk_document(doc, chunk_tokens=120, content_hash="h")
    assert len(chunks) > 5
    assert all(count(c.text) <= 120 for c in chunks)
    assert all(c.section == "所需材料" for c in chunks)


def test_faq_rows_are_one_chunk_each():
    doc = Document(path="faq/f.xlsx", domain="faq", title="常见问题", lang="zh",
                   faq=[("护照多少钱", "120元", "证件"), ("地铁几点停运", "23:00", "")])
    chunks = chunk_document(doc, chunk_tokens=200, content_hash="h")
    assert [(c.section, c.text) for c in chunks] == [("证件 > 问：护照多少钱", "120元"), ("问：地铁几点停运", "23:00")]


def test_ids_change_with_content_only():
    doc = Document(path="a/b.md", domain="a", title="t", lang="zh", body="## x\n内容")
    a = chunk_document(doc, chunk_tokens=100, content_hash="one")
    b = chunk_document(doc, chunk_tokens=100, content_hash="one")
    c = chunk_document(doc, chunk_tokens=100, content_hash="two")
    assert [x.id for x in a] == [x.id for x in b] != [x.id for x in c]


def test_a_chinese_guide_carries_its_english_name_for_english_readers():
    meta = {"title_en": "Nursing Home Admission", "tags_en": ["care home"]}
    doc = Document(path="elderly_care/nursing-home.md", domain="elderly_care", title="养老机构入住", lang="zh",
                   meta=meta, body="# 养老机构入住\n## 收费标准\n床位费1500元。")
    chunk = chunk_document(doc, chunk_tokens=200, content_hash="abc123")[0]
    assert chunk.embedding_text().startswith("养老机构入住 (Nursing Home Admission; care home) | 收费标准")
    assert chunk.display_title("en") == "Nursing Home Admission (养老机构入住)"
    assert chunk.display_title("zh") == "养老机构入住"
    english = Document(path="elderly_care/nursing-home.en.md", domain="elderly_care", title="Nursing homes",
                       lang="en", meta=meta, body="# Nursing homes\n## Fees\n1,500 yuan.")
    assert chunk_document(english, chunk_tokens=200, content_hash="abc123")[0].display_title("en") == "Nursing homes"
