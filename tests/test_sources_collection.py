"""Links into a collection: mixed with paths, replaced by canonical URL, and syndicated copies
linked to their first version, kept out of a second slot among the passages read."""

from __future__ import annotations

import json
import sqlite3

import pytest

from fakes import HashEmbedder
from index.store import IndexStore
from qa.collection import Collection
from qa.settings import Settings

from conftest import SAMPLES
from web_support import PARAGRAPHS, NewsSite, scraped_page


@pytest.fixture(scope="module")
def site():
    with NewsSite() as s:
        yield s


def collection_at(folder) -> Collection:
    return Collection(Settings(index_dir=folder), embedder=HashEmbedder())


def test_add_mixes_links_and_files_and_reports_each_failed_link(site, tmp_path):
    collection = collection_at(tmp_path / "idx")
    added = collection.add([site.url("/world/geneva-talks"), str(SAMPLES / "briefing.md"), site.url("/missing"),
                            site.url("/no-article")])
    assert {a.title for a in added} == {"Geneva Talks Resume", "Astana Talks Agree On De-escalation Zones"}
    skipped = dict(collection.last_load_report.skipped)
    assert skipped[site.url("/missing")].startswith("HTTP 404")
    assert skipped[site.url("/no-article")].startswith("not an article")
    infos = {i["source"]: i for i in collection.article_infos()}
    page = infos[site.url("/world/geneva-talks")]
    assert page["published"] == "2017-11-28" and page["outlet"] == "127.0.0.1" and page["duplicate_of"] is None


def test_a_corrected_page_replaces_its_version_under_the_same_canonical_url(site, tmp_path):
    canonical = site.url("/story/canonical")
    site.add("/story/v1", scraped_page("Harbour Plan", "harbour", canonical, "2018-01-02"))
    collection = collection_at(tmp_path / "idx")
    [first] = collection.add([site.url("/story/v1?utm=feed")])  # a tracking parameter
    assert first.source == canonical
    corrected = scraped_page("Harbour Plan", "harbour", canonical, "2018-01-02").replace("42 million", "44 million")
    site.add("/story/v2", corrected)
    [second] = collection.add([site.url("/story/v2")])
    assert collection.last_add_result.replaced == [first]
    [article] = collection.articles()
    assert article.id == second.id and "44 million" in article.text


def syndicated(key: str, outlet_line: str, correction: str) -> str:
    """A wire story as another outlet republishes it: its own boilerplate, one sentence changed,
    a correction line."""
    paragraphs = list(PARAGRAPHS[key])
    paragraphs[1] = paragraphs[1].replace("a day late", "one day later than planned")
    body = "".join(f"<p>{p}</p>" for p in [outlet_line] + paragraphs + [correction])
    return (f"<html lang='en'><head><title>Talks resume in Geneva</title><meta name='date' content='2017-11-29'>"
            f"</head><body><article><h1>Talks resume in Geneva</h1>{body}</article></body></html>")


def test_a_syndicated_copy_is_linked_to_its_first_version_and_takes_no_second_slot(site, tmp_path):
    folder = tmp_path / "idx"
    copy_url = site.add("/wire/talks-copy", syndicated(
        "talks", "GENEVA (Wire Service) - Reporting by the wire service's correspondents.",
        "Correction: an earlier version of this story misstated the day the delegation arrived."))
    collection = collection_at(folder)
    collection.add([site.url("/world/geneva-talks"), site.url("/local/harbour")])
    collection.add([copy_url])
    assert collection.last_add_result.copies  # recognised at ingestion
    infos = {i["source"]: i for i in collection.article_infos()}
    original, copy = infos[site.url("/world/geneva-talks")], infos[copy_url]
    assert copy["duplicate_of"] == original["id"] and original["duplicate_of"] is None
    assert copy["published"] == "2017-11-29" and copy["source"] == copy_url  # its own date and URL kept
    assert infos[site.url("/local/harbour-wall")]["duplicate_of"] is None

    from qa.assistant import Assistant
    from fakes import KeywordReader

    assistant = Assistant(Settings(index_dir=folder, top_k=3), HashEmbedder(), KeywordReader({}),
                          collection=collection)
    hits = assistant.retrieve("How many members did the unified opposition delegation in Geneva have?", top_k=3)
    story = {original["id"], copy["id"]}
    readers = {h.article_id for h in hits if h.article_id in story}
    assert len(readers) == 1  # one copy of the story is read, never both
    chosen = next(h for h in hits if h.article_id in story)
    other = copy_url if chosen.article_id == original["id"] else original["source"]
    assert other in chosen.copies  # the other outlet still counts

    from qa.formats import result_to_text

    answering = Assistant(Settings(index_dir=folder, top_k=3), HashEmbedder(),
                          KeywordReader({"members": "36 members"}), collection=collection)
    result = answering.ask("How many members did the unified opposition delegation in Geneva have?")
    assert result.found and result.answer == "36 members"
    assert "also published by: " in result_to_text(result)


def test_removing_a_first_version_leaves_its_copies_one_story(site, tmp_path):
    collection = collection_at(tmp_path / "idx")
    collection.add([site.url("/world/geneva-talks")])
    first_copy = site.add("/wire/a", syndicated("talks", "(Wire) Reporting by staff.", "Correction: a date."))
    second_copy = site.add("/wire/b", syndicated("talks", "(Agency) From our correspondents.", "Update: a name."))
    collection.add([first_copy, second_copy])
    collection.remove([site.url("/world/geneva-talks")])
    infos = {i["source"]: i for i in collection.article_infos()}
    assert infos[first_copy]["duplicate_of"] is None
    assert infos[second_copy]["duplicate_of"] == infos[first_copy]["id"]


def test_an_index_of_the_earlier_schema_opens_and_gets_copy_detection(site, tmp_path):
    folder = tmp_path / "idx"
    collection_at(folder).add([site.url("/world/geneva-talks")])
    # back to the columns and tables of the first release of format 2
    db = sqlite3.connect(folder / "index.sqlite")
    db.executescript("""
        DROP TABLE minhash_bands;
        DROP INDEX articles_by_text_hash;
        ALTER TABLE articles DROP COLUMN author; ALTER TABLE articles DROP COLUMN language;
        ALTER TABLE articles DROP COLUMN site_name; ALTER TABLE articles DROP COLUMN text_hash;
        ALTER TABLE articles DROP COLUMN minhash; ALTER TABLE articles DROP COLUMN duplicate_of;
        DELETE FROM meta WHERE key = 'minhash_lsh';""")
    db.close()
    from index import records
    from index.errors import IndexFormatError

    def read_only(db):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    with pytest.MonkeyPatch.context() as patch:  # where it cannot be written, it says so in one line
        patch.setattr(records, "migrate", read_only)
        with pytest.raises(IndexFormatError, match="needs write access"):
            IndexStore.open(folder, HashEmbedder.name)
    store = IndexStore.open(folder, HashEmbedder.name)
    [info] = store.article_infos()
    assert info["duplicate_of"] is None and info["author"] is None
    store.close()
    collection = collection_at(folder)
    copy_url = site.add("/wire/c", syndicated("talks", "(Wire) Staff.", "Correction: the day."))
    collection.add([copy_url])
    assert {i["source"]: i["duplicate_of"] for i in collection.article_infos()}[copy_url] == info["id"]
    assert json.dumps(collection.describe())  # still describes itself


def test_the_ray_path_loads_links_with_the_same_loader(site):
    import pyarrow as pa

    from index.distributed import ARTICLE, SKIPPED, _list_files, _load_files
    from index.sources import load_sources

    sources = [site.url("/local/harbour"), site.url("/missing"), str(SAMPLES / "briefing.md")]
    files, skipped = _list_files(sources)
    assert files == sources and skipped == []
    rows = _load_files(pa.table({"path": files})).to_pylist()
    loaded = {r["source"]: r for r in rows if r["kind"] == ARTICLE}
    single = load_sources(sources)
    assert set(loaded) == {a.source for a in single.articles}
    harbour = loaded[site.url("/local/harbour-wall")]
    assert (harbour["author"], harbour["site_name"], harbour["language"]) == ("Anna Keller", "Seeblick Zeitung", "de-CH")
    assert [(r["source"], r["reason"]) for r in rows if r["kind"] == SKIPPED] == single.skipped


def test_a_copy_that_names_its_original_as_canonical_keeps_its_own_address(site, tmp_path):
    from web_support import scraped_page

    original = site.url("/world/geneva-talks")
    # a partner site's copy with a canonical link to the original: on 127.0.0.1 under another name
    partner = site.url("/world/geneva-talks").replace("127.0.0.1", "localhost")
    collection = collection_at(tmp_path / "idx")
    collection.add([original])
    site.add("/partner/talks", scraped_page("Geneva Talks Resume", "talks", original, "2017-11-28")
             .replace("</article>", "<p>Distributed by the partner network.</p></article>"))
    collection.add([partner.replace("/world/geneva-talks", "/partner/talks")])
    assert collection.last_add_result.replaced == []  # the original is not replaced
    infos = {i["source"]: i for i in collection.article_infos()}
    copy = infos[partner.replace("/world/geneva-talks", "/partner/talks")]
    assert copy["duplicate_of"] == infos[original]["id"]


def test_assistant_add_takes_links(site, tmp_path):
    from fakes import KeywordReader
    from qa.assistant import Assistant

    folder = tmp_path / "idx"
    assistant = Assistant(Settings(index_dir=folder), HashEmbedder(), KeywordReader({"members": "36 members"}))
    [added] = assistant.add([site.url("/world/geneva-talks")])
    assert added.source == site.url("/world/geneva-talks")
    result = assistant.ask("How many members did the delegation have?")
    assert result.found and result.answer == "36 members" and result.citation.article_id == added.id


@pytest.mark.slow
def test_a_ray_build_reads_links_as_the_single_process_build_does(site, tmp_path, tmp_path_factory, real_embedder):
    pytest.importorskip("ray.data")
    sources = [site.url("/world/geneva-talks"), site.url("/local/harbour"), site.url("/missing"),
               str(SAMPLES / "briefing.md")]
    cache = tmp_path_factory.getbasetemp() / "cache"  # where the session's embedder was converted
    built = {}
    for name, ray in (("single", None), ("ray", "local")):
        folder = tmp_path / name
        collection = Collection.build(sources, folder, Settings(index_dir=folder, cache_dir=cache),
                                      embedder=real_embedder, ray=ray)
        built[name] = (sorted((i["id"], i["source"], i["site_name"], i["author"], i["language"], i["published"])
                              for i in collection.article_infos()),
                       sorted(collection.last_load_report.skipped))
    assert built["ray"] == built["single"]
    infos, skipped = built["single"]
    assert len(infos) == 3 and [s for s, _ in skipped] == [site.url("/missing")]
