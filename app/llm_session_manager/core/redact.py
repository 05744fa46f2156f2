"""Secrets out of exported text: provider keys and tokens, private keys, auth headers, .env lines.

An export is meant to be pasted into a fresh session or sent to a colleague; transcripts are full
of `cat .env`, `curl -H "Authorization: ..."` and keys pasted into prompts. Each match becomes
`[REDACTED:<kind>]`. The marker itself matches no pattern, so redacting twice changes nothing
(an imported document that was redacted at its first export comes back unchanged).

Patterns are deliberately specific (a provider's prefix and length) rather than "long random
strings", which would also eat commit hashes, UUIDs and base64 test data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

MARKER = "[REDACTED:{kind}]"
_NOT_MARKER = r"(?!\[REDACTED)"

# (kind, pattern, group to replace: 0 = the whole match). Order matters: the more specific
# prefix first (an Anthropic key also starts with "sk-").
_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            # A key cut short (a shortened tool output) is redacted to the end of the text.
            r"[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
        0,
    ),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}"), 0),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}"), 0),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
        0,
    ),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"), 0),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"), 0),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), 0),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0),
    ("stripe-key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"), 0),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}"), 0),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), 0),
    (
        "authorization",
        re.compile(
            r"(?i)\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?"
            # Atomic: once the scheme word is taken it is never re-read as the credential.
            r"(?>(?:(?:bearer|basic|token|bot|digest)\s+)?)" + _NOT_MARKER + r"([^\s\"',;]+)"
        ),
        1,
    ),
    (
        "api-key-header",
        re.compile(
            r"(?i)\b(?:x-api-key|x-goog-api-key|api-key)\s*:\s*" + _NOT_MARKER + r"([^\s\"',;]+)"
        ),
        1,
    ),
    (
        "bearer-token",
        re.compile(r"(?i)\bbearer\s+" + _NOT_MARKER + r"([A-Za-z0-9._~+/\-]{16,}=*)"),
        1,
    ),
    (
        # .env style: API_KEY=..., export GITHUB_TOKEN="...", DB_PASSWORD: ... (upper-case names,
        # the convention for such variables; `max_tokens=100` in code is not one).
        "env-assignment",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:export\s+)?[A-Z][A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD)"
            r"[A-Z0-9_]*\s*[=:]\s*([\"']?)" + _NOT_MARKER + r"(?!\$)([^\s\"'#]+)\1"
        ),
        2,
    ),
    (
        # "password": "...", api_key = '...' in JSON, YAML or code, any case.
        "secret-assignment",
        re.compile(
            r"(?i)[\"']?\b(?:api[_-]?key|secret|client[_-]?secret|password|passwd|access[_-]?token"
            r"|auth[_-]?token|refresh[_-]?token)[\"']?\s*[:=]\s*([\"'])"
            + _NOT_MARKER
            + r"([^\"'\s]{4,})\1"
        ),
        2,
    ),
)
_KINDS = tuple(kind for kind, _, _ in _PATTERNS)
# Text shorter than the shortest secret above cannot hold one.
_MIN_LENGTH = 8


class Redactor:
    """Redacts strings and JSON-like trees, counting the distinct secrets it replaced.

    Distinct, because one key pasted once shows up in the prompt, the brief and the title: the
    user wants to know how many secrets were in the session, not how often each was quoted.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}  # secret -> kind

    @property
    def by_kind(self) -> Counter[str]:
        return Counter(self._seen.values())

    @property
    def count(self) -> int:
        return len(self._seen)

    def text(self, value: str) -> str:
        if len(value) < _MIN_LENGTH:
            return value
        for kind, pattern, group in _PATTERNS:
            value = pattern.sub(self._replacer(kind, group), value)
        return value

    def tree(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string redacted (keys are names, kept)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.tree(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.tree(v) for v in value]
        return value

    def _replacer(self, kind: str, group: int) -> Callable[[re.Match[str]], str]:
        marker = MARKER.format(kind=kind)

        def replace(match: re.Match[str]) -> str:
            self._seen.setdefault(match.group(group), kind)
            if group == 0:
                return marker
            start, end = match.span(group)
            base = match.start()
            whole = match.group(0)
            return whole[: start - base] + marker + whole[end - base :]

        return replace


def redact_text(text: str) -> tuple[str, int]:
    """`text` with its secrets replaced, and how many were."""
    redactor = Redactor()
    return redactor.text(text), redactor.count


def kinds() -> tuple[str, ...]:
    """The kinds of secret recognised, as they appear in markers."""
    return _KINDS
