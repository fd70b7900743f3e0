"""Who may use a shared server: the users file, roles, and when a server may face the network.

The users file is TOML, one table per user:

    [users.alice]
    role = "editor"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

Passwords are kept only as argon2id hashes (argon2-cffi's defaults). Roles nest:
`reader` asks, opens sources and exports; `editor` also adds, replaces and deletes articles;
`admin` also manages users. The file is rewritten whole through a temporary file and a rename,
readable by its owner alone. What this leaves out: checking a request's role (the server's,
`ui.auth`), and asking for passwords (the CLI's).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError

READER, EDITOR, ADMIN = "reader", "editor", "admin"
ROLES = (READER, EDITOR, ADMIN)
_RANK = {role: rank for rank, role in enumerate(ROLES)}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_CHARS = 8


class UsersFileError(QAError):
    """The users file cannot be read or changed as asked."""


def may(role: str | None, needed: str) -> bool:
    """Whether `role` includes what `needed` may do (roles nest: admin ⊃ editor ⊃ reader)."""
    return role in _RANK and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


class UsersFile:
    """The users of one server, in one TOML file. Constructing does no I/O."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def load(self) -> dict[str, User]:
        if not self.path.exists():
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise UsersFileError(f"cannot read the users file {self.path}: {e}") from e
        users = {}
        for name, entry in (data.get("users") or {}).items():
            if not isinstance(entry, dict) or entry.get("role") not in ROLES \
                    or not str(entry.get("password_hash", "")).startswith("$argon2"):
                raise UsersFileError(f"{self.path}: user {name!r} needs a role ({', '.join(ROLES)}) and an "
                                     "argon2 password_hash; add users with `qa users add`")
            users[name] = User(name, entry["role"], entry["password_hash"])
        return users

    def add(self, name: str, role: str, password: str) -> User:
        """Add a user, or give an existing one a new role and password."""
        if not NAME_PATTERN.match(name or ""):
            raise UsersFileError(f"{name!r} is not a user name: use letters, digits and . _ @ - (up to 64)")
        if role not in ROLES:
            raise UsersFileError(f"{role!r} is not a role; choose one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise UsersFileError(f"the password must be at least {MIN_PASSWORD_CHARS} characters long")
        users = self.load()
        users[name] = User(name, role, _hasher().hash(password))
        self._save(users)
        return users[name]

    def remove(self, name: str) -> User:
        users = self.load()
        if name not in users:
            raise UsersFileError(f"no user named {name!r} in {self.path}")
        user = users.pop(name)
        self._save(users)
        return user

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is theirs, else None (an unknown name costs as much time)."""
        from argon2.exceptions import Argon2Error

        user = self.load().get((name or "").strip())
        try:
            _hasher().verify(user.password_hash if user else _DUMMY_HASH.get(), password or "")
        except Argon2Error:
            return None
        return user

    def _save(self, users: dict[str, User]) -> None:
        lines = ["# users of `qa serve --users`; change with `qa users add/remove`", ""]
        for user in sorted(users.values(), key=lambda u: u.name):
            lines += [f'[users."{user.name}"]', f'role = "{user.role}"', f'password_hash = "{user.password_hash}"', ""]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp's file is the owner's alone (0600)
                f.write("\n".join(lines))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class _DummyHash:
    """A hash of nothing anyone types, made once, so that an unknown user's login is as slow as a known one's."""

    def __init__(self):
        self._value: str | None = None

    def get(self) -> str:
        if self._value is None:
            self._value = _hasher().hash(os.urandom(16).hex())
        return self._value


_DUMMY_HASH = _DummyHash()


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, users: Path | None, read_only: bool, allow_anonymous_writes: bool) -> None:
    """Refuse to serve open write endpoints beyond this machine, unless asked to on purpose."""
    if is_loopback(host) or users is not None or read_only or allow_anonymous_writes:
        return
    raise QAError(f"refusing to let anyone on the network change the articles at {host}: "
                  "start with --users FILE (login and roles) or --read-only "
                  "(or --allow-anonymous-writes, on purpose)")


DEFAULT_QUESTIONS_PER_MINUTE = 30
DEFAULT_WAITING_PER_CLIENT = 8  # of the server's 24 waiting places (ui.app.QUEUE_SIZE)


@dataclass(frozen=True)
class ServerAccess:
    """Who may do what on a server, as `qa serve`'s flags say.

    No users file: nobody logs in and every visitor may write (`check_exposure` allows that on a
    loopback host, or with `--allow-anonymous-writes`). With one, every route needs a login and
    writes need an editor. `read_only`: no write endpoints at all.
    """

    users_file: Path | None = None
    read_only: bool = False
    questions_per_minute: int | None = DEFAULT_QUESTIONS_PER_MINUTE  # per user (per address when anonymous); None: no limit
    waiting_per_client: int | None = DEFAULT_WAITING_PER_CLIENT  # events one client may have waiting in the queue

    def __post_init__(self):
        if self.questions_per_minute is not None and self.questions_per_minute < 1:
            raise QAError(f"--rate-limit must be at least 1 question a minute, not {self.questions_per_minute}")
