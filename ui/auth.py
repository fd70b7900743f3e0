"""Who is asking, and whether they may: login, roles and per-client limits, checked on the server.

Login is Gradio's own (`launch(auth=...)`): with a users file every route needs the session
cookie that `/login` gives, `gradio_client.Client(url, auth=(name, password))` included, and each
event's `gr.Request.username` names the user. Every write endpoint calls `Access.check_write`
first, so a reader's (or a read-only server's) write is refused whether it comes from the page,
`gradio_client` or raw HTTP; hiding the controls is only a courtesy on top. The users file is read
again when it changes, so a removed user or a changed role counts from the next request.

Limits are per user, or per address when nobody logs in (behind a reverse proxy, that is the
proxy's; run such a server with users). What this leaves out: the users file and roles (`qa.users`),
the HTTP-level limits (`ui.http_guard`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time

import gradio as gr
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from qa.users import EDITOR, READER, ServerAccess, User, UsersFile, may

log = logging.getLogger(__name__)

READ_ONLY_NOTE = "**Read-only server:** you can ask questions and read the sources; articles cannot be added or deleted here."
READER_NOTE = "You are signed in as a reader: you can ask and read; adding and deleting articles needs an editor."


def slow_down(wait_s: int) -> str:
    return f"slow down, try again in {wait_s} s"


class Limiter:
    """At most `per_minute` events a minute per key (a moving window); None: no limit."""

    def __init__(self, per_minute: int | None):
        self.item = RateLimitItemPerMinute(per_minute) if per_minute is not None else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait_s(self, key: str) -> int:
        """0 after counting one event for `key`; else the whole seconds until it may try again (nothing counted)."""
        if self.item is None or self._limiter.hit(self.item, key):
            return 0
        reset = self._limiter.get_window_stats(self.item, key).reset_time
        return max(1, math.ceil(reset - time.time()))


class Access:
    """The server's access policy over one `qa.users.ServerAccess`."""

    def __init__(self, options: ServerAccess | None = None):
        self.options = options if options is not None else ServerAccess()
        self.users = UsersFile(self.options.users_file) if self.options.users_file is not None else None
        self.questions = Limiter(self.options.questions_per_minute)
        self._lock = threading.Lock()
        self._loaded: tuple[float, dict[str, User]] | None = None

    @property
    def read_only(self) -> bool:
        return self.options.read_only

    @property
    def login_required(self) -> bool:
        return self.users is not None

    def gradio_auth(self):
        """What `launch(auth=...)` takes: a check of a name and password, or None (no login)."""
        if self.users is None:
            return None

        def login(name: str, password: str) -> bool:
            user = self.users.verify(name, password)
            log.info("login %s: %s", "accepted" if user else "refused", name)
            return user is not None
        return login

    def _current_users(self) -> dict[str, User]:
        try:
            mtime = os.stat(self.users.path).st_mtime
        except OSError:
            mtime = -1.0
        with self._lock:
            if self._loaded is None or self._loaded[0] != mtime:
                self._loaded = (mtime, self.users.load())
            return self._loaded[1]

    def role(self, request: gr.Request | None) -> str | None:
        """The caller's role; None for nobody (a login that no longer names a user)."""
        if self.users is None:
            return READER if self.read_only else EDITOR  # `qa.users.check_exposure` let this server open
        name = getattr(request, "username", None)
        user = self._current_users().get(name) if name else None
        return None if user is None else (READER if self.read_only else user.role)

    def who(self, request: gr.Request | None) -> str:
        """The caller as the audit trail and the limits name them: the user, else "anonymous@ADDRESS"."""
        name = getattr(request, "username", None)
        if name:
            return name
        client = getattr(request, "client", None)
        return f"anonymous@{getattr(client, 'host', None) or 'unknown'}"

    def check_write(self, request: gr.Request | None, what: str) -> str:
        """The caller's name for the audit trail, or gr.Error when they may not `what` (e.g. "add articles")."""
        who = self.who(request)
        if self.read_only:
            log.warning("refused %s to %s: the server is read-only", what, who)
            raise gr.Error(f"This server is read-only: nobody can {what} here.", print_exception=False)
        role = self.role(request)
        if not may(role, EDITOR):
            log.warning("refused %s to %s (%s)", what, who, role or "no such user")
            raise gr.Error(f"Only editors can {what}; you are signed in as {role or 'nobody'}.",
                           print_exception=False)
        return who

    def check_reader(self, request: gr.Request | None) -> None:
        if not may(self.role(request), READER):
            raise gr.Error("Sign in again: your account is no longer on this server.", print_exception=False)

    def question_wait_s(self, request: gr.Request | None) -> int:
        """0 when the caller may ask now (and counts the question), else the seconds to wait."""
        return self.questions.wait_s(self.who(request))

    def check_question(self, request: gr.Request | None) -> None:
        """gr.Error "slow down, try again in N s" past the caller's questions a minute."""
        self.check_reader(request)
        wait = self.question_wait_s(request)
        if wait:
            raise gr.Error(slow_down(wait), print_exception=False)

    def page_note(self, request: gr.Request | None) -> str:
        """What the page says about what this visitor may do ("" when they may do everything)."""
        if self.read_only:
            return READ_ONLY_NOTE
        role = self.role(request)
        return "" if may(role, EDITOR) else READER_NOTE
