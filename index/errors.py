"""Errors the index raises, under the project's root `newsqa.errors.QAError` (qa.errors adds the assistant's).

Every error a user can cause carries a one-line message that says what to do; the CLI prints
it and exits 1, the UI shows it as a chat message.
"""

from newsqa.errors import QAError

__all__ = ["BadArticleError", "EmbedderMismatchError", "IndexFormatError", "IndexNotFoundError", "QAError"]


class BadArticleError(QAError):
    """An input file or text cannot be read as an article."""


class IndexNotFoundError(QAError):
    """No index folder where one was expected."""


class IndexFormatError(QAError):
    """The folder is not an index of this format, or it is corrupted."""


class EmbedderMismatchError(QAError):
    """The index was built with another embedding model than the one configured."""

    def __init__(self, message: str, stored: str | None = None):
        super().__init__(message)
        self.stored = stored  # the embedder the index was built with
