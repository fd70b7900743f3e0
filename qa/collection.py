"""The collection: the index an assistant answers from, opened or built by one policy, and its writes.

Which folder: `Settings.index_dir`, or (None) the bundled article's index, which the collection
keeps in the cache and builds on first use. The one open-or-rebuild policy:

- an index that opens with the configured embedder is used. One built by the packaged embedder in
  another precision switches the collection's own embedder to it (an embedder the caller passed
  in is kept, and the index refused);
- no index: `build` and `add` create one; opening raises IndexNotFoundError, saying how to build;
- an index of ours of another format or embedder: a build replaces it; opening raises the error,
  which says how to upgrade or rebuild. A folder that is not an index of ours is never deleted;
- an index the collection keeps itself (the bundled article's; a cached corpus, `Collection.cached`)
  is used only once the build that made it has recorded its completion (`index.store.BUILD_STATE`);
  otherwise it is resumed or rebuilt, never used half-built. The bundled article's is built aside
  and moved into place, so no process ever opens it before it is whole, whenever a first run is
  interrupted. A user's index whose build was interrupted opens with a warning saying how to finish it.

Writes (`add`, `remove`, `compact`) take `lock`, which the assistant's reads share: the embedder's
tokenizer is not safe to share across threads. `add` embeds outside it, with its own copy of the
embedder (`qa.write_embedder`), so a long write never stalls the questions asked meanwhile. Splitting and embedding are `index.ingest`'s.
What this leaves out: asking (`qa.assistant`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from index.embed import Embedder, SentenceEmbedder, precision_of
from index.ids import text_hash
from index.ingest import ingest, ingest_parts
from index.load import LoadReport, article_from_text, check_outlet, check_published, load_paths
from index.fetch import DEFAULT_LIMITS, FetchLimits
from index.sources import load_sources
from index.store import BUILDING, COMPLETE, AddResult, IndexStore, PassageStore, is_index, write_lock
from index.types import Article, Passage
from qa.errors import BadArticleError, EmbedderMismatchError, IndexFormatError, IndexNotFoundError
from qa.settings import BUNDLED_ARTICLE, Settings
from qa.write_embedder import embedder_for_writes

log = logging.getLogger(__name__)

Sources = Sequence[str | Path | Article]
# what an index we keep ourselves may fail to open with; it is then ours to rebuild
_UNUSABLE = (IndexFormatError, IndexNotFoundError, EmbedderMismatchError, OSError)


class Collection:
    """One index folder and the embedder its vectors come from. Constructing does no I/O."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings if settings is not None else Settings.from_env()
        self._own_embedder = embedder is None  # ours to match to an index built in another precision
        self.embedder = embedder if embedder is not None else self._sentence_embedder(self.settings.embedder_precision)
        self._store: IndexStore | None = None
        self.lock = threading.RLock()
        self.last_load_report: LoadReport | None = None
        self.last_add_result: AddResult | None = None

    @property
    def folder(self) -> Path:
        return Path(self.settings.index_dir) if self.settings.index_dir is not None else self.settings.bundled_index_dir

    @property
    def store(self) -> PassageStore:
        """The open index, with what other processes committed since the last call."""
        with self.lock:
            if self._store is None:
                self._store = self._open_user() if self.settings.index_dir is not None else self._open_bundled()
            else:
                self._store.refresh()
            return self._store

    # ---- opening and building ---------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             embedder: Embedder | None = None) -> "Collection":
        """An existing index (None: the bundled article's, built on first use), opened now."""
        collection = cls(_settings_for(index_dir, settings), embedder)
        _ = collection.store
        return collection

    @classmethod
    def build(cls, sources: Sources, index_dir: str | Path, settings: Settings | None = None,
              embedder: Embedder | None = None, progress: bool = False, ray: str | None = None) -> "Collection":
        """An index at `index_dir` holding exactly these articles.

        Articles already in the folder's index are kept (not embedded again) and the others are
        removed, so running the same build again after an interruption continues where it stopped.
        `ray` ("local", "auto" or a cluster's address) loads, splits and embeds on Ray Data.
        """
        collection = cls(_settings_for(index_dir, settings), embedder)
        collection._build(sources, progress, ray)
        return collection

    @classmethod
    def cached(cls, articles: list[Article], index_dir: Path, settings: Settings | None = None,
               embedder: Embedder | None = None, progress: bool = False) -> "Collection":
        """An index the caller keeps as a cache of these articles (an evaluation corpus): used as it
        is once a build of it completed, else built (resuming what an interrupted build committed)."""
        collection = cls(_settings_for(index_dir, settings), embedder)
        store = collection._open_complete(Path(index_dir), match=True)
        if store is not None:
            collection._store = store
        else:
            collection._build(articles, progress, None)
        return collection

    @classmethod
    def upgrade(cls, index_dir: str | Path, settings: Settings | None = None,
                embedder: Embedder | None = None) -> "Collection":
        """Convert an index folder of format 1 to today's format, keeping its vectors."""
        from index.upgrade import upgrade_format1

        collection = cls(_settings_for(index_dir, settings), embedder)
        collection._store = collection._matching(lambda: upgrade_format1(Path(index_dir), collection.embedder.name))
        return collection

    def _open_user(self) -> IndexStore:
        store = self._matching(lambda: IndexStore.open(self.folder, self.embedder.name))
        if store.build_state() == BUILDING:
            log.warning("the build of %s did not finish, so it may lack articles; run the same "
                        "`qa index build` again to complete it", self.folder)
        return store

    def _open_bundled(self) -> IndexStore:
        folder = self.folder
        store = self._open_complete(folder)
        if store is not None:
            return store
        with write_lock(folder.parent / f".{folder.name}.build"):
            store = self._open_complete(folder)  # another process built it meanwhile
            if store is not None:
                return store
            for stale in folder.parent.glob(f".{folder.name}.aside-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a run that was killed
            aside = folder.parent / f".{folder.name}.aside-{os.getpid()}"
            built = IndexStore.create(aside, self.embedder.name, self.embedder.dim)
            self._fill(built, load_paths([BUNDLED_ARTICLE]).articles, progress=False)
            built.set_build_state(COMPLETE)
            built.close()
            _discard(folder)  # an unfinished, older-format or other embedder's index
            os.rename(aside, folder)  # the index appears whole, or not at all
        return IndexStore.open(folder, self.embedder.name)

    def _open_complete(self, folder: Path, match: bool = False) -> IndexStore | None:
        """The index in `folder` if a build of it completed, else None (it is ours to rebuild)."""
        def open_index():
            return IndexStore.open(folder, self.embedder.name)  # the embedder as it is at each call

        try:
            store = self._matching(open_index) if match else open_index()
        except _UNUSABLE:
            return None
        if store.build_state() == COMPLETE:
            return store
        store.close()
        return None

    def _build(self, sources: Sources, progress: bool, ray: str | None) -> None:
        if ray is not None:
            store = self._store = self._open_for_build()
            wanted = self._ingest_on_ray(store, sources, ray)
        else:
            articles, report = _articles_from(sources)
            self.last_load_report = report
            if not articles:
                raise BadArticleError(f"no articles to index ({_reasons(report.skipped)})")
            store = self._store = self._open_for_build()
            wanted = {a.id for a in articles}
            self.last_add_result = self._fill(store, articles, progress)
        store.remove([info["id"] for info in store.article_infos() if info["id"] not in wanted])
        store.set_build_state(COMPLETE)

    def _fill(self, store: IndexStore, articles: list[Article], progress: bool) -> AddResult:
        """A build's articles into `store`, which is marked BUILDING first: the caller marks it
        COMPLETE once the build's last write is committed."""
        store.set_build_state(BUILDING)
        return ingest(store, articles, self.embedder, progress=progress)

    def _open_for_build(self) -> IndexStore:
        folder = self.folder
        try:
            return IndexStore.open(folder, self.embedder.name)
        except IndexNotFoundError:
            return IndexStore.create(folder, self.embedder.name, self.embedder.dim)
        except (IndexFormatError, EmbedderMismatchError):
            if not (is_index(folder) or (folder / "manifest.json").is_file()):
                raise  # not an index of ours: never delete it
            with write_lock(folder):
                _discard(folder)
            return IndexStore.create(folder, self.embedder.name, self.embedder.dim)

    def _ingest_on_ray(self, store: IndexStore, sources: Sources, address: str) -> set[str]:
        from index.distributed import embed_on_ray

        if any(isinstance(s, Article) for s in sources):
            raise BadArticleError("a Ray build reads files and folders, not Article objects")
        store.set_build_state(BUILDING)
        # the workers build the same embedder (same precision, same cache folder, given as
        # arguments: a worker does not see this process's environment), so their vectors match
        make = functools.partial(SentenceEmbedder, precision=self.embedder.precision,
                                 cache_dir=self.settings.cache_dir / "embedder") \
            if isinstance(self.embedder, SentenceEmbedder) else type(self.embedder)
        run = embed_on_ray(list(sources), address, make_embedder=make)
        self.last_add_result, wanted = ingest_parts(store, run)
        self.last_load_report = LoadReport(articles=[], skipped=list(run.skipped))
        for source, reason in run.skipped:
            log.warning("skipped %s: %s", source, reason)
        if not wanted:
            raise BadArticleError(f"no articles to index ({_reasons(run.skipped)})")
        return wanted

    def _matching(self, open_index):
        """`open_index()`, again with the embedder the index was built with when it names one of
        the packaged embedder's precisions and the embedder is ours to switch."""
        try:
            return open_index()
        except EmbedderMismatchError as e:
            precision = precision_of(e.stored or "")
            if not self._own_embedder or precision is None:
                raise
            log.info("the index was built with the %s embedder; using it", precision)
            self.embedder = self._sentence_embedder(precision)
            return open_index()

    def _sentence_embedder(self, precision: str) -> SentenceEmbedder:
        return SentenceEmbedder(precision=precision, cache_dir=self.settings.cache_dir / "embedder")

    # ---- writing ------------------------------------------------------------------------------
    def add(self, sources: Sources, progress: bool = False, *, replace: bool = True,
            public_links_only: bool = False, published: str | None = None,
            outlet: str | None = None) -> list[Article]:
        """Index more articles (only the new data is written); returns the ones that were new.

        An article under the URL, or from the single-article file, of an indexed one replaces it
        (`last_add_result.replaced` lists the old versions), unless `replace` is False.
        `public_links_only`: refuse links (and redirects) to this machine or a private network,
        for a server that fetches what its users type. `published` (YYYY-MM-DD) and `outlet` are
        given to every article that states none (`with_given_facts`; a bad date is refused first).
        """
        if published is not None or outlet is not None:
            self.with_given_facts([], published, outlet)  # a bad date fails before anything is read
        limits = FetchLimits(private_addresses=False) if public_links_only else DEFAULT_LIMITS
        articles, report = _articles_from(sources, limits=limits)
        if published is not None or outlet is not None:
            articles = self.with_given_facts(articles, published, outlet)
        self.last_load_report = report
        if not articles and report.skipped:
            raise BadArticleError(_reasons(report.skipped))
        with self.lock:
            self._create_if_missing()
            store = self.store
        # embedded outside the lock questions take: the store commits under its own (qa.write_embedder)
        result = ingest(store, articles, embedder_for_writes(self.embedder, self.lock), progress=progress,
                        replace=replace)
        self.last_add_result = result
        return result.added

    def add_new(self, sources: Sources, progress: bool = False) -> list[Article]:
        """Index only what is not indexed yet (a feed's poll): an address a feed or sitemap lists is
        not fetched again once an article under it is indexed, and an article whose source (its
        canonical URL) or whose words (`index.ids.text_hash`) are indexed is skipped, never replaced."""
        with self.lock:
            self._create_if_missing()
            store = self.store

            def indexed(url: str) -> bool:
                return bool(store.known_text([url], [])[0])

        articles, report = _articles_from(sources, skip_url=indexed)
        self.last_load_report = report
        with self.lock:
            store = self.store
            sources_known, hashes_known = store.known_text([a.source for a in articles],
                                                           [text_hash(a.text) for a in articles])
            fresh, seen = [], set()
            for a in articles:
                key = text_hash(a.text)
                if a.source in sources_known or key in hashes_known or key in seen:
                    continue
                seen.add(key)
                fresh.append(a)
        # as in `add`: embedded outside the lock questions take
        result = ingest(store, fresh, embedder_for_writes(self.embedder, self.lock), progress=progress,
                        replace=False)
        self.last_add_result = result
        return result.added

    def _create_if_missing(self) -> None:
        if self._store is None and self.settings.index_dir is not None and not is_index(self.folder):
            self._store = IndexStore.create(self.folder, self.embedder.name, self.embedder.dim)

    def add_text(self, title: str, text: str, source: str = "", published: str | None = None,
                 outlet: str | None = None) -> Article | None:
        """Index one pasted article; None when it was already indexed. `published` (YYYY-MM-DD)
        and `outlet` are optional; a date that is not a real day raises BadArticleError."""
        added = self.add([article_from_text(title, text, source, published, outlet)])
        return added[0] if added else None

    @staticmethod
    def with_given_facts(articles: Sequence[Article], published: str | None = None,
                         outlet: str | None = None) -> list[Article]:
        """The articles with a date and outlet a user gave for them (an upload's fields), where an
        article states none of its own. A date that is not a real YYYY-MM-DD day raises
        BadArticleError: it is refused, never guessed."""
        published, outlet = check_published(published), check_outlet(outlet)
        return [dataclasses.replace(a, published=a.published or published, site_name=a.site_name or outlet)
                for a in articles]

    def remove(self, keys: str | Iterable[str]) -> list[Article]:
        """Remove articles by id, URL or file path; returns those removed (none found: an empty list)."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        with self.lock:
            return self.store.remove(keys)

    def compact(self) -> dict:
        with self.lock:
            return self.store.compact(full=True)

    # ---- reading --------------------------------------------------------------------------------
    def articles(self) -> list[Article]:
        return self.store.articles()

    def article(self, article_id: str) -> Article | None:
        found = self.store.articles([article_id])
        return found[0] if found else None

    def article_infos(self) -> list[dict]:
        """id, title, source, outlet, published, passages and added_at of every article, without texts.

        The outlet is the site of the article's URL without "www." ("" for a file or pasted text):
        the names a scope's `outlets` take."""
        return self.store.article_infos()

    def passages_of(self, article_id: str) -> list[Passage]:
        return self.store.passages_of(article_id)

    def describe(self) -> dict:
        return self.store.describe()


def _settings_for(index_dir: str | Path | None, settings: Settings | None) -> Settings:
    settings = settings if settings is not None else Settings.from_env()
    return settings.with_overrides(index_dir=None if index_dir is None else Path(index_dir))


def _discard(folder: Path) -> None:
    """Delete an index folder so that it is gone at once: moved aside first, then removed."""
    if not folder.exists():
        return
    trash = folder.parent / f".{folder.name}.aside-trash-{os.getpid()}"
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _articles_from(sources: Sources, skip_url=None, limits=DEFAULT_LIMITS) -> tuple[list[Article], LoadReport]:
    """Articles given as such, and those loaded from paths and web addresses (`index.sources`)."""
    articles = [s for s in sources if isinstance(s, Article)]
    report = load_sources([s for s in sources if not isinstance(s, Article)], limits, skip_url=skip_url)
    return articles + report.articles, report


def _reasons(skipped: list[tuple[str, str]]) -> str:
    return "; ".join(f"{s}: {r}" for s, r in skipped) or "nothing given"
