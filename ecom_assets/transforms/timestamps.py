"""Event timestamps (RFC 3339 text) to UTC instants in microseconds.

The contract's shape, ``2026-09-01T10:00:00.123Z`` or ``...+02:00``, is read by polars' strptime after a
regular expression has checked it. Nearly every timestamp has the plain form (a date from 1970 on, a
second below 60, an offset within ±18:00), which a compiled pass reads in one go, to the same instant;
everything else (a leap second, an odd offset, text the expression may refuse) still goes through polars.
"""

import numpy as np
import polars as pl

from ecom_assets.transforms.plain_json import compiled, text_bytes

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
_MICROS = 1_000_000
_DAY_MICROS = 86_400 * _MICROS


@compiled
def _number(data, start, digits):
    """The decimal number of ``digits`` digits at ``start``, or -1 if one is not a digit."""
    value = 0
    for pos in range(start, start + digits):
        digit = data[pos] - 48
        if digit < 0 or digit > 9:
            return -1
        value = value * 10 + digit
    return value


@compiled
def _days_since_epoch(year, month, day):
    """Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


@compiled
def _month_days(year, month):
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


@compiled
def _plain_instant(data, start, end):
    """Microseconds since the epoch of a plain timestamp, or -1 when it is not one."""
    if end - start < 20 or data[start + 4] != 45 or data[start + 7] != 45 or data[start + 10] != 84:
        return -1
    if data[start + 13] != 58 or data[start + 16] != 58:
        return -1
    year, month, day = _number(data, start, 4), _number(data, start + 5, 2), _number(data, start + 8, 2)
    hour, minute, second = (
        _number(data, start + 11, 2),
        _number(data, start + 14, 2),
        _number(data, start + 17, 2),
    )
    if year < 1970 or month < 1 or month > 12 or day < 1 or hour > 23 or minute > 59 or second > 59:
        return -1
    if second < 0 or hour < 0 or minute < 0 or day > _month_days(year, month):
        return -1
    pos, micros = start + 19, 0
    if data[pos] == 46:  # a fraction of 1 to 9 digits, of which microseconds keep the first 6
        digits = 0
        pos += 1
        while pos < end and 48 <= data[pos] <= 57 and digits < 9:
            if digits < 6:
                micros = micros * 10 + data[pos] - 48
            digits += 1
            pos += 1
        if digits == 0:
            return -1
        for _ in range(digits, 6):
            micros *= 10
    offset = 0
    if end - pos == 1 and data[pos] == 90:
        pass
    elif end - pos == 6 and (data[pos] == 43 or data[pos] == 45) and data[pos + 3] == 58:
        offset_hours, offset_minutes = _number(data, pos + 1, 2), _number(data, pos + 4, 2)
        if offset_hours < 0 or offset_minutes < 0 or offset_hours > 18 or offset_minutes > 59:
            return -1
        offset = (offset_hours * 60 + offset_minutes) * 60 * (1 if data[pos] == 43 else -1)
    else:
        return -1
    seconds = hour * 3600 + minute * 60 + second - offset
    instant = _days_since_epoch(year, month, day) * _DAY_MICROS + seconds * _MICROS + micros
    return instant if instant >= 0 else -1


@compiled
def _plain_instants(data, offsets, instants):
    for row in range(offsets.shape[0] - 1):
        instants[row] = _plain_instant(data, offsets[row], offsets[row + 1])


def _polars_instants(texts: pl.Expr) -> pl.Expr:
    parsed = texts.str.replace("Z$", "+00:00").str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", strict=False
    )
    return pl.when(texts.str.contains(TIMESTAMP_PATTERN)).then(parsed)


def utc_instants(texts: pl.Series) -> pl.Series:
    """Each timestamp's instant as ``Datetime("us", "UTC")``; null where the text is no RFC 3339 timestamp
    of the contract's shape or names no real time."""
    data, offsets = text_bytes(texts)
    instants = np.empty(len(texts), np.int64)
    _plain_instants(data, offsets, instants)
    plain = pl.Series(texts.name, instants).cast(pl.Datetime("us", "UTC"))
    others = (instants < 0) | texts.is_null().to_numpy()
    if not others.any():
        return plain
    rest = texts.filter(others).to_frame().select(_polars_instants(pl.col(texts.name))).to_series()
    return plain.scatter(np.flatnonzero(others), rest)
