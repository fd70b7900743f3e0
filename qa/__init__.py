"""Answers questions from news articles with exact quotes and citations (or says they do not say).

`from qa import Assistant` is the whole Python API; torch loads only when a model is used.
"""

from qa.assistant import Assistant
from qa.errors import QAError
from qa.settings import Settings
from qa.types import AskResult, Citation, RetrievedPassage, Turn

__all__ = ["Assistant", "AskResult", "Citation", "QAError", "RetrievedPassage", "Settings", "Turn"]
