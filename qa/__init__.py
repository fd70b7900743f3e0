"""Answers questions from news articles with exact quotes and citations (or says they do not say).

`from qa import Assistant` is the whole Python API (its `collection` adds and removes articles);
torch loads only when a model is used.
"""

from index.load import load_paths, load_squad  # reading article files, for front ends and the evaluation
from index.metadata import is_url, outlet_of  # what a source is, and the outlet it names, for front ends
from index.split import paragraph_numbers, paragraph_spans  # how citations number an article's paragraphs, for front ends
from qa.assistant import Assistant
from qa.collection import Collection
from qa.errors import QAError
from qa.settings import Settings
from qa.types import Article, AskResult, Candidate, Citation, Passage, RetrievedPassage, Scope, Turn

__all__ = ["Article", "Assistant", "Collection", "AskResult", "Candidate", "Citation", "Passage", "QAError", "RetrievedPassage",
           "Scope", "Settings", "Turn", "is_url", "load_paths", "load_squad", "outlet_of", "paragraph_numbers",
           "paragraph_spans"]
