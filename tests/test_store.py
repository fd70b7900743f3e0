"""The on-disk index: atomic save, incremental add and dedupe, and every way a folder can be wrong."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from index.errors import EmbedderMismatchError, IndexFormatError, IndexNotFoundError
from index.load import load_paths
from index.store import FORMAT_VERSION, PassageIndex
from qa import Assistant, Settings

from conftest import ROOT, SAMPLES
from fakes import HashEmbedder, KeywordReader

NAME = HashEmbedder.name


def build(folder, paths):
    index = PassageIndex.empty(HashEmbedder())
    index.add_articles(load_paths(paths).articles, HashEmbedder())
    index.save(folder)
    return index


def test_save_and_load_round_trip(tmp_path, bundled_copy):
    built = build(tmp_path / "idx", [bundled_copy, SAMPLES / "articles.jsonl"])
    loaded = PassageIndex.load(tmp_path / "idx", NAME)
    assert loaded.passages == built.passages
    assert loaded.articles == built.articles
    assert loaded.vectors.ntotal == len(built.passages)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["embedding_model"] == NAME and manifest["embedding_dim"] == 384
    assert manifest["metric"] == "inner_product"
    assert manifest["passage_count"] == len(built.passages) and manifest["article_count"] == 3
    assert {"created_at", "package_version", "checksums"} <= set(manifest)
    assert not list(tmp_path.glob(".idx.tmp-*"))  # no temporary folder left behind
    for name in ("articles.jsonl", "passages.jsonl"):
        assert "pickle" not in (tmp_path / "idx" / name).read_text()


def test_incremental_add_keeps_old_passages_and_skips_duplicates(tmp_path, bundled_copy):
    settings = Settings(index_dir=tmp_path / "idx")
    assistant = Assistant.build([bundled_copy], tmp_path / "idx", settings, embedder=HashEmbedder(),
                                reader=KeywordReader({}))
    before = list(assistant.index.passages)
    added = assistant.add([SAMPLES / "articles.jsonl"])
    assert len(added) == 2
    assert assistant.add([SAMPLES / "articles.jsonl", bundled_copy]) == []  # all already there
    reloaded = PassageIndex.load(tmp_path / "idx", NAME)
    assert reloaded.passages[:len(before)] == before
    assert len(reloaded.articles) == 3
    assert len({(p.article_id, p.index) for p in reloaded.passages}) == len(reloaded.passages)
    assert assistant.add_text("Zimbabwe's Mugabe Resigns",
                              json.loads((SAMPLES / "articles.jsonl").read_text().splitlines()[1])["text"]) is None


def test_missing_folder_and_folder_that_is_not_an_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match="qa index build"):
        PassageIndex.load(tmp_path / "nowhere", NAME)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(IndexFormatError, match="not an index"):
        PassageIndex.load(tmp_path / "photos", NAME)


@pytest.mark.parametrize("damage", ["truncate_faiss", "edit_manifest_count", "garbage_manifest",
                                    "old_format", "edit_passages"])
def test_corrupted_index_is_refused_with_a_rebuild_hint(tmp_path, bundled_copy, damage):
    folder = tmp_path / "idx"
    build(folder, [bundled_copy])
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "truncate_faiss":
        data = (folder / "vectors.faiss").read_bytes()
        (folder / "vectors.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "edit_manifest_count":
        manifest["passage_count"] += 1
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "garbage_manifest":
        (folder / "manifest.json").write_text("{{{")
    elif damage == "old_format":
        manifest["format_version"] = 0
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "edit_passages":
        with open(folder / "passages.jsonl", "a") as f:
            f.write('{"article_id": "x", "index": 99, "start": 0, "end": 5}\n')
    with pytest.raises(IndexFormatError, match="rebuild it with: qa index build"):
        PassageIndex.load(folder, NAME)


def test_index_built_with_another_embedder_is_refused(tmp_path, bundled_copy):
    build(tmp_path / "idx", [bundled_copy])
    with pytest.raises(EmbedderMismatchError, match="all-MiniLM-L6-v2.*other/model|other/model"):
        PassageIndex.load(tmp_path / "idx", "other/model")


def _run_hanging_save(folder, article, hang_in):
    """Start a process that rebuilds `folder` and hangs at `hang_in` (then we kill -9 it)."""
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        import index.store as store
        from fakes import HashEmbedder
        from index.load import load_paths
        from index.store import PassageIndex
        real_rename = os.rename
        def hang(*args, **kwargs):
            print("hanging", flush=True)
            time.sleep(600)
        if {hang_in!r} == "before_swap":
            store._fsync_tree = hang
        else:  # between the two renames: the old index moved aside, the new not yet in place
            calls = []
            def rename(src, dst):
                real_rename(src, dst)
                calls.append(dst)
                if len(calls) == 1:
                    hang()
            store.os.rename = rename
        index = PassageIndex.empty(HashEmbedder())
        index.add_articles(load_paths([{str(SAMPLES / 'articles.jsonl')!r}]).articles, HashEmbedder())
        index.save({str(folder)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "hanging"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("hang_in", ["before_swap", "between_renames"])
def test_kill_9_during_save_leaves_the_previous_index_intact(tmp_path, bundled_copy, hang_in):
    folder = tmp_path / "idx"
    old = build(folder, [bundled_copy])
    _run_hanging_save(folder, bundled_copy, hang_in)
    loaded = PassageIndex.load(folder, NAME)
    assert loaded.passages == old.passages


def test_adding_while_another_process_reads(tmp_path, bundled_copy):
    folder = tmp_path / "idx"
    settings = Settings(index_dir=folder)
    reader = Assistant.build([bundled_copy], folder, settings, embedder=HashEmbedder(),
                             reader=KeywordReader({"Mugabe": "37 years"}))
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        from fakes import HashEmbedder, KeywordReader
        from qa import Assistant, Settings
        from pathlib import Path
        a = Assistant.load({str(folder)!r}, Settings(index_dir=Path({str(folder)!r})), embedder=HashEmbedder(), reader=KeywordReader({{}}))
        for _ in range(5):
            a.add([{str(SAMPLES / 'articles.jsonl')!r}, {str(SAMPLES / 'articles.json')!r}])
    """)])
    deadline = time.monotonic() + 60
    while writer.poll() is None and time.monotonic() < deadline:
        reader.ask("How long was Mugabe in power?")  # never fails mid-write
    assert writer.wait(timeout=60) == 0
    result = reader.ask("How long was Mugabe in power?")
    assert result.found and result.answer == "37 years"  # the reader picked up the new snapshot
    assert len(reader.articles()) == 4
