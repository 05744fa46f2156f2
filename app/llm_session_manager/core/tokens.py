"""Count tokens offline with tiktoken's cl100k_base, for agents whose records carry no usage.

`tiktoken.get_encoding()` downloads its BPE file on first use, which fails on offline machines, so
the file ships in resources/ and is loaded from there, checked against the sha256 tiktoken pins.
We read and verify the file ourselves instead of calling `tiktoken.load.load_tiktoken_bpe`: that
function copies every file it reads into a cache directory (a temp dir, or TIKTOKEN_CACHE_DIR, and
raises if a user-set cache dir is not writable): a side effect a read-only monitor should not have.

tiktoken is imported on first use only, so commands that never count tokens start fast.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from llm_session_manager.core.errors import AppError
from llm_session_manager.paths import resource_path

if TYPE_CHECKING:
    import tiktoken

ENCODING_NAME = "cl100k_base"
EXPECTED_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

# From tiktoken_ext.openai_public.cl100k_base (tiktoken 0.7-0.14); the BPE ranks come from the file.
_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


class TokenizerUnavailable(AppError):
    """The shipped encoding file is missing, damaged or unreadable; the message says which."""


_lock = threading.Lock()
_encoding: tiktoken.Encoding | None = None
_failure: str | None = None


def encoding_path() -> Path:
    return resource_path("tokenizers", f"{ENCODING_NAME}.tiktoken")


def _read_ranks(path: Path) -> dict[bytes, int]:
    """The same parsing as tiktoken.load.load_tiktoken_bpe, minus its cache copy."""
    import base64  # with tiktoken: on first use, not at start-up
    import hashlib

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256:
        raise TokenizerUnavailable(f"{path}: sha256 {digest} is not the expected {EXPECTED_SHA256}")
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(data.splitlines(), start=1):
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except ValueError as exc:
            raise TokenizerUnavailable(f"{path}:{number}: not a BPE rank line") from exc
    return ranks


def _load() -> tiktoken.Encoding:
    import tiktoken

    path = encoding_path()
    try:
        ranks = _read_ranks(path)
    except OSError as exc:
        raise TokenizerUnavailable(f"{path}: {exc.strerror or exc}") from exc
    return tiktoken.Encoding(
        ENCODING_NAME,
        pat_str=_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=_SPECIAL_TOKENS,
    )


def _get_encoding() -> tiktoken.Encoding:
    """Load once; a failure is remembered too, so a broken install is not re-read on every call."""
    global _encoding, _failure
    with _lock:
        if _encoding is None and _failure is None:
            try:
                _encoding = _load()
            except TokenizerUnavailable as exc:
                _failure = str(exc)
        if _encoding is None:
            raise TokenizerUnavailable(_failure)
        return _encoding


def count_tokens(text: str) -> int:
    """cl100k_base token count of `text`. Special-token strings count as ordinary text.

    Raises TokenizerUnavailable when the shipped encoding file cannot be used.
    """
    if not text:
        return 0
    return len(_get_encoding().encode_ordinary(text))


def tokenizer_status() -> str:
    """One line for `info` and `--self-test`: loads the encoding if it was not loaded yet."""
    try:
        _get_encoding()
    except TokenizerUnavailable as exc:
        return f"{ENCODING_NAME} unavailable: {exc}"
    return f"{ENCODING_NAME} loaded from {encoding_path()}"
