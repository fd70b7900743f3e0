"""Stable article ids: a hash of the cleaned text, so the same article added twice is recognised."""

import hashlib


def article_id(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    """A hash of an article's words alone (case and spacing aside): the same story under another
    title or with other line breaks has the same one."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()[:16]
