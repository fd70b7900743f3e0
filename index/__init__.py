"""Articles in: load and clean files, split into passages, embed, and keep FAISS + BM25 on disk."""
