"""Collecting a range of 15-minute intervals from Talkdesk: which report windows to ask for, and the
fetch -> parse -> keep raw -> aggregate loop. Plain Python: Dagster assets and the benchmark floor share it."""
