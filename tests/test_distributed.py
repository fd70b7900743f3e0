"""The Ray ingestion path gives the same articles, passages and vectors as the single-process build.

The Ray test starts a local Ray (2 CPUs, loopback only, no dashboard, no usage report) and uses
the real packaged embedder. Without Ray it skips, unless NEWSQA_REQUIRE_RAY=1 (CI) makes it fail.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time

# before anything imports ray: bind the local Ray to loopback, send no usage report, and give it
# a token for its (default) token auth so that it does not write one to ~/.ray/auth_token
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import BUNDLED, ROOT  # noqa: E402
from index.errors import QAError  # noqa: E402

PARAGRAPH = ("The {what} council met on {day} to debate the new budget for roads, schools and the harbour. "
             "Members argued for three hours about how much the town should borrow and over how many years, "
             "and the mayor said a vote would follow next month once the auditors had reported.")


def _require_ray():
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as e:
        if os.environ.get("NEWSQA_REQUIRE_RAY") == "1":
            pytest.fail(f"NEWSQA_REQUIRE_RAY=1 but Ray Data cannot be imported ({e}); pip install \"newsqa[ray]\"")
        pytest.skip(f"Ray Data is not installed ({e}); pip install \"newsqa[ray]\" to run this test")


def _archive(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "harbour.txt").write_text("Harbour council debates budget\n\n" + "\n\n".join(
        PARAGRAPH.format(what="harbour", day=day) for day in ("Monday", "Tuesday", "Wednesday")), encoding="utf-8")
    (folder / "hills.md").write_text("# Hill town votes\n\n" + "\n\n".join(
        PARAGRAPH.format(what="hill", day=day) for day in ("Friday", "Saturday")), encoding="utf-8")
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"title": "River town", "text": PARAGRAPH.format(what="river", day="Sunday"), "published": "2024-05-01"},
        {"title": "Lake town", "text": PARAGRAPH.format(what="lake", day="Thursday")},
        {"no": "text"},
    ]), encoding="utf-8")
    (folder / "sochi-copy.txt").write_bytes(BUNDLED.read_bytes())  # the same article twice: kept once
    (folder / "broken.json").write_text('{"title": "half a record", "text": ', encoding="utf-8")
    (folder / ".hidden.txt").write_text(PARAGRAPH.format(what="hidden", day="never"), encoding="utf-8")
    (folder / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return [folder, BUNDLED, tmp_path / "missing.txt"]


def test_importing_index_does_not_import_ray():
    code = "import sys, index, index.distributed, index.load; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_without_ray_a_one_line_error_says_how_to_install(monkeypatch, tmp_path):
    from index.distributed import embed_on_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(QAError) as error:
        embed_on_ray([tmp_path], address="local")
    assert 'pip install "newsqa[ray]"' in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_ray_build_matches_single_process(tmp_path, real_embedder):
    _require_ray()
    from index.distributed import IndexPart, embed_on_ray
    from index.load import load_paths
    from index.split import split_article

    paths = _archive(tmp_path)

    report = load_paths(paths)
    articles, seen = {}, set()
    for article in report.articles:
        if article.id not in seen:
            seen.add(article.id)
            articles[article.id] = article
    passages = [p for a in articles.values() for p in split_article(a)]
    expected = dict(zip(((p.article_id, p.index) for p in passages),
                        real_embedder.embed([p.text for p in passages])))

    started = time.monotonic()
    run = embed_on_ray(paths, address="local", num_cpus=2, articles_per_part=2)
    parts = list(run)
    took = time.monotonic() - started

    assert all(isinstance(part, IndexPart) for part in parts)
    got_articles = [a for part in parts for a in part.articles]
    assert sorted(a.id for a in got_articles) == sorted(articles), "each article once, none missing"
    assert len(parts) == -(-len(articles) // 2) and all(1 <= len(part.articles) <= 2 for part in parts)
    duplicate = next(a.id for a in report.articles if a.source == str(paths[1]))
    for article in got_articles:
        want = articles[article.id]
        assert (article.title, article.published, article.text) == (want.title, want.published, want.text)
        sources = {a.source for a in report.articles if a.id == article.id}
        assert article.source in sources
    assert run.duplicates == 1 and len({a.source for a in report.articles if a.id == duplicate}) == 2

    got = {}
    for part in parts:
        assert part.vectors.dtype == np.float32 and part.vectors.shape == (len(part.passages), 384)
        ids = [a.id for a in part.articles]
        # grouped by article in the part's article order, each article's passages in index order
        assert [p.article_id for p in part.passages] == sorted((p.article_id for p in part.passages), key=ids.index)
        for article in part.articles:
            indexes = [p.index for p in part.passages if p.article_id == article.id]
            assert indexes == list(range(len(split_article(article))))
        for passage, vector in zip(part.passages, part.vectors):
            assert passage.text == next(a for a in part.articles if a.id == passage.article_id).text[
                passage.start:passage.end]
            got[(passage.article_id, passage.index)] = (passage, vector)
    assert len(got) == sum(len(part.passages) for part in parts), "no passage twice"
    assert {key: p for key, (p, _) in got.items()} == {(p.article_id, p.index): p for p in passages}

    diffs = np.array([np.abs(vector - expected[key]).max() for key, (_, vector) in got.items()])
    cosines = np.array([float(vector @ expected[key]) for key, (_, vector) in got.items()])
    print(f"\nray build: {len(got_articles)} articles, {len(got)} passages in {len(parts)} parts, {took:.1f} s; "
          f"max |diff| {diffs.max():.2e}, min cosine {cosines.min():.8f}")
    assert diffs.max() < 1e-4 and cosines.min() > 0.9999

    assert sorted(run.skipped) == sorted(report.skipped)
    assert any(source.endswith("broken.json") and "not valid JSON" in reason for source, reason in run.skipped)
    assert (str(paths[2]), "no such file or folder") in run.skipped


@pytest.mark.slow
def test_cli_build_on_ray_commits_the_same_index_as_a_single_process_build(tmp_path):
    _require_ray()
    from index.store import IndexStore
    from qa.settings import Settings
    from qa import Assistant

    paths = _archive(tmp_path)
    env = {**os.environ, "NEWSQA_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    qa = [str(ROOT / ".venv" / "bin" / "qa") if (ROOT / ".venv" / "bin" / "qa").exists() else "qa"]
    proc = subprocess.run(qa + ["index", "build", *map(str, paths), "--index", str(tmp_path / "ray-idx"),
                                "--ray", "local"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "indexed 5 article(s)" in proc.stdout and "broken.json" in proc.stderr

    single = Assistant.build(paths, tmp_path / "idx", Settings(index_dir=tmp_path / "idx"))
    on_ray = IndexStore.open(tmp_path / "ray-idx", single.embedder.name)
    assert sorted(a.id for a in on_ray.articles()) == sorted(a.id for a in single.collection.articles())
    for article in single.collection.articles():
        assert on_ray.passages_of(article.id) == single.collection.passages_of(article.id)
    for question in ("When did the harbour council meet?", "Where will the UN talks resume?"):
        vector = single.embedder.embed([question])[0]
        ids_ray, scores_ray = on_ray.dense_search(vector, 5)
        ids_one, scores_one = single.store.dense_search(vector, 5)
        texts = lambda store, ids: [store.passages_by_id([i])[i][0].text for i in ids]  # noqa: E731
        assert texts(on_ray, ids_ray) == texts(single.store, ids_one)
        assert np.allclose(scores_ray, scores_one, atol=1e-4)
