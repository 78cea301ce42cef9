"""Flat JSON objects cut into text columns by one compiled pass over a column's bytes.

A line is *plain* when it is one JSON object whose keys and string values hold no escape and no control
character, whose values are strings, numbers or null, and which names no field twice. For such a line the
text of a field is the very text a decoder would read, so the pass reports, per line and field, the kind
of value (absent, null, string, or a number and its shape) and the text itself, as an Arrow string view
into the column's own bytes: nothing is copied. It decides nothing else: which kinds and texts a field
may take is the caller's rule, and a line that is not plain is left to a real decoder.

The pass is compiled once by numba (cached on disk) and releases the GIL, so a column is cut in as many
pieces as there are cores.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np
import polars as pl
import pyarrow as pa

# Kinds of value; a number's kind also carries its shape (``NUMBER | MINUS``: a negative integer).
ABSENT, NULL, STRING, NUMBER = 0, 1, 2, 3
MINUS, FRACTION, EXPONENT = 4, 8, 16
_KIND = 3  # the bits of a kind that say absent, null, string or number

_SPACE, _TAB, _NEWLINE, _RETURN = 32, 9, 10, 13
_QUOTE, _BACKSLASH, _COLON, _COMMA, _OPEN, _CLOSE = 34, 92, 58, 44, 123, 125
_ZERO, _NINE, _DOT, _PLUS, _DASH, _E, _LOWER_E, _N, _U, _L = 48, 57, 46, 43, 45, 69, 101, 110, 117, 108
# A string view holds up to 12 bytes itself; a longer one points into a buffer with a signed 32-bit offset.
_INLINE = 12
_PIECE_BYTES = 1 << 30


def compiled(function):
    """Compiled on first use and kept on disk for the next process; compiled in every process only where no
    cache folder is writable (``NUMBA_CACHE_DIR``, else next to this file, else the user's cache)."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # numba found no folder to cache in
        return numba.njit(nogil=True)(function)


@compiled
def _skip_space(data, pos, end):
    while pos < end:
        byte = data[pos]
        if byte != _SPACE and byte != _TAB and byte != _NEWLINE and byte != _RETURN:
            break
        pos += 1
    return pos


@compiled
def _string_end(data, pos, end):
    """The closing quote of a string whose text starts at ``pos``, or -1 if the string is not plain."""
    while pos < end:
        byte = data[pos]
        if byte == _QUOTE:
            return pos
        if byte == _BACKSLASH or byte < _SPACE:
            return -1
        pos += 1
    return -1


@compiled
def _digits_end(data, pos, end):
    while pos < end and _ZERO <= data[pos] <= _NINE:
        pos += 1
    return pos


@compiled
def _number_end(data, pos, end):
    """(end, kind) of the JSON number at ``pos`` by the grammar of RFC 8259, or (-1, 0)."""
    kind = NUMBER
    if data[pos] == _DASH:
        kind |= MINUS
        pos += 1
    if pos >= end or not _ZERO <= data[pos] <= _NINE:
        return -1, 0
    pos = pos + 1 if data[pos] == _ZERO else _digits_end(data, pos, end)
    if pos < end and data[pos] == _DOT:
        kind |= FRACTION
        digits = pos + 1
        pos = _digits_end(data, digits, end)
        if pos == digits:
            return -1, 0
    if pos < end and (data[pos] == _E or data[pos] == _LOWER_E):
        kind |= EXPONENT
        pos += 1
        if pos < end and (data[pos] == _PLUS or data[pos] == _DASH):
            pos += 1
        digits = pos
        pos = _digits_end(data, digits, end)
        if pos == digits:
            return -1, 0
    return pos, kind


@compiled
def _named(data, start, stop, names, name_lengths, field):
    if name_lengths[field] != stop - start:
        return False
    for k in range(stop - start):  # noqa: SIM110  (numba compiles a loop, not a generator)
        if data[start + k] != names[field, k]:
            return False
    return True


@compiled
def _key_hash(data, start, stop):
    return ((stop - start) * 31 + data[start] * 7 + data[start + 1] * 3 + data[stop - 1]) & 255


@compiled
def _field_of(data, start, stop, names, name_lengths, by_hash):
    """The field a key names, or -1: its hash's field first, every field when that is not it."""
    if stop - start >= 2:
        guess = by_hash[_key_hash(data, start, stop)]
        if guess >= 0 and _named(data, start, stop, names, name_lengths, guess):
            return guess
    for field in range(names.shape[0]):
        if _named(data, start, stop, names, name_lengths, field):
            return field
    return -1


@compiled
def _put_view(view_words, view_bytes, field, line, data, start, length):
    view_words[field, line, 0] = length
    for k in range(min(length, 4 if length > _INLINE else _INLINE)):
        view_bytes[field, line, 4 + k] = data[start + k]
    if length > _INLINE:
        view_words[field, line, 3] = start


@compiled
def _scan_line(data, pos, end, line, names, name_lengths, by_hash, kinds, view_words, view_bytes):
    """Whether the line from ``pos`` to ``end`` is plain; its fields' kinds and views are written as read."""
    pos = _skip_space(data, pos, end)
    if pos >= end or data[pos] != _OPEN:
        return False
    pos = _skip_space(data, pos + 1, end)
    while pos < end and data[pos] == _QUOTE:
        key_end = _string_end(data, pos + 1, end)
        if key_end < 0:
            return False
        field = _field_of(data, pos + 1, key_end, names, name_lengths, by_hash)
        pos = _skip_space(data, key_end + 1, end)
        if pos >= end or data[pos] != _COLON:
            return False
        pos = _skip_space(data, pos + 1, end)
        if pos >= end:
            return False
        start, byte = pos, data[pos]
        if byte == _QUOTE:
            value_end = _string_end(data, pos + 1, end)
            if value_end < 0:
                return False
            kind, start, pos = STRING, pos + 1, value_end + 1
        elif byte == _N:
            if end - pos < 4 or data[pos + 1] != _U or data[pos + 2] != _L or data[pos + 3] != _L:
                return False
            kind, pos = NULL, pos + 4
            value_end = start
        elif byte == _DASH or _ZERO <= byte <= _NINE:
            value_end, kind = _number_end(data, pos, end)
            if value_end < 0:
                return False
            pos = value_end
        else:  # true, false, an object or an array
            return False
        if field >= 0:
            if kinds[field, line] != ABSENT:
                return False
            kinds[field, line] = kind
            if kind != NULL:
                _put_view(view_words, view_bytes, field, line, data, start, value_end - start)
        pos = _skip_space(data, pos, end)
        if pos < end and data[pos] == _COMMA:
            pos = _skip_space(data, pos + 1, end)
            continue
        return pos < end and data[pos] == _CLOSE and _skip_space(data, pos + 1, end) == end
    return False


@compiled
def _scan(data, offsets, names, name_lengths, by_hash, plain, kinds, view_words, view_bytes):
    for line in range(offsets.shape[0] - 1):
        plain[line] = _scan_line(
            data,
            offsets[line],
            offsets[line + 1],
            line,
            names,
            name_lengths,
            by_hash,
            kinds,
            view_words,
            view_bytes,
        )


@dataclass(frozen=True)
class _Names:
    names: np.ndarray  # one row of bytes per field
    lengths: np.ndarray
    by_hash: np.ndarray  # key hash → a field with that hash, -1 for none

    @classmethod
    def of(cls, fields: tuple[str, ...]) -> "_Names":
        encoded = [field.encode() for field in fields]
        names = np.zeros((len(fields), max(map(len, encoded))), np.uint8)
        by_hash = np.full(256, -1, np.int64)
        for index, name in enumerate(encoded):
            names[index, : len(name)] = np.frombuffer(name, np.uint8)
            if len(name) >= 2:
                # In Python (bytes give Python ints, as numba's arithmetic is): no compiled call to load.
                slot = _key_hash.py_func(name, 0, len(name))
                by_hash[slot] = index if by_hash[slot] < 0 else by_hash[slot]
        return cls(names, np.array([len(name) for name in encoded], np.int64), by_hash)


_names_of = cache(_Names.of)


@dataclass(frozen=True)
class ScannedLines:
    plain: np.ndarray  # bool per line
    kinds: dict[str, np.ndarray]  # per field, uint8 per line
    text: pl.DataFrame  # per field, its text where it is a string or a number, else null


@cache
def _threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="ecom-plain-json")


def _pieces(offsets: np.ndarray, pieces: int) -> list[tuple[int, int]]:
    """Line ranges of about equal bytes, none over ``_PIECE_BYTES`` (a string view's offset is 32-bit)."""
    total = int(offsets[-1] - offsets[0])
    count = max(pieces, -(-total // _PIECE_BYTES))
    targets = offsets[0] + np.arange(1, count) * total // count
    cuts = np.unique(np.concatenate(([0], np.searchsorted(offsets, targets), [len(offsets) - 1])))
    # At least one piece, if empty, so that every column is there.
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)) or [(0, 0)]


def _scan_piece(data: np.ndarray, offsets: np.ndarray, names: _Names, fields: tuple[str, ...]):
    lines = len(offsets) - 1
    plain = np.zeros(lines, np.bool_)
    kinds = np.zeros((len(fields), lines), np.uint8)
    view_bytes = np.zeros((len(fields), lines, 16), np.uint8)
    _scan(
        data,
        offsets,
        names.names,
        names.lengths,
        names.by_hash,
        plain,
        kinds,
        view_bytes.view(np.int32),
        view_bytes,
    )
    buffer = pa.py_buffer(data)
    columns = {}
    for index, field in enumerate(fields):
        present = np.packbits((kinds[index] & _KIND) >= STRING, bitorder="little")
        views = pa.py_buffer(view_bytes[index])
        array = pa.Array.from_buffers(pa.string_view(), lines, [pa.py_buffer(present), views, buffer])
        columns[field] = pl.Series(field, array)
    return plain, kinds, pl.DataFrame(columns)


def text_bytes(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A string column's bytes and the offset of each text in them (Arrow does not promise that a null
    text is empty: callers mask nulls themselves)."""
    column = texts.to_arrow().cast(pa.large_string())
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    _, offset_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offset_buffer, np.int64)[column.offset : column.offset + len(column) + 1]
    return (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    ), offsets


def scan_objects(lines: pl.Series, fields: tuple[str, ...]) -> ScannedLines:
    """Which ``lines`` are plain JSON objects, and the kind and text of each of ``fields`` in them; a null
    line is not plain."""
    data, offsets = text_bytes(lines)
    names = _names_of(fields)
    # Each piece gets its own bytes, so that its views' offsets start at 0.
    jobs = [
        _threads().submit(
            _scan_piece, data[offsets[a] : offsets[b]], offsets[a : b + 1] - offsets[a], names, fields
        )
        for a, b in _pieces(offsets, os.cpu_count() or 1)
    ]
    plain, kinds, text = zip(*(job.result() for job in jobs), strict=True)
    stacked = np.concatenate(kinds, axis=1)
    return ScannedLines(
        plain=np.concatenate(plain) & lines.is_not_null().to_numpy(),
        kinds={field: stacked[index] for index, field in enumerate(fields)},
        text=pl.concat(text, rechunk=False),
    )
