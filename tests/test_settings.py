"""Where the bundled article's index is cached: one folder per checkout and per article text."""

import shutil

from qa.settings import BUNDLED_ARTICLE, Settings, bundled_index_key


def test_the_bundled_index_key_follows_the_article_path_and_text(tmp_path):
    first, second = tmp_path / "a" / "article.txt", tmp_path / "b" / "article.txt"
    for copy in (first, second):
        copy.parent.mkdir()
        shutil.copy(BUNDLED_ARTICLE, copy)
    assert bundled_index_key(first) == bundled_index_key(first)
    assert bundled_index_key(first) != bundled_index_key(second)  # another checkout: its own index
    before = bundled_index_key(first)
    first.write_text(first.read_text() + "\nA corrected paragraph.\n")
    assert bundled_index_key(first) != before  # a new release of the article: a fresh index


def test_the_bundled_index_lives_in_the_cache_folder(tmp_path):
    folder = Settings(cache_dir=tmp_path).bundled_index_dir
    assert folder.parent == tmp_path
    assert folder.name == f"bundled-index-{bundled_index_key(BUNDLED_ARTICLE)}"
