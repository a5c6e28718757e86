"""Report entries as Talkdesk renders them: `calls` (current and legacy shapes), `contacts`, `user_status`.

Rendering works on chunks of rows so a large report streams without building every entry at once; each
field is a column (text_columns.py) rather than a value in a dict per entry. Malformed and poisoned entries
(faults) are chosen per entry from its own id, so they are deterministic too; those few are built as dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from talkdesk_emulator.directory import Directory
from talkdesk_emulator.shifts import DAY
from talkdesk_emulator.statuses import STATUS_LABELS, Segments
from talkdesk_emulator.traffic import (ABANDONED, CALL_TYPES, INBOUND, MISSED, OUTBOUND, OUTBOUND_MISSED,
                                            SHORT_ABANDONED, VOICEMAIL, Contacts)
from talkdesk_emulator.text_columns import Column, Vocabulary

CHUNK_ROWS = 20_000
CONTACT_TYPES = ("Answered", "Abandoned", "Short Abandoned", "Missed", "Voicemail", "Connected", "Not Connected")
DISPOSITIONS = ("Resolved", "Follow-up Needed", "Sale", "Information Provided", "Escalated")
MAIN_NUMBER = "+12025550100"
UNPARSEABLE_TIMESTAMP = "31/02/2026 25:61"
# Column order of each report shape: the keys of every entry, and the header row of a CSV file (even an empty one).
CALLS_COLUMNS = (
    "call_id", "callsid", "type", "start_at", "end_at", "talkdesk_phone_number", "talkdesk_phone_display_name",
    "contact_phone_number", "user_id", "user_name", "user_email", "total_time", "talk_time", "wait_time",
    "hold_time", "abandon_time", "total_ringing_time", "disposition_code", "notes", "user_voice_rating",
    "ring_groups", "ivr_options", "is_in_business_hours", "is_callback_from_queue", "is_transfer",
    "handling_user_id", "handling_user_name", "handling_user_email", "is_external_transfer", "is_if_no_answer",
    "is_call_forwarding", "csat_score", "csat_survey_time", "team_id", "team_name", "rating_reason",
    "agent_disconnected", "data_status", "disposition_set", "nested_disposition",
)
CALLS_LEGACY_COLUMNS = (
    "interaction_id", "call_type", "start_time", "end_time", "customer_phone_number", "talkdesk_phone_number",
    "talk_time", "waiting_time", "holding_time", "agent_speed_to_answer", "in_business_hours?", "tags", "team",
    "agent_name", "user_id",
)
CONTACTS_COLUMNS = (
    "interaction_id", "contact_id", "company_number", "phone_display_name", "contact_person_number", "direction",
    "contact_type", "started_at", "wait_time", "time_to_missed", "abandon_time", "short_abandon_time",
    "time_to_voicemail", "ring_time", "answered_at", "connected_at", "talk_time", "hard_hold_time",
    "soft_hold_time", "hold_time", "after_call_work_time", "finished_at", "duration", "handle_time",
    "inside_business_hours", "inside_service_level", "within_service_level_threshold", "transfer_out", "callback",
    "ring_groups", "user_name", "direct_assignment_user", "team_name", "user_id", "team_id", "handling_ring_groups",
)
USER_STATUS_COLUMNS = (
    "user_name", "user_email", "user_id", "status_label", "status_start_at", "status_end_at", "status_time",
    "is_user_active", "team_id", "team_name", "ring_groups",
)
# Display names of a CSV header (fault `csv_header: display_names`) that Talkdesk's data dictionary spells; every
# other column is its JSON key with each word capitalized (`call_id` -> `Call Id`, `in_business_hours?` -> `In
# Business Hours?`), as a public client reads a `calls` CSV (`Call Id`, `Recording Url`).
DICTIONARY_DISPLAY_NAMES = {"contacts": {"contact_id": "Contact ID", "started_at": "Contact Started At"}}


def display_name(shape: str, column: str) -> str:
    spelled = DICTIONARY_DISPLAY_NAMES.get(shape, {}).get(column)
    return spelled or " ".join(word[:1].upper() + word[1:] for word in column.split("_"))


COLUMNS = {"calls": CALLS_COLUMNS, "calls_legacy": CALLS_LEGACY_COLUMNS, "contacts": CONTACTS_COLUMNS,
           "user_status": USER_STATUS_COLUMNS}
# Which field each malformation touches, per report shape: (start field, end field, a duration field).
MALFORMED_FIELDS = {
    "calls": ("start_at", "end_at", "talk_time"),
    "calls_legacy": ("start_time", "end_time", "talk_time"),
    "contacts": ("started_at", "finished_at", "talk_time"),
    "user_status": ("status_start_at", "status_end_at", "status_time"),
}
# Which fields the poisons touch, per report shape: (a name the pipelines ignore, a text they use).
# The legacy calls shape names its agent `agent_name` and its queues `tags` (joined with "+").
POISON_FIELDS = {
    "calls": ("user_name", "ring_groups"),
    "calls_legacy": ("agent_name", "tags"),
    "contacts": ("user_name", "ring_groups"),
    "user_status": ("user_name", "status_label"),
}
POISON_UNUSED_SURROGATE = "\ud83d"
POISON_USED_SURROGATE = "\udc00"
POISON_NUL = "\x00"
POISON_DURATION = 1e300
POISON_START = 365 * 86_400       # 1971-01-01T00:00:00Z
POISON_STATUS_END = POISON_START + 600


def format_timestamps(seconds: np.ndarray, style: str) -> list[str]:
    """UTC timestamps: iso `2026-04-23T10:22:26Z`, legacy `2016-01-29 10:22:02` or offset `...+00:00`."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    if style == "legacy":
        return [t.replace("T", " ") for t in text.tolist()]
    suffix = "Z" if style == "iso" else "+00:00"
    return [t + suffix for t in text.tolist()]


def timestamp_column(seconds: np.ndarray, style: str, present: np.ndarray | None = None) -> Column:
    """Timestamps, each distinct second formatted once; rows outside `present` (when given) hold None."""
    distinct, codes = np.unique(seconds, return_inverse=True)
    values = format_timestamps(distinct, style)
    if present is not None:
        codes = np.where(present, codes, len(values))
        values.append(None)
    return Column(Vocabulary(values), codes)


def _hex_ids(first: np.ndarray, second: np.ndarray) -> list[str]:
    raw = np.stack([first, second], axis=1).astype(">u8").tobytes().hex()
    return [raw[i: i + 32] for i in range(0, len(raw), 32)]


def _business_hours(seconds: np.ndarray) -> np.ndarray:
    hour = (seconds % DAY) // 3600
    weekday = (seconds // DAY + 3) % 7
    return (hour >= 7) & (hour < 20) & (weekday < 5)


def _flags(mask: np.ndarray) -> np.ndarray:
    """Codes into a two-value vocabulary ordered (when false, when true)."""
    return mask.astype(np.intp)


# Vocabularies of fixed values: their texts are encoded once per process.
CALL_TYPE_VOCABULARY = Vocabulary(CALL_TYPES)
CONTACT_TYPE_VOCABULARY = Vocabulary(CONTACT_TYPES)
STATUS_LABEL_VOCABULARY = Vocabulary(STATUS_LABELS)
DISPOSITION_VOCABULARY = Vocabulary((*DISPOSITIONS, None))  # None: no disposition (the last code)
DISPOSITION_SET_VOCABULARY = Vocabulary(("Outbound", "Inbound", None))
BOOLEANS = Vocabulary((False, True))
NO_YES = Vocabulary(("No", "Yes"))
OUT_IN = Vocabulary(("OUT", "IN"))
FALSE_TRUE_TEXT = Vocabulary(("FALSE", "TRUE"))


class EntryRenderer:
    """The fields of each report shape as columns (see text_columns.py), in the order of its COLUMNS.

    Directory values are vocabularies indexed by agent or queue; index -1 (no agent, no queue) is their
    trailing entry.
    """

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        agents = directory.agents
        teams = directory.teams
        self.agent_id = Vocabulary([a.id for a in agents] + [None])
        self.agent_name = Vocabulary([a.name for a in agents] + [None])
        self.agent_email = Vocabulary([a.email for a in agents] + [None])
        self.agent_active = Vocabulary([a.active for a in agents] + [False])
        self.team_id = Vocabulary([teams[a.team_index].id for a in agents] + [None])
        self.team_name = Vocabulary([teams[a.team_index].name for a in agents] + [None])
        queue_names = [q.name for q in directory.queues] + [""]
        self.queue_name = Vocabulary(queue_names)
        self.queue_display_name = Vocabulary([name or "main" for name in queue_names])
        self.queue_number = Vocabulary([q.phone_number for q in directory.queues] + [MAIN_NUMBER])
        self.queue_wait_threshold = np.array([q.wait_time_threshold for q in directory.queues] + [20])
        self.agent_ring_groups = Vocabulary(
            [json.dumps([directory.queues[q].name for q in member_of]) for member_of in directory.memberships] + ["[]"])

    # -- helpers -----------------------------------------------------------------------------------
    def first_queue_names(self, contacts: Contacts) -> list[str]:
        return self.queue_name.values[contacts.queue1].tolist()

    def _ring_groups(self, contacts: Contacts, separator: str) -> Column:
        """The contact's queue names joined by `separator`, built once per distinct pair of queues."""
        width = len(self.queue_name)  # queue index + 1: 0 stands for "no queue" (-1)
        pairs = (contacts.queue1.astype(np.int64) + 1) * width + (contacts.queue2.astype(np.int64) + 1)
        distinct, codes = np.unique(pairs, return_inverse=True)
        first = self.queue_name.values[distinct // width - 1].tolist()
        second = self.queue_name.values[distinct % width - 1].tolist()
        return Column(Vocabulary([a + separator + b if b else a for a, b in zip(first, second)]), codes)

    @staticmethod
    def _phones(contacts: Contacts) -> Column:
        return Column.per_row(["+1" + str(p) for p in contacts.phone.tolist()])

    # -- report shapes -----------------------------------------------------------------------------
    def calls(self, c: Contacts, style: str, wait_fields: str = "wait_time") -> list[Column]:
        n = len(c)
        agent = c.agent  # -1 indexes the trailing None
        answered_inbound = c.kind == INBOUND
        abandoned = (c.kind == ABANDONED) | (c.kind == SHORT_ABANDONED)
        outbound = (c.kind == OUTBOUND) | (c.kind == OUTBOUND_MISSED)
        connected = answered_inbound | (c.kind == OUTBOUND)
        ringing = np.select([answered_inbound, c.kind == MISSED, outbound],
                            [np.minimum(c.wait, 4 + (c.id_lo % 8).astype(np.int64)), c.wait, c.ring], 0)
        disposition = np.where(connected, (c.id_hi % len(DISPOSITIONS)).astype(np.intp), len(DISPOSITIONS))
        handled = np.where(connected, agent, -1)
        # specific_only: an abandon's wait is carried by abandon_time alone (missed and voicemail have no
        # other field in this shape, so they keep wait_time).
        wait = np.where(abandoned, 0, c.wait) if wait_fields == "specific_only" else c.wait
        return [
            Column.per_row(_hex_ids(c.id_hi, c.id_lo)), Column.per_row(["CA" + h for h in _hex_ids(c.id_lo, c.id_hi)]),
            Column(CALL_TYPE_VOCABULARY, c.kind), timestamp_column(c.start, style), timestamp_column(c.end, style),
            Column(self.queue_number, c.queue1), Column(self.queue_display_name, c.queue1), self._phones(c),
            Column(self.agent_id, agent), Column(self.agent_name, agent), Column(self.agent_email, agent),
            Column.numbers(c.end - c.start), Column.numbers(c.talk), Column.numbers(wait), Column.numbers(c.hold),
            Column.numbers(np.where(abandoned, c.wait, 0)), Column.numbers(ringing),
            Column(DISPOSITION_VOCABULARY, disposition), Column.fixed(None, n), Column.fixed(0, n),
            self._ring_groups(c, ","), Column.fixed("", n), Column(BOOLEANS, _flags(_business_hours(c.start))),
            Column.fixed(False, n), Column.fixed(False, n),
            Column(self.agent_id, handled), Column(self.agent_name, handled), Column(self.agent_email, handled),
            Column.fixed(False, n), Column.fixed(False, n), Column.fixed(False, n),
            Column.fixed(None, n), Column.fixed("", n),
            Column(self.team_id, agent), Column(self.team_name, agent), Column.fixed("", n),
            Column.fixed("No", n), Column.fixed("Valid", n),
            Column(DISPOSITION_SET_VOCABULARY, np.where(outbound, 0, np.where(answered_inbound, 1, 2))),
            Column.fixed(None, n),
        ]

    def calls_legacy(self, c: Contacts, style: str) -> list[Column]:
        """The "Explore UI" shape (talkdesk_emulator/README.md#the-older-calls-shape): durations as
        fractional days, `tags` joined with '+'."""
        agent = c.agent
        return [
            Column.per_row(_hex_ids(c.id_hi, c.id_lo)), Column(CALL_TYPE_VOCABULARY, c.kind),
            timestamp_column(c.start, style), timestamp_column(c.end, style),
            self._phones(c), Column(self.queue_number, c.queue1),
            Column.numbers(c.talk / DAY), Column.numbers(c.wait / DAY), Column.numbers(c.hold / DAY),
            Column.numbers(np.where(c.kind == INBOUND, c.wait, 0) / DAY),
            Column(FALSE_TRUE_TEXT, _flags(_business_hours(c.start))), self._ring_groups(c, "+"),
            Column(self.team_name, agent), Column(self.agent_name, agent), Column(self.agent_id, agent),
        ]

    def contacts(self, c: Contacts, style: str, wait_fields: str = "wait_time") -> list[Column]:
        n = len(c)
        agent = c.agent
        answered = c.kind == INBOUND
        connected = answered | (c.kind == OUTBOUND)
        answered_at = timestamp_column(np.where(c.answered >= 0, c.answered, c.start), style, present=connected)
        in_service_level = Column(NO_YES, _flags(answered & (c.wait <= self.queue_wait_threshold[c.queue1])))
        only = lambda kind: Column.numbers(np.where(c.kind == kind, c.wait, 0))  # noqa: E731
        # specific_only: a contact never answered carries its wait only in the field of its outcome.
        never_answered = np.isin(c.kind, (ABANDONED, SHORT_ABANDONED, MISSED, VOICEMAIL))
        wait = np.where(never_answered, 0, c.wait) if wait_fields == "specific_only" else c.wait
        return [
            Column.per_row(_hex_ids(c.id_hi, c.id_lo)), Column.per_row(_hex_ids(c.id_lo ^ c.id_hi, c.id_hi)),
            Column(self.queue_number, c.queue1), Column(self.queue_display_name, c.queue1), self._phones(c),
            Column(OUT_IN, _flags(c.kind < OUTBOUND)), Column(CONTACT_TYPE_VOCABULARY, c.kind),
            timestamp_column(c.start, style), Column.numbers(wait), only(MISSED), only(ABANDONED),
            only(SHORT_ABANDONED), only(VOICEMAIL), Column.numbers(c.ring), answered_at, answered_at,
            Column.numbers(c.talk), Column.numbers(c.hold), Column.fixed(0, n), Column.numbers(c.hold),
            Column.numbers(c.acw), timestamp_column(c.end, style), Column.numbers(c.end - c.start),
            Column.numbers(c.talk + c.hold + c.acw), Column(NO_YES, _flags(_business_hours(c.start))),
            in_service_level, in_service_level, Column.fixed("No", n), Column.fixed("No", n),
            self._ring_groups(c, ","), Column(self.agent_name, agent), Column.fixed(None, n),
            Column(self.team_name, agent), Column(self.agent_id, agent), Column(self.team_id, agent),
            Column(self.queue_name, np.where(answered, c.queue1, -1)),
        ]

    def user_status(self, s: Segments, style: str) -> list[Column]:
        agent = s.agent
        return [
            Column(self.agent_name, agent), Column(self.agent_email, agent), Column(self.agent_id, agent),
            Column(STATUS_LABEL_VOCABULARY, s.label), timestamp_column(s.start, style),
            timestamp_column(s.end, style), Column.numbers(s.end - s.start), Column(self.agent_active, agent),
            Column(self.team_id, agent), Column(self.team_name, agent), Column(self.agent_ring_groups, agent),
        ]


def _hashed_mask(keys: np.ndarray, rate: float, multiplier: int) -> np.ndarray:
    if rate <= 0:
        return np.zeros(len(keys), dtype=bool)
    mixed = (keys.astype(np.uint64) * np.uint64(multiplier)) >> np.uint64(40)
    return (mixed.astype(np.float64) / float(1 << 24)) < rate


def malformed_mask(keys: np.ndarray, rate: float) -> np.ndarray:
    """Deterministic choice of entries to corrupt: a hash of each entry's key compared with the rate."""
    return _hashed_mask(keys, rate, 0x9E3779B97F4A7C15)


def poison_mask(keys: np.ndarray, rate: float) -> np.ndarray:
    """Deterministic choice of entries to poison; another multiplier, so not the entries malformed_mask picks."""
    return _hashed_mask(keys, rate, 0xC2B2AE3D27D4EB4F)


def corrupt(entries: list[dict[str, Any]], mask: np.ndarray, keys: np.ndarray, shape: str) -> None:
    """Replace chosen entries by malformed ones: a missing start, an unparseable end, or a negative duration."""
    start_field, end_field, duration_field = MALFORMED_FIELDS[shape]
    for index in np.flatnonzero(mask).tolist():
        entry = entries[index]
        how = int(keys[index] % np.uint64(3))
        if how == 0:
            entry.pop(start_field, None)
        elif how == 1:
            entry[end_field] = UNPARSEABLE_TIMESTAMP
        else:
            value = entry.get(duration_field) or 0
            entry[duration_field] = -abs(value) - 1 if isinstance(value, int) else -abs(float(value)) - 1.0 / DAY


def poison(entries: list[dict[str, Any]], mask: np.ndarray, keys: np.ndarray, shape: str, style: str,
           first_queues: list[str] | None, for_csv: bool) -> None:
    """Give each chosen entry ONE poison, picked by key % 5: values a parser must survive or reject.

    0. a lone UTF-16 surrogate U+D83D appended to the agent's name (`user_name`; legacy calls `agent_name`),
       a field the pipelines do not use;
    1. a lone surrogate U+DC00 appended to the first queue name in `ring_groups` (legacy calls `tags`), or to
       `status_label` for user_status: a field they use;
    2. a NUL character appended to the same field as 1;
    3. an absurd duration: `talk_time` (calls in both shapes, contacts) or `status_time` (user_status) = 1e300;
    4. a start far outside the window: `start_at` / `start_time` / `started_at` = 1971-01-01T00:00:00Z; for
       user_status `status_start_at` / `status_end_at` = 1971-01-01T00:00:00Z / 1971-01-01T00:10:00Z
       (in the job's timestamp style).
    JSON escapes the surrogates and the NUL (`\\ud83d`, `\\u0000`). A CSV file is UTF-8 and cannot carry a lone
    surrogate, so in CSV poisons 0 and 1 become poison 2. `first_queues` are the entries' first queue names
    (None for user_status), so a queue name containing the separator is still poisoned after its own end.
    """
    name_field, used_field = POISON_FIELDS[shape]
    start_field, end_field, duration_field = MALFORMED_FIELDS[shape]
    start_text, status_end_text = format_timestamps(np.array([POISON_START, POISON_STATUS_END]), style)
    for index in np.flatnonzero(mask).tolist():
        entry = entries[index]
        how = int(keys[index] % np.uint64(5))
        if for_csv and how in (0, 1):
            how = 2
        if how == 0:
            entry[name_field] = (entry.get(name_field) or "") + POISON_UNUSED_SURROGATE
        elif how in (1, 2):
            mark = POISON_USED_SURROGATE if how == 1 else POISON_NUL
            text = entry.get(used_field) or ""
            cut = len(first_queues[index]) if first_queues is not None else len(text)
            entry[used_field] = text[:cut] + mark + text[cut:]
        elif how == 3:
            entry[duration_field] = POISON_DURATION
        else:
            entry[start_field] = start_text
            if shape == "user_status":
                entry[end_field] = status_end_text


def chunked(total: int, size: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    for first in range(0, total, size):
        yield np.arange(first, min(first + size, total))
