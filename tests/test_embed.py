"""The real packaged embedder in its precisions: shapes, norms, order, fidelity to fp32, the int8 cache."""

import json
import random
import sys
import threading

import numpy as np
import pytest

import index.embed as embed_module
from index.embed import EMBEDDER_NAME, SentenceEmbedder, onnx_int8_model
from index.errors import QAError
from index.load import load_paths
from index.split import split_article

from conftest import BUNDLED, SAMPLES
from fakes import HashEmbedder, KeywordReader

# cosine to fp32 measured on all 2,307 SQuAD v1.1 dev passages (benchmarks/results/embed_speed.json):
# int8 min 0.9806, mean 0.9949; bf16 min 0.9999
INT8_MIN_COSINE, INT8_MEAN_COSINE = 0.975, 0.99
BF16_MIN_COSINE = 0.999


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """Real passages of many lengths: the bundled article's and the sample SQuAD file's."""
    articles = load_paths([BUNDLED, SAMPLES / "tiny-squad.json"]).articles
    texts = [p.text for a in articles for p in split_article(a)]
    assert len(texts) >= 8 and len({len(t) for t in texts}) >= 8
    return texts[:24]


@pytest.fixture(scope="module")
def fp32():
    embedder = SentenceEmbedder(precision="fp32")
    embedder.warm_up()
    return embedder


def test_the_default_is_int8_under_its_own_name(real_embedder):
    assert real_embedder.precision == "int8"
    assert real_embedder.name == EMBEDDER_NAME + "+int8"  # its vectors are not fp32's: indexes must not mix
    assert SentenceEmbedder(precision="fp32").name == EMBEDDER_NAME
    assert SentenceEmbedder(precision="bf16").name == EMBEDDER_NAME  # bf16 is fp32 to 4 decimals
    assert real_embedder.dim == 384
    with pytest.raises(ValueError, match="precision"):
        SentenceEmbedder(precision="fp8")


def test_vectors_are_normalised_float32(real_embedder, passages):
    vectors = real_embedder.embed(passages)
    assert vectors.shape == (len(passages), 384) and vectors.dtype == np.float32
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_order_is_kept_whatever_the_lengths(real_embedder, fp32, passages):
    shuffled = passages[:]
    random.Random(3).shuffle(shuffled)
    for embedder, tolerance in ((real_embedder, 1e-6), (fp32, 1e-4)):
        together = embedder.embed(shuffled)
        one_by_one = np.stack([embedder.embed([text])[0] for text in shuffled])
        # int8 runs one text at a time, so its vectors do not depend on their neighbours at all
        np.testing.assert_allclose(together, one_by_one, atol=tolerance)


def test_int8_stays_close_to_fp32(real_embedder, fp32, passages):
    questions = ["Where did the negotiations resume?", "Who hosted the Syrian president in Sochi?"]
    cosines = (real_embedder.embed(passages + questions) * fp32.embed(passages + questions)).sum(1)
    assert cosines.min() >= INT8_MIN_COSINE, cosines.min()
    assert cosines.mean() >= INT8_MEAN_COSINE, cosines.mean()


def test_bf16_stays_close_to_fp32(fp32, passages):
    bf16 = SentenceEmbedder(precision="bf16")
    vectors = bf16.embed(passages[:8])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * fp32.embed(passages[:8])).sum(1).min() >= BF16_MIN_COSINE


def test_empty_input(real_embedder, fp32):
    for embedder in (real_embedder, fp32):
        vectors = embedder.embed([])
        assert vectors.shape == (0, 384) and vectors.dtype == np.float32


def test_a_long_embed_shows_a_progress_bar(real_embedder, passages, capsys):
    real_embedder.embed(passages[:4], progress=True)
    err = capsys.readouterr().err
    assert "embedding" in err and "4/4" in err and "passage/s" in err


def test_the_int8_model_is_converted_once_and_reused(real_embedder):
    # the cache folder may hold other installs' conversions (their keys differ); this one is reused
    cache = real_embedder.onnx_path.parent
    assert real_embedder.onnx_path.is_file() and not list(cache.glob(".convert-*"))  # no temporary left behind
    stamp = real_embedder.onnx_path.stat().st_mtime_ns
    again = SentenceEmbedder(precision="int8", cache_dir=cache)
    again.embed(["warm"])
    assert again.onnx_path == real_embedder.onnx_path and again.onnx_path.stat().st_mtime_ns == stamp


def test_conversions_racing_each_other_publish_one_whole_file(tmp_path, monkeypatch):
    def slow_convert(model_dir, work):
        (work / "int8.onnx").write_bytes(b"x" * 1_000_000)
        threading.Event().wait(0.2)

    monkeypatch.setattr(embed_module, "_convert", slow_convert)
    results, errors = [], []

    def convert():
        try:
            results.append(onnx_int8_model(embed_module._model_dir(), tmp_path))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=convert) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert results[0].read_bytes() == b"x" * 1_000_000
    assert [p.name for p in tmp_path.iterdir()] == [results[0].name]


def test_int8_without_onnxruntime_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(QAError, match=r"onnxruntime==\S+ onnx==\S+"):
        onnx_int8_model(embed_module._model_dir(), tmp_path)


def test_the_bundled_cache_of_another_embedder_is_rebuilt_not_refused(tmp_path):
    from qa import Assistant, Settings

    class Renamed(HashEmbedder):
        name = "sentence-transformers/all-MiniLM-L6-v2+int8"

    settings = Settings(cache_dir=tmp_path)
    assert Assistant(settings, embedder=HashEmbedder(), reader=KeywordReader({})).store.counts()[1]
    assistant = Assistant(settings, embedder=Renamed(), reader=KeywordReader({}))
    assert assistant.store.embedder_name == Renamed.name
    assert assistant.collection.describe()["embedding_model"] == Renamed.name and assistant.store.counts()[1]


def test_an_index_built_in_another_precision_opens_with_the_embedder_it_was_built_with(tmp_path, bundled_copy):
    from qa import Assistant, Settings

    class Fp32Stand_in(HashEmbedder):  # noqa: N801  (poses as the fp32 embedder, as HashEmbedder does)
        pass

    folder = tmp_path / "idx"
    Assistant.build([bundled_copy], folder, Settings(index_dir=folder), embedder=Fp32Stand_in(),
                    reader=KeywordReader({}))
    assistant = Assistant.load(folder, Settings(index_dir=folder, embedder_precision="int8", cache_dir=tmp_path),
                               reader=KeywordReader({}))
    assert assistant.embedder.precision == "fp32" and assistant.embedder.name == HashEmbedder.name
