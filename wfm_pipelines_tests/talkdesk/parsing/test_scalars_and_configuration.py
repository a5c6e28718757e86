"""Timestamps, ring groups, users and queues: every documented shape, expected values written by hand."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
import pytest

from wfm_pipelines.talkdesk.parsing import (
    parse_queues,
    parse_ring_groups,
    parse_timestamp,
    parse_timestamps,
    parse_users,
)
from wfm_pipelines.talkdesk.parsing.values import parse_timestamp_texts


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(("value", "expected"), [
    ("2016-01-29 10:22:02", "2016-01-29 10:22:02"),
    ("2026-04-23T10:22:26Z", "2026-04-23 10:22:26"),
    ("2026-04-23T10:22:26.123Z", "2026-04-23 10:22:26.123"),
    ("2026-04-23T10:22:26+00:00", "2026-04-23 10:22:26"),
    ("2026-04-23T10:22:26+01:00", "2026-04-23 09:22:26"),
    ("2026-04-23T10:22:26+0100", "2026-04-23 09:22:26"),
    ("2026-04-23T10:22:26-0230", "2026-04-23 12:52:26"),
    ("2018-06-28 14:05:00+00:00", "2018-06-28 14:05:00"),
    ("2016-09-01 21:47:45.867000+00:00", "2016-09-01 21:47:45.867"),
    (" 2016-01-29 10:22:02 ", "2016-01-29 10:22:02"),
    ("2016/01/29 10:22:02", "2016-01-29 10:22:02"),  # not ISO 8601: lenient fallback
    (datetime(2016, 1, 29, 10, 22, 2, tzinfo=timezone.utc), "2016-01-29 10:22:02"),
])
def test_parse_timestamp_every_shape_in_utc(value, expected):
    parsed = parse_timestamp(value)
    assert parsed == utc(expected)
    assert str(parsed.tz) == "UTC"


@pytest.mark.parametrize("value", [None, "", "   ", float("nan")])
def test_parse_timestamp_blank_is_none(value):
    assert parse_timestamp(value) is None


@pytest.mark.parametrize("value", ["garbage", "2016-13-45 10:00:00", "NaT", 12.5])
def test_parse_timestamp_unparseable_raises(value):
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_naive_timestamps_are_in_the_requested_timezone_and_explicit_offsets_win():
    assert parse_timestamp("2026-07-01 10:00:00", tz="Europe/Lisbon") == utc("2026-07-01 09:00:00")
    assert parse_timestamp("2026-01-15 10:00:00", tz="America/New_York") == utc("2026-01-15 15:00:00")
    assert parse_timestamp("2026-07-01T10:00:00Z", tz="Europe/Lisbon") == utc("2026-07-01 10:00:00")


def test_parse_timestamps_vectorised_matches_scalar_and_flags_only_bad_values():
    values = ["2016-01-29 10:22:02", "2026-04-23T10:22:26.123Z", "2026-04-23T10:22:26+0100",
              "", None, "not a time", "2016-09-01 21:47:45.867000+00:00", "2016/01/29 10:22:02"]
    parsed, bad = parse_timestamps(values)
    assert str(parsed.dtype) == "datetime64[ns, UTC]"
    assert list(parsed) == [utc("2016-01-29 10:22:02"), utc("2026-04-23 10:22:26.123"), utc("2026-04-23 09:22:26"),
                            pd.NaT, pd.NaT, pd.NaT, utc("2016-09-01 21:47:45.867"), utc("2016-01-29 10:22:02")]
    assert list(bad) == [False, False, False, False, False, True, False, False]


def test_a_naive_timestamp_after_one_with_an_offset_keeps_its_own_zone():
    """Bug: pandas' ISO 8601 parser applied the first offset it met to the naive values after it."""
    parsed, bad = parse_timestamps(["2026-11-24 10:00:00+01:00", "2026-11-24 10:00:00.5", "2026-11-24 10:00:00"])
    assert list(parsed) == [utc("2026-11-24 09:00:00"), utc("2026-11-24 10:00:00.5"), utc("2026-11-24 10:00:00")]
    assert not bad.any()


@pytest.mark.parametrize("tz", ["UTC", "Europe/Lisbon"])
def test_text_columns_parse_exactly_as_single_values(tz):
    """The C++ fast path for the common shapes gives what the strict parser gives, and leaves it the rest."""
    values = ["2016-01-29 10:22:02", "2026-04-23T10:22:26Z", "2026-04-23T10:22:26+00:00", "2026-07-01T10:00:00",
              "2026-04-23T10:22:26.123Z", "2026-04-23T10:22:26+0100", " 2016-01-29 10:22:02 ", "2026-02-30 10:00:00",
              "2026-11-24 10:00:60", "2026-04-23T10:22:26Z trailing", "", None, "not a time", "2016/01/29 10:22:02",
              "2026-11-24 10:00:00+01:00", "2026-11-24 10:00:00"]
    parsed, bad = parse_timestamp_texts(pa.array(values, pa.string()), tz)
    expected, expected_bad = parse_timestamps(values, tz)
    assert list(parsed) == list(expected)
    assert list(bad) == list(expected_bad)
    assert list(bad) == [value in ("2026-02-30 10:00:00", "2026-11-24 10:00:60", "2026-04-23T10:22:26Z trailing",
                                   "not a time")
                         for value in values]


def test_parse_timestamps_localizes_only_naive_values():
    parsed, bad = parse_timestamps(pd.Series(["2026-07-01 10:00:00", "2026-07-01T10:00:00Z",
                                              "2026-07-01T10:00:00+02:00", "2026-07-01"]), tz="Europe/Lisbon")
    assert list(parsed) == [utc("2026-07-01 09:00:00"), utc("2026-07-01 10:00:00"),
                            utc("2026-07-01 08:00:00"), utc("2026-06-30 23:00:00")]
    assert not bad.any()


@pytest.mark.parametrize(("value", "expected"), [
    ("agents", ("agents",)),
    ("sales, support", ("sales", "support")),
    (" sales ,, support , ", ("sales", "support")),
    ('["rg1", "rg2"]', ("rg1", "rg2")),
    ("['rg1']", ("rg1",)),
    ("[rg1, rg2]", ("rg1", "rg2")),
    (["b", " a ", "b", ""], ("b", "a")),
    ("support, sales, support", ("support", "sales")),
    ("", ()),
    (None, ()),
    ("[]", ()),
    ([], ()),
    (float("nan"), ()),
])
def test_parse_ring_groups(value, expected):
    assert parse_ring_groups(value) == expected


def test_parse_users_json_and_csv_shapes():
    users = parse_users([
        {"id": "5b34eb0cdcba1b000bdbd320", "email": "paulo@talkdesk.com", "name": "Paulo Omni", "active": True,
         "extension": 1001, "created_at": "2018-06-28 14:05:00+00:00", "_links": {}},
        {"id": "u2", "email": "", "name": "Ana", "active": "false", "extension": "", "created_at": ""},
        {"email": "nobody@example.com"},  # no id: cannot be keyed
        {"id": "u3", "name": "Old name"},
        {"id": "u3", "name": "New name", "extension": 7.0, "created_at": "garbage"},
    ])
    assert list(users.columns) == ["agent_id", "name", "email", "extension", "active", "source_created_at"]
    assert list(users["agent_id"]) == ["5b34eb0cdcba1b000bdbd320", "u2", "u3"]
    assert list(users["name"]) == ["Paulo Omni", "Ana", "New name"]
    assert list(users["email"]) == ["paulo@talkdesk.com", None, None]
    assert list(users["extension"]) == ["1001", None, "7"]
    assert list(users["active"]) == [True, False, True]
    assert users["source_created_at"].iloc[0] == utc("2018-06-28 14:05:00")
    assert users["source_created_at"].iloc[1:].isna().all()
    assert str(users["source_created_at"].dtype) == "datetime64[ns, UTC]"


def test_parse_queues_ring_groups_and_ccaas_queues():
    ring_groups = parse_queues([{"name": "agents"},
                                {"name": "sales", "short_abandoned_threshold": 5, "wait_time_threshold": 20},
                                {"name": "sales", "short_abandoned_threshold": 5, "wait_time_threshold": 25}],
                               "ring_group")
    assert list(ring_groups["queue_id"]) == ["agents", "sales"]
    assert list(ring_groups["name"]) == ["agents", "sales"]
    assert list(ring_groups["source_kind"]) == ["ring_group", "ring_group"]
    assert math.isnan(ring_groups["service_level_threshold_s"].iloc[0])
    assert ring_groups["service_level_threshold_s"].iloc[1] == 25.0
    assert ring_groups["short_abandon_threshold_s"].iloc[1] == 5.0

    queues = parse_queues([{"id": "q-1", "name": "billing", "wait_time_threshold": "30"},
                           {"id": "q-2", "name": "returns", "settings": {"voice": {}}}], "queue")
    assert list(queues["queue_id"]) == ["billing", "returns"]
    assert list(queues["source_kind"]) == ["queue", "queue"]
    assert queues["service_level_threshold_s"].iloc[0] == 30.0
    assert math.isnan(queues["short_abandon_threshold_s"].iloc[1])
    with pytest.raises(ValueError):
        parse_queues([], "team")
