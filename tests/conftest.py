"""Shared fixtures: settings in a temporary home, tiny guide folders, and the real demo corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
for _key in [k for k in os.environ if k.startswith("CITYDESK_")]:
    del os.environ[_key]

from assistant import Assistant  # noqa: E402
from assistant.core.config import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"

PASSPORT = """---
title: 普通护照申领
department: 澄湾市公安局出入境管理支队
updated: 2026-10-15
source_url: https://www.chengwan.gov.example/permits/passport
lang: zh
---
# 普通护照申领

## 事项简介
中国公民因私出国旅游、探亲、学习，可以申请普通护照。

## 所需材料
1. 居民身份证原件。
2. 近期免冠照片，窗口现场免费采集。

## 办理时限
7个工作日。

## 收费标准
每本120元。
"""

MARRIAGE = """---
title: 结婚登记
lang: zh
---
# 结婚登记

## 所需材料
1. 双方居民户口簿。
2. 双方居民身份证。
3. 双方近期半身免冠合影照片2张。

## 收费标准
免费。
"""

PASSPORT_EN = """---
title: Ordinary passport
lang: en
---
# Ordinary passport

## Required materials
1. Your resident ID card.
2. A photo, taken free of charge at the window.

## Fees
120 yuan per passport.
"""


def write_guides(root: Path, guides: dict[str, str]) -> Path:
    for rel, text in guides.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def small_knowledge(tmp_path) -> Path:
    return write_guides(tmp_path / "knowledge", {"permits/passport.md": PASSPORT,
                                                 "permits/passport.en.md": PASSPORT_EN,
                                                 "civil_affairs/marriage.md": MARRIAGE})


def make_settings(home: Path, knowledge: Path, **overrides) -> Settings:
    return Settings.from_env(environ={}, env_file=None, home=home, knowledge=knowledge, **overrides)


@pytest.fixture(scope="session")
def _small_template(tmp_path_factory) -> Path:
    """The small knowledge folder, indexed and seeded once; each test gets a copy of it."""
    root = tmp_path_factory.mktemp("small-template")
    knowledge = write_guides(root / "knowledge", {"permits/passport.md": PASSPORT,
                                                  "permits/passport.en.md": PASSPORT_EN,
                                                  "civil_affairs/marriage.md": MARRIAGE})
    assistant = Assistant.from_settings(make_settings(root / "home", knowledge))
    assistant.ingest()
    assistant.sessions  # creates the database with the seed data and slots
    return root


@pytest.fixture
def small_assistant(tmp_path, _small_template) -> Assistant:
    """An Assistant over three small guides, with its own copy of the index and database."""
    shutil.copytree(_small_template, tmp_path / "small")
    return Assistant.from_settings(make_settings(tmp_path / "small" / "home", tmp_path / "small" / "knowledge"))


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory) -> Assistant:
    """The whole demo knowledge base, indexed once per test run in a temporary home."""
    home = tmp_path_factory.mktemp("corpus-home")
    knowledge = tmp_path_factory.mktemp("corpus") / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    assistant = Assistant.from_settings(make_settings(home, knowledge))
    assistant.ingest_report = assistant.ingest()
    return assistant
