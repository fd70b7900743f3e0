"""The index's audit trail: every write recorded with who, when and what; `qa index log`;
restoring a deleted article with `qa index restore`; indexes made before the trail existed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUNDLED
from fakes import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]
FERRY = ("Lakeside Ferry To Run Every Hour\n\n"
         "The Lakeside ferry will run every hour from May 1, the harbour office said on Friday.\n")


def qa(env, *args, check=True, stdin=None):
    proc = subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300, input=stdin)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture()
def env(tmp_path):
    return dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), NEWSQA_CACHE=str(tmp_path / "cache"))


@pytest.mark.slow  # the real embedder and reader, loaded by each of nine commands
def test_log_and_restore_through_the_cli(env, tmp_path):
    index = tmp_path / "index"
    ferry = tmp_path / "ferry.txt"
    ferry.write_text(FERRY)
    qa(env, "index", "build", BUNDLED, ferry, "--index", index)
    info = json.loads(qa(env, "index", "info", "--index", index, "--json").stdout)
    ferry_id = next(a["id"] for a in info["articles"] if a["title"].startswith("Lakeside"))
    qa(env, "index", "remove", ferry_id, "--index", index)
    log = json.loads(qa(env, "index", "log", "--index", index, "--json").stdout)
    assert [(e["action"], e["result"]) for e in log] == [("add", "added"), ("add", "added"), ("delete", "deleted")]
    assert all(e["actor"].startswith("local") for e in log)
    assert log[2]["article_id"] == ferry_id and log[2]["title"] == "Lakeside Ferry To Run Every Hour"
    assert log[2]["source"].endswith("ferry.txt") and log[2]["restorable"]
    text = qa(env, "index", "log", "--index", index).stdout.splitlines()
    assert len(text) == 3 and "delete" in text[2] and ferry_id in text[2]
    assert qa(env, "index", "log", "--index", index, "--since", "2999-01-01").stdout.startswith("no writes recorded")
    assert qa(env, "index", "log", "--index", index, "--since", "yesterday", check=False).returncode == 1

    restored = qa(env, "index", "restore", ferry_id, "--index", index)
    assert f"restored {ferry_id}" in restored.stdout
    answer = json.loads(qa(env, "ask", "How often will the Lakeside ferry run?", "--index", index, "--json").stdout)
    assert answer["found"] and answer["citation"]["article_id"] == ferry_id
    assert "every hour" in answer["answer"]
    log = json.loads(qa(env, "index", "log", "--index", index, "--json").stdout)
    assert (log[-1]["action"], log[-1]["article_id"]) == ("restore", ferry_id)
    again = qa(env, "index", "restore", ferry_id, "--index", index, check=False)
    assert again.returncode == 1 and "in the index already" in again.stderr
    unknown = qa(env, "index", "restore", "0000000000000000", "--index", index, check=False)
    assert unknown.returncode == 1 and "keeps no deleted or replaced article" in unknown.stderr


def test_a_replacement_keeps_the_old_version_and_who_made_it(tmp_path):
    from index.audit import acting_as, read_entries, saved_article
    from qa import Collection, Settings
    from qa.types import Article

    index = tmp_path / "index"
    collection = Collection.build([BUNDLED], index, Settings(index_dir=index, cache_dir=tmp_path / "c"),
                                  embedder=HashEmbedder())
    url = "https://news.example/bridge"
    old = Article("a" * 16, "Bridge to reopen", url, "2026-02-01", "The bridge reopens on March 3.")
    new = Article("b" * 16, "Bridge to reopen", url, "2026-02-02", "The bridge reopens on March 10, not March 3.")
    with acting_as("ann"):
        collection.add([old])
    with acting_as("bob"):
        collection.add([new])
    entries = read_entries(index)[1:]
    assert [(e["actor"], e["action"], e["article_id"], e["result"]) for e in entries] == [
        ("ann", "add", old.id, "added"), ("bob", "add", new.id, "added"),
        ("bob", "replace", old.id, f"replaced by {new.id}")]
    assert saved_article(index, old.id) == old


def test_an_index_made_before_the_trail_opens_and_starts_one(tmp_path):
    from index.audit import read_entries
    from qa import Collection, Settings

    index = tmp_path / "index"
    settings = Settings(index_dir=index, cache_dir=tmp_path / "c")
    Collection.build([BUNDLED], index, settings, embedder=HashEmbedder())
    db = sqlite3.connect(index / "index.sqlite")
    db.execute("DROP TABLE audit")  # as an index of this format made before the trail existed
    db.commit()
    db.close()
    assert read_entries(index) == []
    collection = Collection.open(index, settings, embedder=HashEmbedder())
    assert collection.describe()["article_count"] == 1
    removed = collection.remove([collection.article_infos()[0]["id"]])
    assert [(e["action"], e["article_id"]) for e in read_entries(index)] == [("delete", removed[0].id)]
