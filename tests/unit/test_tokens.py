"""Token counting with the shipped cl100k_base file: exact, offline, no cache, lazy import."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

from llm_session_manager.core import tokens
from llm_session_manager.core.errors import AppError


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget any encoding loaded by an earlier test, so the test sees a first load."""
    monkeypatch.setattr(tokens, "_encoding", None)
    monkeypatch.setattr(tokens, "_failure", None)


def test_shipped_file_is_the_one_tiktoken_pins() -> None:
    data = tokens.encoding_path().read_bytes()
    assert hashlib.sha256(data).hexdigest() == tokens.EXPECTED_SHA256


# Token ids published in OpenAI's cookbook ("How to count tokens with tiktoken") for cl100k_base:
# "tiktoken is great!" -> [83, 1609, 5963, 374, 2294, 0], "お誕生日おめでとう" -> 9 tokens.
@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("hello world", 2),
        ("tiktoken is great!", 6),
        ("antidisestablishmentarianism", 6),
        ("2 + 2 = 4", 7),
        ("お誕生日おめでとう", 9),
    ],
)
def test_known_counts(text: str, count: int) -> None:
    assert tokens.count_tokens(text) == count


def test_special_token_text_is_counted_as_plain_text() -> None:
    # A transcript may quote "<|endoftext|>"; it must neither raise nor count as one special token.
    assert tokens.count_tokens("<|endoftext|>") > 1


def test_loads_offline_without_a_cache(
    fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_network(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the tokenizer tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    # tiktoken's own loader would copy the file into <tempdir>/data-gym-cache: it must not happen.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    assert tokens.count_tokens("hello world") == 2
    assert list(tmp_path.iterdir()) == []


def test_a_set_cache_dir_is_left_untouched(
    fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    assert tokens.count_tokens("hello world") == 2
    assert list(cache.iterdir()) == []


def test_status_names_the_file(fresh: None) -> None:
    assert tokens.tokenizer_status() == f"cl100k_base loaded from {tokens.encoding_path()}"


def test_a_damaged_file_is_reported_not_used(
    fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    damaged = tmp_path / "cl100k_base.tiktoken"
    damaged.write_bytes(tokens.encoding_path().read_bytes()[:-10])
    monkeypatch.setattr(tokens, "encoding_path", lambda: damaged)

    status = tokens.tokenizer_status()
    assert status.startswith("cl100k_base unavailable:")
    assert "sha256" in status and str(damaged) in status
    with pytest.raises(tokens.TokenizerUnavailable) as caught:
        tokens.count_tokens("hello")
    assert isinstance(caught.value, AppError)


def test_a_missing_file_is_reported(
    fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.tiktoken"
    monkeypatch.setattr(tokens, "encoding_path", lambda: missing)
    status = tokens.tokenizer_status()
    assert status.startswith("cl100k_base unavailable:")
    assert str(missing) in status


def test_importing_the_module_does_not_import_tiktoken() -> None:
    code = (
        "import sys, llm_session_manager.core.tokens as t\n"
        "assert 'tiktoken' not in sys.modules\n"
        "assert t.count_tokens('hello world') == 2\n"
        "assert 'tiktoken' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
