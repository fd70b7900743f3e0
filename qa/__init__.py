"""Answers questions from news articles with exact quotes and citations (or says they do not say).

`from qa import Assistant` is the whole Python API; torch loads only when a model is used.
"""

from index.load import load_paths, load_squad  # reading article files, for front ends and the evaluation
from index.split import paragraph_spans  # how citations number an article's paragraphs, for front ends
from qa.assistant import Assistant
from qa.errors import QAError
from qa.settings import Settings
from qa.types import Article, AskResult, Candidate, Citation, Passage, RetrievedPassage, Scope, Turn

__all__ = ["Article", "Assistant", "AskResult", "Candidate", "Citation", "Passage", "QAError", "RetrievedPassage",
           "Scope", "Settings", "Turn", "load_paths", "load_squad", "paragraph_spans"]
