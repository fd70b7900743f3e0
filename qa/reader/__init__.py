"""Extractive reading: the reader interface, span decoding, the shipped model, its training, and the packaged MPNet base with the small delta a reader trained on it ships."""
