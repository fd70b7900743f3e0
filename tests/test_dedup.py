"""Copies recognised by MinHash-LSH: a syndicated copy of a real paragraph is one story, another
paragraph on the same topic is not, and the threshold's measurement holds on held-out pairs."""

from __future__ import annotations

import json

import sys

from index import dedup
from shared_data import shared_data_path

from conftest import ROOT

WIRE = ("United Nations-sponsored negotiations on the future of Syria resumed in Geneva on Tuesday, with the envoy "
        "saying the talks would focus on a new constitution and elections. The government delegation arrived a day "
        "late, after officials in Damascus objected to a statement by the opposition. The opposition, for the first "
        "time, sent a single unified delegation of 36 members, a move that diplomats said could make the "
        "negotiations more productive than the previous seven rounds.")
SAME_TOPIC = ("The Syrian opposition said on Wednesday it would not accept any role for the president in a "
              "transition, as talks in Geneva entered their second day with no face-to-face meetings. The envoy "
              "shuttled between the two delegations, which sat in separate rooms of the Palais des Nations.")


def copy_of(text: str) -> str:
    text = text.replace("a day late", "one day later than planned")
    return (f"GENEVA (Wire Service) - {text}\n\nReporting by our correspondents; editing by the desk.\n\n"
            "Correction: an earlier version of this story misstated the day the talks resumed.")


def test_a_syndicated_copy_is_above_the_threshold_and_another_story_below():
    original = dedup.signature(WIRE)
    assert dedup.similarity(original, dedup.signature(copy_of(WIRE))) >= dedup.THRESHOLD
    assert dedup.similarity(original, dedup.signature(SAME_TOPIC)) < dedup.THRESHOLD
    assert set(dedup.band_keys(original)) & set(dedup.band_keys(dedup.signature(copy_of(WIRE))))
    assert (dedup.BANDS, dedup.ROWS) == dedup.lsh_shape(dedup.THRESHOLD)


def test_signatures_are_stable_and_survive_the_database():
    sig = dedup.signature(WIRE)
    assert sig.dtype.name == "uint64" and len(sig) == dedup.NUM_PERM
    assert (dedup.from_blob(dedup.to_blob(sig)) == sig).all()
    assert (dedup.signature(WIRE.upper()) == sig).all()  # case is not a difference
    assert dedup.similarity(sig, dedup.signature(" ".join(WIRE.split()))) == 1.0


def test_the_shipped_threshold_is_the_measured_one_and_holds_on_real_held_out_pairs():
    shared_data_path("squad", "dev-v1.1.json")
    shared_data_path("news", "qamr-wikinews-dev.squad.json")
    recorded = json.loads((ROOT / "benchmarks" / "results" / "dedup_threshold.json").read_text())["chosen"]
    assert (recorded["shingle_words"], recorded["threshold"]) == (dedup.SHINGLE_WORDS, dedup.THRESHOLD)
    assert (recorded["bands"], recorded["rows"]) == (dedup.BANDS, dedup.ROWS)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import dedup_threshold as bench

    for name, groups in (("squad dev", bench.squad_groups(bench.DATA / "squad" / "dev-v1.1.json")),
                         ("wikinews", bench.wikinews_groups())):
        pairs = bench.make_pairs(groups, 50, seed=11)  # other pairs than the recorded run's
        result = bench.scores(pairs, bench.decisions(pairs, dedup.SHINGLE_WORDS, dedup.THRESHOLD))
        assert result["precision"] >= 0.95 and result["recall"] >= 0.9, (name, result)
