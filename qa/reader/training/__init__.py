"""The reader's tooling, apart from its runtime: training, export, calibration fitting, precision choice.

Nothing in `qa.reader` imports this package; it builds on the runtime (loading, windows, running,
decoding, precision conversion) to make the folders the runtime loads.
"""
