"""The `qa` command: build and grow indexes, ask questions, serve the chat.

Errors a user can cause (QAError) become one line on stderr and exit code 1, never a traceback.
Heavy libraries load only inside commands, so `qa --help` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from qa.errors import QAError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Answer questions from news articles with exact quotes and citations.")
index_app = typer.Typer(no_args_is_help=True, help="Build, grow and inspect an index of articles.")
app.add_typer(index_app, name="index")

IndexOption = Annotated[Optional[Path], typer.Option("--index", help="index folder (default: the bundled article's)")]
ReaderOption = Annotated[Optional[str], typer.Option(
    "--reader", help="which reader answers: 'mpnet' (the default, better on news) or 'minilm' (faster; see "
                     "the model cards); NEWSQA_READER sets it too", show_default=False)]


def _settings(index: Path | None, reader: str | None = None):
    from dataclasses import replace

    from qa.settings import Settings

    settings = Settings.from_env(index_dir=index)
    # a reader named on the command line wins over a model folder set in NEWSQA_READER
    return settings if reader is None else replace(settings, reader=reader, reader_model=None)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _run(action):
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    try:
        return action()
    except QAError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted")


def _report_skipped(collection) -> None:
    report = collection.last_load_report
    if report and report.skipped:
        typer.echo(f"skipped {len(report.skipped)} input(s) (see the warnings above)", err=True)


def _summary(collection) -> str:
    articles, passages = collection.store.counts()
    return f"{articles} article(s), {passages} passage(s)"


@index_app.command("build")
def index_build(paths: Annotated[list[str], typer.Argument(
                    help="files or folders of articles, or web addresses (pages, feeds, sitemaps, PDFs)")],
                index: Annotated[Path, typer.Option("--index", help="index folder to create or bring up to date")],
                ray: Annotated[Optional[str], typer.Option(
                    "--ray", help="load, split and embed on Ray Data: 'local', 'auto' (a running cluster) or "
                                  "its ADDRESS", show_default=False)] = None):
    """Make the index hold exactly these articles (committed in batches: run it again to continue)."""
    from qa.collection import Collection

    def action():
        collection = Collection.build(paths, index, _settings(index), progress=True, ray=ray)
        _report_skipped(collection)
        typer.echo(f"indexed {_summary(collection)} into {index}")
    _run(action)


@index_app.command("add")
def index_add(paths: Annotated[list[str], typer.Argument(
                  help="files or folders of articles, or web addresses (pages, RSS/Atom feeds, news sitemaps, PDFs)")],
              index: IndexOption = None,
              published: Annotated[Optional[str], typer.Option(
                  "--published", metavar="YYYY-MM-DD", help="the published date of the articles that state none")] = None,
              outlet: Annotated[Optional[str], typer.Option(
                  "--outlet", help="the outlet's name for the articles that state none (\"The Guardian\")")] = None):
    """Add articles from files, folders and links (only the new ones are embedded and written); a new
    version under the same URL replaces the old one. A link that fails is one line saying why."""
    from qa.collection import Collection

    def action():
        collection = Collection(_settings(index))
        added = collection.add(paths, progress=True, published=published, outlet=outlet)
        _report_skipped(collection)
        replaced = len(collection.last_add_result.replaced) if collection.last_add_result else 0
        copies = len(collection.last_add_result.copies) if collection.last_add_result else 0
        typer.echo(f"added {len(added)} new article(s)" + (f", replacing {replaced} older version(s)" if replaced else "")
                   + (f" ({copies} copies of indexed stories, linked to their first version)" if copies else "")
                   + f"; the index now has {_summary(collection)}")
    _run(action)


@index_app.command("watch")
def index_watch(feeds: Annotated[list[str], typer.Argument(help="RSS/Atom feeds or news sitemaps: web addresses or files")],
                index: IndexOption = None,
                every: Annotated[str, typer.Option("--every", help="how often to poll: 30s, 15m, 2h")] = "15m",
                once: Annotated[bool, typer.Option("--once", help="poll once and exit")] = False):
    """Poll feeds and add their new items (an item already indexed, by canonical URL or by its
    words, is skipped and not fetched again)."""
    import time

    from qa.collection import Collection
    from qa.watch import FeedWatcher, parse_interval

    def report(poll) -> None:
        typer.echo(f"{time.strftime('%Y-%m-%d %H:%M:%S')} added {poll.added} new article(s)"
                   + (f" ({poll.copies} copies of indexed stories)" if poll.copies else "")
                   + (f", {len(poll.failed)} item(s) failed (see the warnings above)" if poll.failed else ""))

    def action():
        watcher = FeedWatcher(Collection(_settings(index)), feeds, parse_interval(every))
        if once:
            report(watcher.poll_once())
            typer.echo(f"the index now has {_summary(watcher.collection)}")
        else:
            watcher.run(report)
    _run(action)


@index_app.command("remove")
def index_remove(keys: Annotated[list[str], typer.Argument(help="article ids, URLs or file paths")],
                 index: IndexOption = None):
    """Remove articles from the index."""
    from qa.collection import Collection

    def action():
        collection = Collection.open(index, _settings(index))
        removed = collection.remove(keys)
        if not removed:
            _fail(f"no indexed article has the id, URL or path {', '.join(keys)}")
        for article in removed:
            typer.echo(f"removed {article.id}  {article.title}")
        typer.echo(f"the index now has {_summary(collection)}")
    _run(action)


@index_app.command("compact")
def index_compact(index: IndexOption = None):
    """Rewrite the vectors as one segment without removed passages (approximate search once large)."""
    from qa.collection import Collection

    def action():
        report = Collection.open(index, _settings(index)).compact()
        typer.echo(f"compacted {report['segments_merged']} segment(s) into one of {report['vectors']} vector(s)")
    _run(action)


@index_app.command("upgrade")
def index_upgrade(index: Annotated[Path, typer.Option("--index", help="index folder of an older format")]):
    """Convert an index of format 1 to today's format in place, keeping its vectors (no re-embedding)."""
    from qa.collection import Collection

    def action():
        info = Collection.upgrade(index, _settings(index)).describe()
        typer.echo(f"upgraded {index} to format {info['format_version']}: "
                   f"{info['article_count']} article(s), {info['passage_count']} passage(s)")
    _run(action)


@index_app.command("info")
def index_info(index: IndexOption = None,
               as_json: Annotated[bool, typer.Option("--json", help="print the index and its articles as JSON")] = False):
    """Show what an index holds: its format and models, and each article."""
    from qa.collection import Collection

    def action():
        collection = Collection.open(index, _settings(index))
        info = collection.describe()
        articles = collection.article_infos()
        if as_json:
            typer.echo(json.dumps({**info, "articles": articles}, indent=2, ensure_ascii=False))
            return
        typer.echo(f"index: {info['path']}")
        for key in ("format_version", "embedding_model", "embedding_dim", "metric", "article_count",
                    "passage_count", "created_at", "updated_at", "package_version", "tombstones"):
            typer.echo(f"  {key}: {info.get(key)}")
        typer.echo(f"  segments: {len(info['segments'])} ({sum(s['vectors'] for s in info['segments'])} vectors)")
        for a in articles[:20]:
            typer.echo(f"  - {a['id']}  {a['title']}  ({a['passages']} passages; {a['published'] or 'no date'}; "
                       f"{a['source'] or 'pasted'}" + (f"; copy of {a['duplicate_of']}" if a.get('duplicate_of') else "")
                       + ")")
        if len(articles) > 20:
            typer.echo(f"  ... and {len(articles) - 20} more")
    _run(action)


@app.command()
def ask(question: Annotated[str, typer.Argument(help="the question, in quotes")],
        index: IndexOption = None,
        top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, max=100, help="passages to read")] = None,
        article: Annotated[Optional[list[str]], typer.Option(
            "--article", metavar="ID", help="search only this article (repeat for more; ids as `qa index info` lists them)",
            show_default=False)] = None,
        outlet: Annotated[Optional[list[str]], typer.Option(
            "--outlet", metavar="NAME", help="search only articles from this site, e.g. bbc.co.uk (repeatable)",
            show_default=False)] = None,
        since: Annotated[Optional[str], typer.Option(
            "--since", metavar="YYYY-MM-DD", help="search only articles published on or after this day",
            show_default=False)] = None,
        until: Annotated[Optional[str], typer.Option(
            "--until", metavar="YYYY-MM-DD", help="search only articles published on or before this day",
            show_default=False)] = None,
        as_of: Annotated[Optional[str], typer.Option(
            "--as-of", metavar="YYYY-MM-DD", help="answer as the collection stood that day (articles published "
                                                  "on or before it)", show_default=False)] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the full result as JSON")] = False,
        reader: ReaderOption = None):
    """Answer a question from the indexed articles, quoting them (or say they do not answer it)."""
    from qa.assistant import Assistant
    from qa.formats import result_to_json, result_to_text
    from qa.scope import Scope

    def action():
        scope = Scope.parse(article or None, outlet or None, since, until)  # a bad scope fails before any model loads
        Scope.as_of(scope, as_of)
        assistant = Assistant.load(index, _settings(index, reader))
        result = assistant.ask(question, top_k=top_k, scope=scope, as_of=as_of)
        typer.echo(json.dumps(result_to_json(result), ensure_ascii=False, indent=2) if as_json
                   else result_to_text(result))
    _run(action)


@app.command()
def serve(index: IndexOption = None,
          host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to listen on")] = 7860,
          reader: ReaderOption = None,
          watch: Annotated[Optional[list[str]], typer.Option(
              "--watch", metavar="FEED", help="poll this RSS/Atom feed or news sitemap and add its new items "
                                              "(repeatable)", show_default=False)] = None,
          every: Annotated[str, typer.Option("--every", help="how often --watch polls: 30s, 15m, 2h")] = "15m",
          users: Annotated[Optional[Path], typer.Option(
              "--users", help="users file (`qa users add`): everyone logs in; readers ask, editors also add "
                              "and delete articles", show_default=False)] = None,
          read_only: Annotated[bool, typer.Option("--read-only", help="answers and sources only: no uploads, "
                                                                      "no deletes, no write endpoints")] = False,
          allow_anonymous_writes: Annotated[bool, typer.Option(
              "--allow-anonymous-writes", help="on a non-loopback --host, let anyone add and delete articles")] = False,
          rate_limit: Annotated[int, typer.Option(
              "--rate-limit", min=1, help="questions a minute per user (per address when nobody logs in)")] = 30,
          max_waiting: Annotated[int, typer.Option(
              "--max-waiting-per-client", min=1, help="requests one user (or address) may have waiting")] = 8):
    """Start the chat in the browser (models are loaded before the first question)."""
    from qa.users import ServerAccess, UsersFile, check_exposure

    def action():
        from qa.watch import parse_interval

        check_exposure(host, users, read_only, allow_anonymous_writes)
        if users is not None and not UsersFile(users).load():
            raise QAError(f"no users in {users}; add one first: qa users add NAME --role editor --users {users}")
        access = ServerAccess(users_file=users, read_only=read_only, questions_per_minute=rate_limit,
                              waiting_per_client=max_waiting)
        polling = {"watch": list(watch), "every_s": parse_interval(every)} if watch else {}
        frontend(SERVE_FRONTEND)(_settings(index, reader), host=host, port=port, access=access, **polling)
    _run(action)


# Running a shared server: accounts, and the index's audit trail.
from qa.cli_team import index_log, index_restore, users_app  # noqa: E402

app.add_typer(users_app, name="users")
index_app.command("log")(index_log)
index_app.command("restore")(index_restore)


# The chat is a front end over qa, so qa does not import it: the package that provides it
# registers its `serve(settings, host, port)` under this entry-point group (see pyproject.toml).
FRONTEND_GROUP = "newsqa.frontends"
SERVE_FRONTEND = "chat"


def frontend(name: str):
    from importlib.metadata import entry_points

    found = entry_points(group=FRONTEND_GROUP, name=name)
    if not found:
        raise QAError(f"no front end named {name!r} is installed; reinstall the project (pip install -e .)")
    return next(iter(found)).load()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
