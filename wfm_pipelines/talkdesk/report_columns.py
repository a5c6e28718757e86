"""The documented fields of the reports we read, and how a CSV header's names are mapped onto them.

Talkdesk documents every report's fields by their JSON keys (`call_id`, `start_at`, `ring_groups`) and shows no
CSV header anywhere. What is public suggests a CSV header may instead carry the display names Explore builds its
columns from: a public extractor reads a `calls` CSV by `Call Id` and `Recording Url`, some reports' JSON keys are
display names snake-cased with their punctuation kept (`in_business_hours?`, `transfer?`, `wrap-up_duration`), and
Talkdesk's data dictionary names columns like "Contact ID" and "Contact Started At". Both spellings are read:

- a header name that is a documented field is taken as it is;
- otherwise its generic form (`generic_name`: lower case, every run of spaces and punctuation one `_`, none at
  either end) is compared with the generic form of each documented field: `Call Id`, `Start At`, `Ring Groups`
  and `In Business Hours?` become `call_id`, `start_at`, `ring_groups` and `in_business_hours?`;
- otherwise `DISPLAY_NAME_EXCEPTIONS` names the field, for the few display names that do not follow that rule.

Once a header needed any of this (a display-name header), every name of it that matches no documented field is
given its generic form too, so its raw entries are named as a snake_case header would name them. A header that
still names none of `HEADER_FIELDS` is not read as data at all (`report_files`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The documented fields of `calls` (its current shape and the older "Explore UI" shape, which Talkdesk served
# until 2026-05-11 and may still serve some accounts), `explore_calls`, `contacts` and `user_status`: the JSON
# keys of Talkdesk's report pages.
CALLS_FIELDS = (
    "call_id", "callsid", "type", "start_at", "end_at", "talkdesk_phone_number", "talkdesk_phone_display_name",
    "contact_phone_number", "user_id", "user_name", "user_email", "total_time", "talk_time", "wait_time",
    "hold_time", "abandon_time", "total_ringing_time", "disposition_code", "notes", "user_voice_rating",
    "ring_groups", "ivr_options", "is_in_business_hours", "is_callback_from_queue", "is_transfer",
    "handling_user_id", "handling_user_name", "handling_user_email", "recording_url", "is_external_transfer",
    "is_if_no_answer", "is_call_forwarding", "csat_score", "csat_survey_time", "team_id", "team_name",
    "rating_reason", "agent_disconnected", "data_status", "disposition_set", "nested_disposition", "mood",
    "is_mood_prompted",
)
EXPLORE_CALLS_FIELDS = (
    "interaction_id", "call_type", "start_time", "end_time", "customer_phone_number", "talkdesk_phone_number",
    "talk_time", "waiting_time", "holding_time", "agent_speed_to_answer", "in_business_hours?", "transfer?", "tags",
    "team", "agent_name", "user_id",
)
CONTACTS_FIELDS = (
    "interaction_id", "contact_id", "company_number", "phone_display_name", "contact_person_number",
    "external_phone_number", "direction", "contact_type", "started_at", "wait_time", "time_to_missed",
    "abandon_time", "short_abandon_time", "time_to_voicemail", "ring_time", "connect_time", "answered_at",
    "connected_at", "talk_time", "hard_hold_time", "soft_hold_time", "hold_time", "after_call_work_time",
    "finished_at", "duration", "handle_time", "inside_business_hours", "inside_service_level",
    "within_service_level_threshold", "transfer_out", "transfer_out_type", "transfer_in", "transfer_in_type",
    "callback", "ring_groups", "user_name", "direct_assignment_user", "team_name", "user_id",
    "direct_assignment_ids", "team_id", "handling_ring_groups",
)
USER_STATUS_FIELDS = (
    "user_name", "user_email", "user_id", "status_label", "status_start_at", "status_end_at", "status_time",
    "is_user_active", "team_id", "team_name", "ring_groups",
)
DOCUMENTED_FIELDS: dict[str, tuple[str, ...]] = {
    "calls": tuple(dict.fromkeys(CALLS_FIELDS + EXPLORE_CALLS_FIELDS)),
    "explore_calls": tuple(dict.fromkeys(EXPLORE_CALLS_FIELDS + CALLS_FIELDS)),
    "contacts": CONTACTS_FIELDS,
    "user_status": USER_STATUS_FIELDS,
}
# Columns one of which a CSV header of each report type must name (after mapping); a first row without any of
# them is data or an unknown layout, not a header we can read.
HEADER_FIELDS: dict[str, frozenset[str]] = {
    "calls": frozenset({"call_id", "callsid", "type", "start_at", "interaction_id", "call_type", "start_time"}),
    "explore_calls": frozenset({"interaction_id", "call_type", "start_time", "call_id", "start_at"}),
    "contacts": frozenset({"contact_id", "interaction_id", "contact_type", "started_at", "direction"}),
    "user_status": frozenset({"user_id", "status_label", "status_start_at", "status_end_at"}),
}
# Display names whose generic form is not the generic form of their field, by report type: generic form -> field.
DISPLAY_NAME_EXCEPTIONS: dict[str, dict[str, str]] = {
    # Talkdesk's data dictionary names the contact's start "Contact Started At" (its JSON key is `started_at`).
    "contacts": {"contact_started_at": "started_at"},
}

SNAKE_CASE = "snake_case"
DISPLAY_NAMES = "display-name"
_NOT_A_WORD = re.compile(r"[^0-9a-z]+")


def generic_name(name: str) -> str:
    """`In Business Hours?` -> `in_business_hours`, `wrap-up_duration` -> `wrap_up_duration`."""
    return _NOT_A_WORD.sub("_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class HeaderReading:
    """How a CSV header was read: the column names the entries get, and which spelling the header used."""

    names: tuple[str, ...]
    style: str  # SNAKE_CASE: the names are the JSON keys; DISPLAY_NAMES: at least one had to be mapped
    names_a_documented_field: bool


def read_header(report_type: str, written: list[str]) -> HeaderReading:
    """Map a CSV header's names (as written, surrounding spaces ignored) onto the report's documented fields."""
    documented = DOCUMENTED_FIELDS.get(report_type, ())
    by_generic = {generic_name(field): field for field in reversed(documented)}  # the first spelling wins
    by_generic.update(DISPLAY_NAME_EXCEPTIONS.get(report_type, {}))
    stripped = [name.strip() for name in written]
    known = set(documented)
    mapped: list[str | None] = []
    for name in stripped:
        if name in known:
            mapped.append(name)
        else:
            mapped.append(by_generic.get(generic_name(name)))
    renamed = any(field is not None and field != name for field, name in zip(mapped, stripped))
    names: list[str] = []
    for position, (name, field) in enumerate(zip(stripped, mapped), start=1):
        # A display-name header's other names take the form a snake_case header would give them. A name is never
        # taken twice: a header naming a field in both spellings keeps the second as written, or numbered.
        wanted = field if field is not None else (generic_name(name) or name) if renamed else name
        wanted = wanted if wanted not in names else name
        names.append(wanted if wanted not in names else f"{wanted}_{position}")
    expected = HEADER_FIELDS.get(report_type)
    names_field = bool(any(names)) and (expected is None or bool(expected.intersection(names)))
    return HeaderReading(tuple(names), DISPLAY_NAMES if renamed else SNAKE_CASE, names_field)
