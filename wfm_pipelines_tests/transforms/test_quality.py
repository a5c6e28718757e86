"""The rules behind the asset checks report the offending intervals and queues."""

import pandas as pd

from wfm_pipelines.transforms import quality

T0 = pd.Timestamp("2026-03-01 10:00", tz="UTC")
T1 = pd.Timestamp("2026-03-01 10:15", tz="UTC")


def volume(rows):
    frame = pd.DataFrame(rows, columns=["queue_id", "interval_start", "entered_count", "handled_count", "sum_talk_time_s"])
    return frame


def test_negative_values_name_queue_interval_and_column():
    frame = volume([("sales", T0, 3, 2, 10.0), ("support", T1, 1, -1, -5.0)])
    bad = quality.negative_values(frame, quality.VOLUME_KEY, ["entered_count", "handled_count", "sum_talk_time_s"])
    assert sorted(zip(bad["queue_id"], bad["interval_start"], bad["column"], bad["value"])) == [
        ("support", T1, "handled_count", -1.0), ("support", T1, "sum_talk_time_s", -5.0)]


def test_mismatches_cover_values_missing_rows_and_nulls():
    stored = volume([("sales", T0, 3, 2, 10.0), ("sales", T1, 1, 1, None), ("ghost", T0, 1, 0, 0.0)])
    expected = volume([("sales", T0, 3, 2, 10.0000001), ("sales", T1, 2, 1, None), ("late", T1, 4, 4, 1.0)])
    bad = quality.frame_mismatches(stored, expected, quality.VOLUME_KEY, ["entered_count", "sum_talk_time_s"])
    found = {(r.queue_id, r.column) for r in bad.itertuples()}
    # 10.0 vs 10.0000001 is within tolerance and NULL equals NULL; the rest differ or exist on one side.
    assert found == {("sales", "entered_count"), ("ghost", "entered_count"), ("ghost", "sum_talk_time_s"),
                     ("late", "entered_count"), ("late", "sum_talk_time_s")}
    assert quality.frame_mismatches(stored, stored, quality.VOLUME_KEY, ["entered_count"]).empty


def test_describe_rows_is_a_bounded_markdown_table():
    rows = pd.DataFrame({"queue_id": [f"q{i}" for i in range(25)], "column": "entered_count"})
    text = quality.describe_rows(rows, limit=20)
    assert text.startswith("| queue_id | column |") and "q19" in text and "q20" not in text
    assert text.endswith("… and 5 more")
    assert quality.describe_rows(rows.head(0)) == "none"
