"""The `qa` command: build and grow indexes, ask questions, serve the chat, train the reader.

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


def _settings(index: Path | None):
    from qa.settings import Settings

    return Settings.from_env(index_dir=index)


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


def _report_skipped(assistant) -> None:
    report = getattr(assistant, "last_load_report", None)
    if report and report.skipped:
        typer.echo(f"skipped {len(report.skipped)} input(s) (see the warnings above)", err=True)


@index_app.command("build")
def index_build(paths: Annotated[list[Path], typer.Argument(help="files or folders of articles")],
                index: Annotated[Path, typer.Option("--index", help="index folder to create or replace")]):
    """Index articles into a new index folder (replaces what the folder held, atomically)."""
    from qa.assistant import Assistant

    def action():
        assistant = Assistant.build(paths, index, _settings(index), progress=True)
        _report_skipped(assistant)
        info = assistant.index
        typer.echo(f"indexed {len(info.articles)} article(s), {len(info.passages)} passage(s) into {index}")
    _run(action)


@index_app.command("add")
def index_add(paths: Annotated[list[Path], typer.Argument(help="files or folders of articles")],
              index: IndexOption = None):
    """Add articles to an existing index without rebuilding it (already indexed ones are skipped)."""
    from qa.assistant import Assistant

    def action():
        assistant = Assistant.load(index, _settings(index))
        added = assistant.add(paths, progress=True)
        _report_skipped(assistant)
        typer.echo(f"added {len(added)} new article(s); the index now has {len(assistant.index.articles)} "
                   f"article(s), {len(assistant.index.passages)} passage(s)")
    _run(action)


@index_app.command("info")
def index_info(index: IndexOption = None,
               as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False):
    """Show what an index holds."""
    from qa.assistant import Assistant

    def action():
        assistant = Assistant.load(index, _settings(index))
        from index.store import read_manifest

        manifest = read_manifest(assistant.index_dir)
        manifest.pop("checksums", None)
        titles = [a.title for a in assistant.articles()]
        if as_json:
            typer.echo(json.dumps({**manifest, "path": str(assistant.index_dir), "titles": titles}, indent=2))
            return
        typer.echo(f"index: {assistant.index_dir}")
        for key in ("format_version", "embedding_model", "embedding_dim", "metric", "article_count",
                    "passage_count", "created_at", "updated_at", "package_version"):
            typer.echo(f"  {key}: {manifest.get(key)}")
        for title in titles[:20]:
            typer.echo(f"  - {title}")
        if len(titles) > 20:
            typer.echo(f"  ... and {len(titles) - 20} more")
    _run(action)


@app.command()
def ask(question: Annotated[str, typer.Argument(help="the question, in quotes")],
        index: IndexOption = None,
        top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, max=100, help="passages to read")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the full result as JSON")] = False):
    """Answer a question from the indexed articles, quoting them (or say they do not answer it)."""
    from qa.assistant import Assistant
    from qa.render import result_to_json, result_to_text

    def action():
        assistant = Assistant.load(index, _settings(index))
        result = assistant.ask(question, top_k=top_k)
        typer.echo(json.dumps(result_to_json(result), ensure_ascii=False, indent=2) if as_json
                   else result_to_text(result))
    _run(action)


@app.command()
def serve(index: IndexOption = None,
          host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to listen on")] = 7860):
    """Start the chat in the browser (models are loaded before the first question)."""
    def action():
        from ui.app import serve as serve_ui  # the UI is a front end over qa; imported only here

        serve_ui(_settings(index), host=host, port=port)
    _run(action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
