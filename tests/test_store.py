"""The on-disk index: incremental writes, removal and replacement, compaction, crash safety, and
every way a folder can be wrong. Real SQLite, FAISS and tantivy; a hashing stand-in embedder."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from index.errors import EmbedderMismatchError, IndexFormatError, IndexNotFoundError
from index.ingest import ingest
from index.load import load_paths, make_article
from index.split import split_article
from index.store import FORMAT_VERSION, MAX_SMALL_SEGMENTS, IndexStore
from index.vectors import Segment, search_segments, write_segment
from qa import Assistant, Settings

from conftest import ROOT, SAMPLES
from fakes import HashEmbedder, KeywordReader

NAME = HashEmbedder.name


def create(folder, paths=()):
    store = IndexStore.create(folder, NAME, 384)
    if paths:
        ingest(store, load_paths(list(paths)).articles, HashEmbedder())
    return store


def all_passages(store):
    return [p for a in store.articles() for p in store.passages_of(a.id)]


def search_ids(store, query, k=5):
    dense = store.dense_search(HashEmbedder().embed([query])[0], k)[0].tolist()
    sparse = store.sparse_search(query, k)[0].tolist()
    return dense, sparse


def test_round_trip_keeps_every_passage_and_offset(tmp_path, bundled_copy):
    create(tmp_path / "idx", [bundled_copy, SAMPLES / "articles.jsonl"])
    store = IndexStore.open(tmp_path / "idx", NAME)
    articles = store.articles()
    assert len(articles) == 3
    for article in articles:
        assert store.passages_of(article.id) == split_article(article)
    info = store.describe()
    assert info["format_version"] == FORMAT_VERSION and info["embedding_model"] == NAME
    assert info["embedding_dim"] == 384 and info["metric"] == "inner_product"
    assert info["article_count"] == 3 and info["passage_count"] == len(all_passages(store))
    assert {p.name for p in (tmp_path / "idx").iterdir()} - {"index.sqlite-wal", "index.sqlite-shm"} == \
        {".write.lock", "bm25", "index.sqlite", "vectors"}
    rows = store.article_infos()
    assert {"id", "title", "source", "published", "passages"} <= set(rows[0])
    assert sum(r["passages"] for r in rows) == info["passage_count"]


def test_search_finds_the_passage_in_both_retrievers_and_reads_its_text_from_disk(tmp_path, bundled_copy):
    store = create(tmp_path / "idx", [bundled_copy])
    dense, sparse = search_ids(store, "Where will the UN talks resume in Geneva?")
    passage, title, source = store.passages_by_id(sparse[:1])[sparse[0]]
    assert "Geneva" in passage.text and title.startswith("Putin") and source == str(bundled_copy)
    assert len(dense) == 5 and set(dense) <= set(store.passages_by_id(dense))


def test_adding_writes_only_the_new_data(tmp_path, bundled_copy):
    store = create(tmp_path / "idx", [bundled_copy])
    vectors = tmp_path / "idx" / "vectors"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in vectors.iterdir()}
    result = ingest(store, load_paths([SAMPLES / "articles.jsonl"]).articles, HashEmbedder())
    assert len(result.added) == 2
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in vectors.iterdir()}
    assert {k: v for k, v in after.items() if k in before} == before  # old segment untouched
    new_files = set(after) - set(before)
    assert new_files and all(name.startswith("seg-") for name in new_files)
    new_rows = sum(len(np.load(vectors / n)) for n in new_files if n.endswith(".ids.npy"))
    assert new_rows == sum(len(split_article(a)) for a in result.added)


def test_duplicates_are_skipped_and_pasted_text_already_there_is_none(tmp_path, bundled_copy):
    folder = tmp_path / "idx"
    assistant = Assistant.build([bundled_copy], folder, Settings(index_dir=folder), embedder=HashEmbedder(),
                                reader=KeywordReader({}))
    assert len(assistant.collection.add([SAMPLES / "articles.jsonl"])) == 2
    assert assistant.collection.add([SAMPLES / "articles.jsonl", bundled_copy]) == []
    assert len(assistant.collection.articles()) == 3
    text = json.loads((SAMPLES / "articles.jsonl").read_text().splitlines()[1])["text"]
    assert assistant.collection.add_text("Zimbabwe's Mugabe Resigns", text) is None


def test_remove_by_id_by_url_and_by_path(tmp_path, bundled_copy):
    store = create(tmp_path / "idx", [bundled_copy, SAMPLES / "articles.jsonl"])
    by_source = {a.source: a for a in store.articles()}
    url = next(s for s in by_source if s.startswith("http"))
    removed = store.remove([url])
    assert [a.id for a in removed] == [by_source[url].id]
    removed = store.remove([str(bundled_copy)])
    assert [a.source for a in removed] == [str(bundled_copy)]
    assert store.remove(["no-such-article"]) == []
    left = store.articles()
    assert len(left) == 1
    dense, sparse = search_ids(store, "Putin Assad Sochi Geneva talks", k=50)
    assert set(dense) | set(sparse) <= {pid for pid in store.passages_by_id(range(10_000))}
    assert all(p.article_id == left[0].id for p in store.passages_by_id(dense + sparse).values() for p in [p[0]])
    again = IndexStore.open(tmp_path / "idx", NAME)  # another process sees the same
    assert [a.id for a in again.articles()] == [left[0].id]


def test_the_article_list_is_read_once_and_again_after_any_change_here_or_elsewhere(tmp_path, bundled_copy):
    store = create(tmp_path / "idx", [bundled_copy])
    reads = []
    store._db.set_trace_callback(lambda sql: reads.append(sql) if "FROM articles ORDER BY seq" in sql else None)
    first = store.article_infos()
    first[0]["title"] = "changed by the caller"  # each call gets its own copies
    assert store.article_infos()[0]["title"] != "changed by the caller"
    assert len(reads) == 1  # the second call read nothing
    ingest(store, load_paths([SAMPLES / "articles.jsonl"]).articles, HashEmbedder())  # a change made here
    added = store.article_infos()
    assert len(added) > len(first)
    other = IndexStore.open(tmp_path / "idx", NAME)  # another process removes one
    other.remove([str(bundled_copy)])
    assert [i["id"] for i in store.article_infos()] == [i["id"] for i in added if i["source"] != str(bundled_copy)]


def test_a_corrected_article_under_the_same_url_replaces_the_old_one(tmp_path):
    store = create(tmp_path / "idx")
    old = make_article("Officials said the talks would resume on Monday in Geneva.", "https://example.org/talks",
                       "Talks to resume")
    new = make_article("Officials said the talks would resume on Tuesday in Geneva.", "https://example.org/talks",
                       "Talks to resume")
    other = make_article("A separate story about the weather in Sochi.", "https://example.org/weather", "Weather")
    ingest(store, [old, other], HashEmbedder())
    result = ingest(store, [new], HashEmbedder())
    assert [a.id for a in result.added] == [new.id] and [a.id for a in result.replaced] == [old.id]
    assert {a.id for a in store.articles()} == {new.id, other.id}
    _, sparse = search_ids(store, "Monday")
    assert sparse == []  # the old text is gone from BM25 too


def test_an_edited_file_replaces_its_old_version_but_multi_article_files_do_not(tmp_path, bundled_copy):
    folder = tmp_path / "idx"
    assistant = Assistant.build([bundled_copy, SAMPLES / "articles.jsonl"], folder, Settings(index_dir=folder),
                                embedder=HashEmbedder(), reader=KeywordReader({}))
    bundled_copy.write_text(bundled_copy.read_text() + "\nA correction was appended to this article later.\n")
    assistant.collection.add([bundled_copy])
    assert len(assistant.collection.last_add_result.replaced) == 1
    assert len(assistant.collection.articles()) == 3
    assert "correction" in next(a.text for a in assistant.collection.articles() if a.source == str(bundled_copy))


def test_build_again_keeps_what_is_there_and_drops_what_is_not_asked_for(tmp_path, bundled_copy):
    folder = tmp_path / "idx"

    class CountingEmbedder(HashEmbedder):
        embedded = 0

        def embed(self, texts, progress=False):
            CountingEmbedder.embedded += len(texts)
            return super().embed(texts, progress)

    settings = Settings(index_dir=folder)
    Assistant.build([bundled_copy], folder, settings, embedder=CountingEmbedder(), reader=KeywordReader({}))
    first = CountingEmbedder.embedded
    again = Assistant.build([bundled_copy, SAMPLES / "articles.jsonl"], folder, settings,
                            embedder=CountingEmbedder(), reader=KeywordReader({}))
    assert len(again.collection.articles()) == 3
    assert CountingEmbedder.embedded - first == sum(len(split_article(a)) for a in again.collection.articles()
                                                    if a.source != str(bundled_copy))
    only = Assistant.build([SAMPLES / "articles.jsonl"], folder, settings, embedder=CountingEmbedder(),
                           reader=KeywordReader({}))
    assert len(only.collection.articles()) == 2


def test_small_segments_are_merged_automatically_and_compaction_drops_tombstones(tmp_path):
    store = create(tmp_path / "idx")
    articles = [make_article(f"Story number {i} says the council met on day {i} of the month.",
                             f"https://example.org/{i}", f"Story {i}") for i in range(MAX_SMALL_SEGMENTS + 3)]
    for article in articles:
        ingest(store, [article], HashEmbedder())
    assert len(store.describe()["segments"]) <= MAX_SMALL_SEGMENTS
    store.remove([articles[0].id])
    before = search_ids(store, "council met on day 5", k=3)
    report = store.compact()
    info = store.describe()
    assert len(info["segments"]) == 1 and info["tombstones"] == 0
    assert report["vectors"] == info["passage_count"] == len(articles) - 1
    assert search_ids(store, "council met on day 5", k=3) == before
    assert len(list((tmp_path / "idx" / "vectors").glob("*.ids.npy"))) == 1  # old files deleted


def test_approximate_segment_matches_exact_search_and_honours_removals(tmp_path):
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(50, 384))
    vectors = (centres[rng.integers(0, 50, 6000)] + 0.5 * rng.normal(size=(6000, 384))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(100, 6100, dtype=np.int64)
    write_segment(tmp_path, "exact", vectors, ids, approximate_min=10**9)
    write_segment(tmp_path, "approx", vectors, ids, approximate_min=1000)
    exact, approx = Segment.open(tmp_path, "exact"), Segment.open(tmp_path, "approx")
    assert approx.approximate and not exact.approximate
    queries = vectors[rng.choice(6000, 50, replace=False)] + 0.1 * rng.normal(size=(50, 384)).astype(np.float32)
    recall = []
    for q in queries:
        want, _ = exact.search(q, 10, None)
        got, scores = approx.search(q, 10, None)
        assert np.all(np.diff(scores) <= 1e-6)  # exact re-scored, best first
        recall.append(len(set(want) & set(got)) / 10)
    assert np.mean(recall) >= 0.97
    excluded = np.sort(exact.search(queries[0], 3, None)[0])
    assert not set(approx.search(queries[0], 10, excluded)[0]) & set(excluded)


def test_a_search_leaves_the_thread_count_of_the_models_run_after_it(tmp_path):
    # FAISS and PyTorch share one OpenMP runtime: a search that left its one-thread setting behind
    # made the reader, run next on the same thread, use one core of the machine's two
    import faiss
    import torch

    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(200, 384)).astype(np.float32)
    write_segment(tmp_path, "s", vectors, np.arange(200, dtype=np.int64), approximate_min=10**9)
    segment = Segment.open(tmp_path, "s")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ids, _ = search_segments([segment], vectors[7], 5, None)
        assert ids[0] == 7
        assert torch.get_num_threads() == 2 and faiss.omp_get_max_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_missing_folder_and_folder_that_is_not_an_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match="qa index build"):
        IndexStore.open(tmp_path / "nowhere", NAME)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(IndexFormatError, match="not an index"):
        IndexStore.open(tmp_path / "photos", NAME)
    with pytest.raises(IndexFormatError, match="not empty"):
        IndexStore.create(tmp_path / "photos", NAME, 384)


def test_damaged_database_and_other_embedder_are_refused_with_a_hint(tmp_path, bundled_copy):
    create(tmp_path / "idx", [bundled_copy])
    with pytest.raises(EmbedderMismatchError, match="other/model"):
        IndexStore.open(tmp_path / "idx", "other/model")
    (tmp_path / "idx" / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / "idx" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    with pytest.raises(IndexFormatError, match="rebuild it with: qa index build"):
        IndexStore.open(tmp_path / "idx", NAME)


def write_format1(folder, articles, embedder):
    """An index folder as format 1 wrote it (manifest, JSON lines, one FAISS file)."""
    import faiss
    from dataclasses import asdict

    folder.mkdir(parents=True)
    passages = [p for a in articles for p in split_article(a)]
    with open(folder / "articles.jsonl", "w") as f:
        f.writelines(json.dumps(asdict(a)) + "\n" for a in articles)
    with open(folder / "passages.jsonl", "w") as f:
        f.writelines(json.dumps({"article_id": p.article_id, "index": p.index, "start": p.start, "end": p.end}) + "\n"
                     for p in passages)
    index = faiss.IndexFlatIP(384)
    index.add(embedder.embed([p.text for p in passages]))
    faiss.write_index(index, str(folder / "vectors.faiss"))
    (folder / "manifest.json").write_text(json.dumps({"format_version": 1, "embedding_model": embedder.name,
                                                      "embedding_dim": 384, "checksums": {}}))
    return passages


def test_a_format_1_index_gets_a_clear_message_and_upgrades_without_embedding_again(tmp_path, bundled_copy):
    folder = tmp_path / "old"
    articles = load_paths([bundled_copy, SAMPLES / "articles.jsonl"]).articles
    passages = write_format1(folder, articles, HashEmbedder())
    (tmp_path / ".old.upgrade-999999999").mkdir()  # a killed upgrade's staging folder
    with pytest.raises(IndexFormatError, match="format 1.*qa index upgrade --index"):
        Assistant.load(folder, Settings(index_dir=folder), embedder=HashEmbedder(), reader=KeywordReader({}))

    class NoEmbedding(HashEmbedder):
        def embed(self, texts, progress=False):
            raise AssertionError("the upgrade must reuse the stored vectors")

    upgraded = Assistant.upgrade(folder, Settings(index_dir=folder), embedder=NoEmbedding(), reader=KeywordReader({}))
    assert sorted(p.text for p in all_passages(upgraded.store)) == sorted(p.text for p in passages)
    store = IndexStore.open(folder, NAME)
    dense, sparse = search_ids(store, "Zimbabwe Mugabe resigns")
    assert dense and sparse
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # staging and old copy gone


# ---- crash safety: a writer killed with SIGKILL at each step leaves the old state or the new ------
HANG_POINTS = {
    # (operation, function patched, whether it hangs before or after the real call)
    "add-after-vectors": ("add", "index.store:write_segment", "after"),
    "add-after-bm25": ("add", "index.sparse:SparseIndex.add", "after"),
    "remove-before-bm25-delete": ("remove", "index.sparse:SparseIndex.delete_pids", "before"),
    "compact-after-new-segment": ("compact", "index.store:write_segment", "after"),
    "compact-before-old-files-deleted": ("compact", "index.store:remove_segment", "before"),
}


def run_and_kill(folder, point):
    operation, target, when = HANG_POINTS[point]
    module, attr = target.split(":")
    script = textwrap.dedent(f"""
        import importlib, sys, time
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]
        from fakes import HashEmbedder
        from index.ingest import ingest
        from index.load import load_paths
        from index.store import IndexStore
        owner = importlib.import_module({module!r})
        parts = {attr!r}.split(".")
        for part in parts[:-1]:
            owner = getattr(owner, part)
        real = getattr(owner, parts[-1])
        def hang(*args, **kwargs):
            if {when!r} == "after":
                real(*args, **kwargs)
            print("hanging", flush=True)
            time.sleep(600)
        setattr(owner, parts[-1], hang)
        store = IndexStore.open({str(folder)!r}, {NAME!r})
        if {operation!r} == "add":
            ingest(store, load_paths([{str(SAMPLES / 'articles.jsonl')!r}]).articles, HashEmbedder())
        elif {operation!r} == "remove":
            store.remove([store.articles()[0].id])
        else:
            store.compact()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "hanging"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def snapshot(store):
    live = set(store.passages_by_id(range(10_000)))
    dense, sparse = search_ids(store, "Putin Assad Sochi talks Mugabe", k=100)
    return [a.id for a in store.articles()], all_passages(store), [i for i in dense if i in live], \
        {i for i in sparse if i in live}


@pytest.mark.parametrize("point", sorted(HANG_POINTS))
def test_kill_9_at_any_step_leaves_a_whole_index_and_the_next_write_cleans_up(tmp_path, bundled_copy, point):
    folder = tmp_path / "idx"
    store = create(folder, [bundled_copy])
    store.remove([])  # nothing
    before = snapshot(store)
    run_and_kill(folder, point)
    after_kill = IndexStore.open(folder, NAME)
    operation = HANG_POINTS[point][0]
    if point == "compact-before-old-files-deleted" or operation == "remove":
        assert after_kill.describe()["article_count"] in (0, 1)  # committed, or not: either is whole
    else:
        assert snapshot(after_kill) == before  # the interrupted write is invisible
    # the next write undoes what the dead one left and leaves no stray files or BM25 documents
    ingest(after_kill, load_paths([SAMPLES / "articles.json"]).articles, HashEmbedder())
    after_kill.compact()
    live = set(store.passages_by_id(range(10_000)))
    assert after_kill._sparse.count() == len(live) == after_kill.describe()["passage_count"]
    files = {p.name.split(".")[0] for p in (folder / "vectors").iterdir()}
    assert files == {s["name"] for s in after_kill.describe()["segments"]}
