"""Report entries as columns of text: each distinct value is encoded once, and rows are joined in bulk.

A column is a vocabulary of distinct Python values plus each row's code into it. Encoding a vocabulary gives
each value's JSON or CSV text with the field's separators around it, so a chunk of rows costs one array take
per column and one join, instead of a dict and a `json.dumps` (or a csv row) per entry. The texts are exactly
those `json.dumps` (default separators, ASCII) and `csv.writer` (excel dialect) give for the same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from json.encoder import encode_basestring_ascii  # what json.dumps applies to a str (ensure_ascii)
from typing import Any

import numpy as np

JSON, CSV = "json", "csv"
# The characters that make csv.writer (QUOTE_MINIMAL, excel dialect) quote a field: the delimiter, the quote
# character and those of the line terminator.
CSV_QUOTED_CHARACTERS = (",", '"', "\r", "\n")


def object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array holding `values` as they are (np.array would take a tuple value for a row)."""
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def json_text(value: Any) -> str:
    """`json.dumps(value)` for a str, int, float, bool or None."""
    return encode_basestring_ascii(value) if value.__class__ is str else json.dumps(value)


def csv_text(value: Any) -> str:
    """The field csv.writer writes for `value`; booleans are spelled true/false, None is an empty field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if any(character in value for character in CSV_QUOTED_CHARACTERS):
            return '"' + value.replace('"', '""') + '"'
        return value
    return str(value)  # csv.writer writes numbers as str() does (repr for a float: the same text)


def encode_values(values: list[Any], report_format: str) -> list[str]:
    """The text of each value. Columns of one type (ids, durations, timestamps) take faster paths to the
    same texts: an int is spelled the same in both formats, JSON text has one C encoder."""
    types = set(map(type, values))
    if types == {int}:
        return list(map(str, values))
    if report_format == JSON:
        return list(map(encode_basestring_ascii, values)) if types == {str} else list(map(json_text, values))
    if types == {str} and not any(character in "".join(values) for character in CSV_QUOTED_CHARACTERS):
        return values
    return list(map(csv_text, values))


class Vocabulary:
    """The distinct values of a column and their texts, encoded once per (format, separators around them).

    Vocabularies of the directory (agent names, queue numbers...) live as long as the renderer, so each of
    their values is encoded once per process; those built for one chunk (numbers, timestamps) die with it.
    """

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = object_array(values)
        self._texts: dict[tuple[str, str, str], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.values)

    def texts(self, report_format: str, prefix: str, suffix: str) -> np.ndarray:
        key = (report_format, prefix, suffix)
        texts = self._texts.get(key)
        if texts is None:  # two threads may both encode it: the same result, no lock needed
            encoded = encode_values(self.values.tolist(), report_format)
            if prefix or suffix:
                encoded = [prefix + text + suffix for text in encoded]
            texts = self._texts[key] = object_array(encoded)
        return texts


@lru_cache(maxsize=None, typed=True)  # typed: False and 0 are equal keys otherwise
def _fixed_vocabulary(value: Any) -> Vocabulary:
    return Vocabulary([value])


class Column:
    """One report field over a chunk of rows: row i holds `vocabulary.values[codes[i]]`.

    `codes` None means one value per row, in row order (ids, phone numbers: nothing to share). A `constant`
    column holds one fixed value (Column.fixed), the same in every chunk.
    """

    def __init__(self, vocabulary: Vocabulary, codes: np.ndarray | None = None, constant: bool = False) -> None:
        self.vocabulary = vocabulary
        self.codes = codes
        self.constant = constant

    @classmethod
    def per_row(cls, values: list[Any]) -> Column:
        return cls(Vocabulary(values))

    @classmethod
    def fixed(cls, value: Any, rows: int) -> Column:
        return cls(_fixed_vocabulary(value), np.zeros(rows, dtype=np.intp), constant=True)

    @classmethod
    def numbers(cls, values: np.ndarray) -> Column:
        """Numbers, each distinct one encoded once (durations repeat a lot within a chunk)."""
        if values.dtype == np.float64:
            # Distinct bit patterns: np.unique would take -0.0 and 0.0 for one value, yet they print apart.
            distinct_bits, codes = np.unique(values.view(np.int64), return_inverse=True)
            return cls(Vocabulary(distinct_bits.view(np.float64).tolist()), codes)
        distinct, codes = np.unique(values, return_inverse=True)
        return cls(Vocabulary(distinct.tolist()), codes)

    def __len__(self) -> int:
        return len(self.vocabulary) if self.codes is None else len(self.codes)

    def value(self, row: int) -> Any:
        """The Python value of one row, as an entry dict holds it."""
        return self.vocabulary.values[row if self.codes is None else self.codes[row]]

    def texts(self, report_format: str, prefix: str = "", suffix: str = "") -> np.ndarray:
        """Each row's text in `report_format` between `prefix` and `suffix`, as an object array."""
        texts = self.vocabulary.texts(report_format, prefix, suffix)
        return texts if self.codes is None else texts[self.codes]


def field_texts(columns: list[Column], separators: list[tuple[str, str]], report_format: str) -> np.ndarray:
    """Each row's field texts in `report_format`, as a (rows, pieces) object matrix whose row-major join is
    the text of the rows. `separators` are the (before, after) texts of each field.

    A fixed column is folded into the text after the field before it: one piece fewer per row to join, and
    the folded suffix is the same in every chunk, so a directory vocabulary encodes it once.
    """
    pieces: list[tuple[Column, str, str]] = []
    for column, (before, after) in zip(columns, separators):
        if column.constant and pieces:
            previous, previous_before, previous_after = pieces[-1]
            fixed_text = column.vocabulary.texts(report_format, before, after)[0]
            pieces[-1] = (previous, previous_before, previous_after + fixed_text)
        else:
            pieces.append((column, before, after))
    fields = np.empty((len(columns[0]), len(pieces)), dtype=object)
    for position, (column, before, after) in enumerate(pieces):
        fields[:, position] = column.texts(report_format, before, after)
    return fields
