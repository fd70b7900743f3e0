"""Extractive reading: the reader interface, span decoding, the shipped model and its training."""
