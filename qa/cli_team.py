"""The `qa` commands for running a shared server: `qa users add/remove/list`, and the index's
audit trail, `qa index log` and `qa index restore` (registered by `qa.cli`).

Passwords are read without echo (twice, to catch a typo) or, for scripts, from standard input
with `--password-stdin`; they are never printed or logged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

users_app = typer.Typer(no_args_is_help=True, help="Manage the accounts of `qa serve --users FILE`.")
UsersOption = Annotated[Path, typer.Option("--users", help="the users file (TOML) that `qa serve --users` reads")]


def _cli():
    from qa import cli  # late: qa.cli registers these commands, so it imports this module first

    return cli


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:  # hidden input, asked twice; a mismatch asks again
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, default="",
                                show_default=False)
    if not password:
        _cli()._fail("no password given; nothing was changed")
    return password


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="the user's login name")],
              users: UsersOption,
              role: Annotated[str, typer.Option("--role", help="reader (asks), editor (also adds and deletes "
                                                               "articles) or admin (also manages users)")] = "reader",
              password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                           help="read the password from standard input")] = False):
    """Add a user, or change an existing user's role and password."""
    from qa.users import UsersFile

    def action():
        existed = name in UsersFile(users).load()
        user = UsersFile(users).add(name, role, _read_password(password_stdin))
        typer.echo(f"{'updated' if existed else 'added'} {user.name} ({user.role}) in {users}")
    _cli()._run(action)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="the user's login name")], users: UsersOption):
    """Remove a user (a running server refuses them from their next request)."""
    from qa.users import UsersFile

    def action():
        user = UsersFile(users).remove(name)
        typer.echo(f"removed {user.name} ({user.role}) from {users}")
    _cli()._run(action)


@users_app.command("list")
def users_list(users: UsersOption):
    """List the users and their roles (never their password hashes)."""
    from qa.users import UsersFile

    def action():
        found = UsersFile(users).load()
        if not found:
            typer.echo(f"no users in {users}; add one with: qa users add NAME --role editor --users {users}")
        for user in sorted(found.values(), key=lambda u: u.name):
            typer.echo(f"{user.name}\t{user.role}")
    _cli()._run(action)


def index_log(index: Annotated[Path, typer.Option("--index", help="index folder")],
              since: Annotated[Optional[str], typer.Option(
                  "--since", metavar="YYYY-MM-DD", help="only writes on or after this day (UTC)",
                  show_default=False)] = None,
              as_json: Annotated[bool, typer.Option("--json", help="print the entries as JSON")] = False):
    """Show who added, replaced, deleted and restored which articles, and when."""
    from qa.audit import read_log

    def action():
        entries = read_log(index, since)
        if as_json:
            typer.echo(json.dumps(entries, indent=2, ensure_ascii=False))
            return
        if not entries:
            typer.echo("no writes recorded" + (f" since {since}" if since else ""))
        for e in entries:
            typer.echo(f"{e['seq']}\t{e['at']}\t{e['actor']}\t{e['action']}\t{e['article_id']}\t{e['title']}"
                       f"\t{e['source'] or '-'}\t{e['result']}")
    _cli()._run(action)


def index_restore(article_id: Annotated[str, typer.Argument(help="the id of a deleted or replaced article "
                                                                 "(`qa index log` lists them)")],
                  index: Annotated[Path, typer.Option("--index", help="index folder")]):
    """Bring back an article that was deleted or replaced, as it was, from the audit trail."""
    from qa.audit import restore

    def action():
        article = restore(index, article_id, _cli()._settings(index))
        typer.echo(f"restored {article.id}  {article.title}")
    _cli()._run(action)
