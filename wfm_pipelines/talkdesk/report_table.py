"""Report entries as one Arrow table of text columns: the shape every report file is parsed into, and the
shape its entries are kept in (the raw store's Parquet files).

Every field is text, exactly as a CSV report gives it: a JSON report's numbers and booleans become their JSON
text, nested values their compact JSON, a missing field or a JSON null becomes null. The counting rules read
text either way (`parsing.reports`), so a CSV and a JSON report of the same entries give the same rows.

Arrow text is UTF-8, and a JSON report can carry a lone surrogate ("\\ud800") that UTF-8 cannot hold: such a
character is replaced by U+FFFD and the field is named in the entry's `BROKEN_COLUMN` (comma-separated), so
the parsers still treat a broken character in a used field as malformed, and one in an unused field as harmless.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import pyarrow as pa

# Columns the pipeline adds to a kept entry; a Talkdesk field never starts with "_wfm_".
OWNER_COLUMN = "_wfm_owner_at"      # timestamp[us, UTC]: the time that owns the entry (contact start, status end)
KEY_COLUMN = "_wfm_entry_key"       # the entry's key within its report type
BROKEN_COLUMN = "_wfm_broken_fields"  # fields whose text held a character UTF-8 cannot carry
NOT_AN_OBJECT = "_not_an_object"    # an entry that is not a JSON object, as its JSON text
PIPELINE_COLUMNS = (OWNER_COLUMN, KEY_COLUMN)
OWNER_TYPE = pa.timestamp("us", tz="UTC")

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False, default=str).encode


def value_text(value: Any) -> str | None:
    """One JSON value as the text a CSV report would give: strings as they are, null as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _ENCODE(value)  # floats in their JSON spelling (1e-05, Infinity), lists and objects compact


def _utf8_safe(text: str) -> tuple[str, bool]:
    """(text UTF-8 can carry, whether a character had to be replaced)."""
    if text.isascii():
        return text, False
    try:
        text.encode("utf-8")
        return text, False
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text), True


# Arrow types a column of decoded JSON values may take and still be spelled as `value_text` spells them when cast to
# text (`12`, `true`); any other (floats, lists, objects, a mix) is spelled value by value.
_CASTS_AS_JSON_TEXT = (pa.int64(), pa.bool_(), pa.null())


def _field_values(entries: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    try:
        return list(map(itemgetter(name), entries))  # every entry has the field: one pass in C
    except KeyError:
        return [entry.get(name) for entry in entries]


def _text_column(values: list[Any], name: str, broken_fields: dict[int, list[str]]) -> pa.Array:
    """One field's values as text. Arrow converts a column of strings (or of integers, or of booleans) at once;
    a column of other or mixed types, or with a character UTF-8 cannot carry, is converted value by value."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowException, UnicodeEncodeError, TypeError, ValueError, OverflowError):
        pass
    try:
        inferred = pa.array(values)
        if inferred.type in _CASTS_AS_JSON_TEXT:
            return inferred.cast(pa.string())
    except (pa.ArrowException, UnicodeEncodeError, TypeError, ValueError, OverflowError):
        pass
    texts: list[str | None] = [None] * len(values)
    for row, value in enumerate(values):
        text = value_text(value)
        if text is not None and not text.isascii():
            text, was_broken = _utf8_safe(text)
            if was_broken:
                broken_fields.setdefault(row, []).append(name)
        texts[row] = text
    return pa.array(texts, type=pa.string())


def entries_to_table(entries: Sequence[Mapping[str, Any] | Any]) -> pa.Table:
    """Decoded JSON entries (dicts) -> a table with one text column per field, in order of first appearance.

    Built a field at a time, not an entry at a time: a day's report is millions of values, and Arrow converts a
    list of strings (or integers, or booleans) in one call."""
    if not entries:
        return pa.table({})
    objects = [entry if isinstance(entry, Mapping) else {NOT_AN_OBJECT: _ENCODE(entry)} for entry in entries]
    first = objects[0].keys()
    if all(entry.keys() == first for entry in objects):  # Talkdesk writes every entry with the same fields
        names = [str(name) for name in first]
    else:
        seen: dict[Any, None] = {}
        for entry in objects:
            seen.update(dict.fromkeys(entry))
        names = [str(name) for name in seen]
    broken_fields: dict[int, list[str]] = {}
    arrays = {name: _text_column(_field_values(objects, name), name, broken_fields) for name in names}
    if broken_fields:
        broken = [None] * len(objects)
        for row, fields in broken_fields.items():
            broken[row] = ",".join(fields)
        arrays[BROKEN_COLUMN] = pa.array(broken, type=pa.string())
    return pa.table(arrays)


def row_json(table: pa.Table, rows: Sequence[int]) -> list[str]:
    """Chosen rows as compact JSON objects of their non-null text fields (pipeline columns left out): how a
    malformed entry is shown and stored."""
    fields = [name for name in table.column_names if not name.startswith("_wfm_")]
    picked = table.select(fields).take(pa.array(rows, type=pa.int64())).to_pylist() if len(rows) else []
    return [_ENCODE({key: value for key, value in entry.items() if value is not None}) for entry in picked]
