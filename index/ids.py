"""Stable article ids: a hash of the cleaned text, so the same article added twice is recognised."""

import hashlib


def article_id(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode("utf-8")).hexdigest()[:16]
