"""`QAError`, the root of every error a user can cause; `index.errors` and `qa.errors` add the rest.

Every such error carries a one-line message that says what to do; the CLI prints it and exits 1,
the UI shows it as a chat message.
"""


class QAError(Exception):
    """Base class of every error a user can cause."""
