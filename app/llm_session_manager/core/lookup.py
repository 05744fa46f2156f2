"""Turn what a user types (`claude-code:<id>`, or any unique prefix of a session id) into a key."""

from __future__ import annotations

from collections.abc import Iterable

from llm_session_manager.core.errors import AmbiguousSession, SessionNotFound
from llm_session_manager.core.models import SessionKey


def resolve(text: str, keys: Iterable[SessionKey]) -> SessionKey:
    text = text.strip()
    if not text:
        raise SessionNotFound("an empty session ID matches nothing")
    candidates = list(keys)
    exact = [k for k in candidates if str(k) == text or k.session_id == text]
    if len(exact) == 1:
        return exact[0]
    agent, sep, rest = text.partition(":")
    if sep and any(k.agent == agent for k in candidates):
        matches = [k for k in candidates if k.agent == agent and k.session_id.startswith(rest)]
    else:
        matches = [k for k in candidates if k.session_id.startswith(text)]
    if not matches:
        raise SessionNotFound(f"no session matches {text!r} (see `list` for IDs)")
    if len(matches) > 1:
        shown = ", ".join(str(k) for k in sorted(matches)[:5])
        raise AmbiguousSession(
            f"{text!r} matches {len(matches)} sessions ({shown}); type more of the ID"
        )
    return matches[0]
