"""What the chat needs from the assistant: the whole contract, so nothing probes for a method.

`qa.Assistant` fulfils it, and so does `ui.batcher.BatchingAssistant`, which wraps one; tests
pass stand-ins that speak it. Asking goes through `ask`/`ask_many`; adding, removing and
listing articles through `collection` (`qa.Collection`).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from qa.settings import Settings
from qa.types import Article, AskResult, Scope, Turn

History = Sequence[Turn | tuple] | None


class CollectionLike(Protocol):
    def add(self, sources: Sequence[str | Path | Article], progress: bool = False, *,
            replace: bool = True) -> list[Article]: ...
    def add_text(self, title: str, text: str, source: str = "") -> Article | None: ...
    def remove(self, keys: str | Sequence[str]) -> list[Article]: ...
    def article(self, article_id: str) -> Article | None: ...
    def articles(self) -> list[Article]: ...
    def article_infos(self) -> list[dict]: ...  # each with "outlet" ("" for files and pasted text)


class AssistantLike(Protocol):
    settings: Settings
    collection: CollectionLike

    def check_question(self, question: str) -> str: ...
    def ask(self, question: str, history: History = None, *, top_k: int | None = None,
            scope: Scope | None = None) -> AskResult: ...
    def ask_many(self, questions: Sequence[tuple[str, History]], *, top_k: int | None = None,
                 scope: Scope | None = None) -> list[AskResult]: ...
