"""WFM counting rules: normalized report records -> interval volume, state transactions, configuration frames.

Pure pandas; no Dagster, no HTTP.
"""
