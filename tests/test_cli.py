"""The `qa` command through its real entry point: building, adding, asking, and every bad input."""

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUNDLED, SAMPLES
from qa.settings import BUNDLED_ARTICLE

QA = Path(sys.executable).parent / "qa"
pytestmark = pytest.mark.skipif(not QA.exists(), reason="the qa console script is not installed (pip install -e .)")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return dict(os.environ, HF_HUB_OFFLINE="1", NEWSQA_CACHE=str(tmp_path_factory.mktemp("cli-cache")))


def qa(env, *args, check=True):
    proc = subprocess.run([str(QA), *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_help_is_fast_and_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", "import sys, qa.cli; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    proc = subprocess.run([str(QA), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "ask" in proc.stdout and "index" in proc.stdout and "serve" in proc.stdout


@pytest.fixture(scope="module")
def built_index(env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "idx"
    proc = qa(env, "index", "build", BUNDLED, SAMPLES / "saved-page.html", "--index", folder)
    assert "indexed 2 article(s)" in proc.stdout
    return folder


def test_build_add_info_and_ask_json(env, built_index):
    proc = qa(env, "index", "add", SAMPLES / "articles.jsonl", SAMPLES / "saved-page.html", "--index", built_index)
    assert "added 2 new article(s)" in proc.stdout
    info = json.loads(qa(env, "index", "info", "--index", built_index, "--json").stdout)
    assert info["article_count"] == 4 and info["embedding_model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    proc = qa(env, "ask", "Where did the UN-sponsored negotiations resume?", "--index", built_index, "--json",
              "--top-k", "3")
    result = json.loads(proc.stdout)
    assert {"question", "found", "answer", "score", "citation", "context", "passages"} <= set(result)
    assert len(result["passages"]) == 3
    for p in result["passages"]:
        assert {"article_id", "title", "paragraph", "score", "text"} <= set(p)
    if result["found"]:
        c = result["citation"]
        assert isinstance(c["passage"], int) and c["paragraph"] == c["passage"]  # the deprecated alias, for now
        assert article_text(built_index, c["article_id"])[c["start"]:c["end"]] == result["answer"]
        assert result["answer"] in result["context"]
    else:
        assert result["answer"] is None and result["citation"] is None


def test_ask_within_a_scope_and_bad_scopes(env, built_index):
    info = json.loads(qa(env, "index", "info", "--index", built_index, "--json").stdout)
    assert all("outlet" in a for a in info["articles"])
    page = next(a for a in info["articles"] if a["source"] != str(BUNDLED))
    result = json.loads(qa(env, "ask", "Where will the UN talks resume?", "--index", built_index, "--json",
                           "--article", page["id"], "--top-k", "2").stdout)
    assert result["passages"] and {p["article_id"] for p in result["passages"]} == {page["id"]}
    same_site = {a["id"] for a in info["articles"] if a["outlet"] == page["outlet"]}
    result = json.loads(qa(env, "ask", "Where will the UN talks resume?", "--index", built_index, "--json",
                           "--outlet", page["outlet"] or "", "--article", page["id"], "--article", "no-such-id").stdout)
    assert {p["article_id"] for p in result["passages"]} == {page["id"]} and page["id"] in same_site
    assert {"confidence", "candidate", "clarification"} <= set(result)
    assert {"related"} <= set(result["passages"][0])
    assert_one_line_error(qa(env, "ask", "Who won?", "--index", built_index, "--since", "2017-11-31", check=False),
                          "since must be a date written YYYY-MM-DD")
    assert_one_line_error(qa(env, "ask", "Who won?", "--index", built_index, "--since", "2017-12-01",
                             "--until", "2017-11-01", check=False), "after it ends on 2017-11-01")


def test_plain_text_names_the_paragraph_and_the_label_and_asks_back(env, built_index):
    info = json.loads(qa(env, "index", "info", "--index", built_index, "--json").stdout)
    bundled = next(a for a in info["articles"] if a["source"] == str(BUNDLED))
    out = qa(env, "ask", "Where will the UN talks resume?", "--index", built_index, "--article", bundled["id"]).stdout
    # the bundled article's third passage holds its 4th and 5th paragraphs; the answer is in the 4th
    assert "Geneva" in out and "¶ 4," in out
    assert re.search(r"\(confidence (high|medium|low), [01]\.\d\d\)", out)
    asked_back = qa(env, "ask", "When?", "--index", built_index).stdout
    assert asked_back.startswith('What would you like to know "when" about?')


def article_text(folder, article_id):
    from qa import Assistant, Settings

    return Assistant.load(folder, Settings(index_dir=Path(folder))).collection.article(article_id).text


def test_info_lists_articles_then_remove_by_id_and_url_and_compact(env, tmp_path):
    folder = tmp_path / "idx"
    qa(env, "index", "build", BUNDLED, SAMPLES / "articles.jsonl", "--index", folder)
    info = json.loads(qa(env, "index", "info", "--index", folder, "--json").stdout)
    assert info["format_version"] == 2 and info["article_count"] == 3
    rows = info["articles"]
    assert [set(r) >= {"id", "title", "source", "published", "passages"} for r in rows] == [True] * 3
    assert sum(r["passages"] for r in rows) == info["passage_count"]
    url = next(r for r in rows if r["source"].startswith("http"))
    proc = qa(env, "index", "remove", url["source"], rows[0]["id"], "--index", folder)
    assert proc.stdout.count("removed ") == 2 and "1 article(s)" in proc.stdout
    assert_one_line_error(qa(env, "index", "remove", "no-such-id", "--index", folder, check=False), "no-such-id")
    assert "compacted" in qa(env, "index", "compact", "--index", folder).stdout
    info = json.loads(qa(env, "index", "info", "--index", folder, "--json").stdout)
    assert info["article_count"] == 1 and info["tombstones"] == 0 and len(info["segments"]) == 1


def test_format_1_folder_gets_a_hint_and_upgrades_with_one_command(env, tmp_path):
    from fakes import HashEmbedder
    from index.load import load_paths
    from test_store import write_format1

    folder = tmp_path / "old"
    write_format1(folder, load_paths([BUNDLED]).articles, HashEmbedder())
    assert_one_line_error(qa(env, "ask", "Who?", "--index", folder, check=False),
                          "format 1", f"qa index upgrade --index {folder}")
    assert "upgraded" in qa(env, "index", "upgrade", "--index", folder).stdout
    info = json.loads(qa(env, "index", "info", "--index", folder, "--json").stdout)
    assert info["format_version"] == 2 and info["article_count"] == 1


def test_bundled_article_answers_by_default(env):
    proc = qa(env, "ask", "Where will the UN talks resume?", "--json")
    result = json.loads(proc.stdout)
    assert result["found"] and "Geneva" in result["answer"]
    (folder,) = Path(env["NEWSQA_CACHE"]).glob("bundled-index-*")
    c = result["citation"]
    assert article_text(folder, c["article_id"])[c["start"]:c["end"]] == result["answer"]
    assert c["title"] == "Putin Hosts Surprise Syrian Talks With Assad In Sochi"
    assert c["source"] == str(BUNDLED_ARTICLE)  # this checkout's file, not another's cached index


@pytest.mark.parametrize("question,fragment", [("", "empty"), ("   \t ", "empty"), ("why " * 25_000, "100,000 characters")])
def test_bad_questions(env, built_index, question, fragment):
    assert_one_line_error(qa(env, "ask", question, "--index", built_index, check=False), fragment)


def test_bad_index_folders(env, built_index, tmp_path):
    assert_one_line_error(qa(env, "ask", "Who?", "--index", tmp_path / "missing", check=False), "no index at")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("buy milk")
    assert_one_line_error(qa(env, "ask", "Who?", "--index", tmp_path / "notes", check=False), "not an index")
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(built_index), str(broken)], check=True)
    (broken / "index.sqlite").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (broken / f"index.sqlite{suffix}").unlink(missing_ok=True)
    assert_one_line_error(qa(env, "ask", "Who?", "--index", broken, check=False), "cannot be read", "qa index build")
    foreign = tmp_path / "foreign"
    subprocess.run(["cp", "-r", str(built_index), str(foreign)], check=True)
    db = sqlite3.connect(foreign / "index.sqlite")
    db.execute("UPDATE meta SET value = 'intfloat/e5-small-v2' WHERE key = 'embedding_model'")
    db.commit()
    db.close()
    assert_one_line_error(qa(env, "ask", "Who?", "--index", foreign, check=False), "e5-small-v2", "rebuild")


def test_bad_article_files(env, tmp_path):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("R\xe9sum\xe9 of the talks.".encode("latin-1"))
    (tmp_path / "empty.md").write_text("")
    proc = qa(env, "index", "build", tmp_path / "image.txt", tmp_path / "latin1.txt", tmp_path / "empty.md",
              "--index", tmp_path / "idx", check=False)
    assert_one_line_error(proc, "no articles to index")
    assert not (tmp_path / "idx").exists()
    # with one good article, the bad ones are skipped with warnings and the rest is indexed
    proc = qa(env, "index", "build", tmp_path, SAMPLES / "briefing.md", "--index", tmp_path / "idx")
    assert "indexed 1 article(s)" in proc.stdout
    assert proc.stderr.count("warning: skipped") == 3 and "not UTF-8" in proc.stderr and "binary" in proc.stderr
    assert_one_line_error(qa(env, "index", "add", tmp_path / "nope.txt", "--index", tmp_path / "idx", check=False),
                          "no such file")


def test_ask_names_who_and_when_and_answers_as_of_a_day(env, built_index):
    result = json.loads(qa(env, "ask", "Where will the UN talks resume?", "--index", built_index, "--json").stdout)
    assert {"support", "conflicts", "answer_date"} <= set(result)
    if result["found"]:
        assert {"outlet", "published"} <= set(result["citation"])
        out = qa(env, "ask", "Where will the UN talks resume?", "--index", built_index).stdout
        assert ("date unknown" if result["citation"]["published"] is None else "\u00b7") in out
    # before any article here was published: nothing counts
    early = json.loads(qa(env, "ask", "Where will the UN talks resume?", "--index", built_index, "--json",
                          "--as-of", "1990-01-01").stdout)
    assert early["found"] is False and early["passages"] == []
    assert_one_line_error(qa(env, "ask", "Who won?", "--index", built_index, "--as-of", "last week", check=False),
                          "as_of must be a date written YYYY-MM-DD")


def test_a_question_in_markup_gets_the_answer_it_gets_without(env):
    plain = json.loads(qa(env, "ask", "Where did Putin host Assad?", "--json").stdout)
    tagged = json.loads(qa(env, "ask", "<b>Where</b> did  Putin host <i>Assad</i>?", "--json").stdout)
    assert plain["found"] and "Sochi" in plain["answer"]
    assert tagged["question"] == "Where did Putin host Assad?"
    assert (tagged["answer"], tagged["score"], tagged["citation"]) == (plain["answer"], plain["score"], plain["citation"])
    assert_one_line_error(qa(env, "ask", "<b></b><script>x</script>", check=False), "no text once its markup is removed")
