"""Unguessable private codes (resume codes, invitation tokens) and their hashes."""

from __future__ import annotations

import base64
import hashlib
import secrets

CODE_BYTES = 20  # 160 bits


def new_code() -> str:
    """32 base32 characters in groups of four: easy to copy, read aloud or write down."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_code(text: str) -> str:
    """Accept codes typed with spaces, without hyphens or in lower case."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans({"0": "O", "1": "I", "8": "B"}))
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "ignore")).hexdigest()
