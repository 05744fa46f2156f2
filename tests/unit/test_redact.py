"""Redaction: a planted secret of each kind is caught, ordinary text is left alone."""

from __future__ import annotations

import pytest

from llm_session_manager.core.redact import Redactor, kinds, redact_text

JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
# (kind, text with a secret planted in it, the secret itself)
PLANTED = [
    ("anthropic-key", "ANTHROPIC key is sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz ok",
     "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz"),
    ("openai-key", "use sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe for the call",
     "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"),
    ("github-token", "git clone https://ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github.com/x",
     "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
    ("gitlab-token", "token glpat-Ab12Cd34Ef56Gh78Ij90Kl here", "glpat-Ab12Cd34Ef56Gh78Ij90Kl"),
    ("aws-access-key", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("google-api-key", "key=AIzaSyA1234567890abcdefghijklmnopqrstuv&q=1",
     "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("slack-token", "SLACK xoxb-1234567890-abcdefghijkl posted", "xoxb-1234567890-abcdefghijkl"),
    ("stripe-key", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc set",
     "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("huggingface-token", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567 login",
     "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567"),
    ("jwt", f"cookie {JWT} end", JWT),
    ("private-key", "cat id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
     "b3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBexample\n-----END OPENSSH PRIVATE KEY-----\ndone",
     "b3BlbnNzaC1rZXktdjEAAAAA"),
    ("authorization", 'curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" https://x',
     "dXNlcjpwYXNzd29yZA=="),
    ("api-key-header", "x-api-key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0 sent",
     "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("bearer-token", "token was Bearer abcDEF123456ghiJKL789 in the log", "abcDEF123456ghiJKL789"),
    ("env-assignment", "$ cat .env\nDATABASE_PASSWORD=correct-horse-battery\nDEBUG=1",
     "correct-horse-battery"),
    ("secret-assignment", '{"client_secret": "s3cr3t-Value-42"}', "s3cr3t-Value-42"),
]  # fmt: skip


def test_every_kind_has_a_planted_example() -> None:
    assert sorted(kind for kind, _, _ in PLANTED) == sorted(kinds())


@pytest.mark.parametrize(("kind", "text", "secret"), PLANTED, ids=[k for k, _, _ in PLANTED])
def test_a_planted_secret_of_each_kind_is_redacted(kind: str, text: str, secret: str) -> None:
    redactor = Redactor()
    out = redactor.text(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert redactor.by_kind == {kind: 1}
    # The marker matches nothing: redacting again changes nothing and counts nothing.
    assert redact_text(out) == (out, 0)


def test_context_around_a_secret_is_kept() -> None:
    out, count = redact_text("export OPENAI_API_KEY=sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe # ci")
    assert out == "export OPENAI_API_KEY=[REDACTED:openai-key] # ci"
    assert count == 1
    out, _ = redact_text("Authorization: Bearer sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345")
    assert out == "Authorization: Bearer [REDACTED:anthropic-key]"


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens=4096 and MAX_TOKENS_PER_CALL",
        "commit 3f2a9c1e8b7d6f5a4c3b2a1f0e9d8c7b6a5f4e3d",
        "session 81c214e6-cd39-403f-b856-ac5ce6a0f407",
        "PATH=$HOME/bin:$PATH and API_KEY=$API_KEY",
        "the skeleton sk-is not a key, nor is task-ant-thing",
        "Authorization: [REDACTED:authorization]",
        "password reset instructions are in README.md",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == (text, 0)


def test_one_secret_quoted_several_times_counts_once() -> None:
    key = "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
    redactor = Redactor()
    out = redactor.tree({"prompt": f"use {key}", "brief": f"- {key}", "other": "sk-" + "q" * 30})
    assert key not in str(out)
    assert redactor.count == 2 and redactor.by_kind == {"openai-key": 2}


def test_a_tree_is_redacted_value_by_value_keys_kept() -> None:
    redactor = Redactor()
    inner = {"GITHUB_TOKEN": "x", "cmd": "GITHUB_TOKEN=abc123def456 gh"}
    tree = {"token": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "n": 3, "items": ["fine", inner]}
    out = redactor.tree(tree)
    redacted_inner = {"GITHUB_TOKEN": "x", "cmd": "GITHUB_TOKEN=[REDACTED:env-assignment] gh"}
    assert out == {"token": "[REDACTED:github-token]", "n": 3, "items": ["fine", redacted_inner]}
    assert redactor.count == 2
    assert tree["token"].startswith("ghp_")  # the input is not changed
