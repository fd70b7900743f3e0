"""The project's error hierarchy, in one place for callers: the root (`newsqa.errors.QAError`), the
index's errors and the assistant's own."""

from index.errors import BadArticleError, EmbedderMismatchError, IndexFormatError, IndexNotFoundError
from newsqa.errors import QAError


class BadQuestionError(QAError):
    """The question is empty, or too long to be a question."""


class ReaderError(QAError):
    """The reader model cannot be loaded or run."""


class BaseModelError(ReaderError):
    """A base model installed as packages is missing, damaged or cannot be unpacked."""


__all__ = ["BadArticleError", "BaseModelError", "BadQuestionError", "EmbedderMismatchError", "IndexFormatError",
           "IndexNotFoundError", "QAError", "ReaderError"]
