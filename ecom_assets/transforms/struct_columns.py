"""The lines a msgspec decoder would read as they are, found with column checks instead of decoding.

A flat msgspec Struct's field types say which JSON values it takes: a string of at least so many
characters, one of some literals, a number within bounds, null where the type allows it, nothing where
the field has a default. On the plain lines of :mod:`ecom_assets.transforms.plain_json` each of these is
a check of the field's kind and text, so a day's lines are judged column by column; a line any check
doubts (a negative price, an exponent, a long number) is not judged here but left to the decoder.
"""

from dataclasses import dataclass

import msgspec
import numpy as np
import polars as pl
from msgspec import inspect

from ecom_assets.transforms.plain_json import ABSENT, FRACTION, MINUS, NULL, NUMBER, STRING, ScannedLines

# Up to 15 significant digits every correctly rounding parser reads a decimal as the same double, and an
# integer of 18 digits fits in Int64: a longer number is the decoder's to read.
_FLOAT_DIGITS = 15
_INT_DIGITS = 18


@dataclass(frozen=True)
class _Field:
    name: str
    kinds: frozenset[int]
    value: pl.Expr  # the decoded value, from the field's text
    accepted: pl.Expr  # where the decoder takes that value as it is; a null or absent field is taken
    default: object


def _bounded(value: pl.Expr, bounds: inspect.IntType | inspect.FloatType) -> pl.Expr:
    accepted = pl.lit(True)
    if bounds.ge is not None:
        accepted &= value >= bounds.ge
    if bounds.le is not None:
        accepted &= value <= bounds.le
    if bounds.gt is not None or bounds.lt is not None or bounds.multiple_of is not None:
        accepted = pl.lit(False)
    return accepted


def _field(field: inspect.Field, dtype: pl.DataType) -> _Field:
    choices = field.type.types if isinstance(field.type, inspect.UnionType) else (field.type,)
    nullable = any(isinstance(choice, inspect.NoneType) for choice in choices)
    (kind,) = [choice for choice in choices if not isinstance(choice, inspect.NoneType)]
    text = pl.col(field.name)
    if isinstance(kind, inspect.StrType) and kind.pattern is None:
        kinds, value, accepted = {STRING}, text, pl.lit(True)
        if kind.min_length is not None:
            accepted &= text.str.len_chars() >= kind.min_length
        if kind.max_length is not None:
            accepted &= text.str.len_chars() <= kind.max_length
    elif isinstance(kind, inspect.LiteralType) and all(isinstance(v, str) for v in kind.values):
        kinds, value, accepted = {STRING}, text, text.is_in(list(kind.values))
    elif isinstance(kind, inspect.FloatType):
        kinds, value = {NUMBER, NUMBER | FRACTION}, text.cast(pl.Float64, strict=False)
        accepted = _bounded(value, kind) & (text.str.len_bytes() <= _FLOAT_DIGITS + 1)
    elif isinstance(kind, inspect.IntType):
        kinds, value = {NUMBER, NUMBER | MINUS}, text.cast(pl.Int64, strict=False)
        accepted = _bounded(value, kind) & (text.str.len_bytes() <= _INT_DIGITS)
    else:
        raise TypeError(f"{field.name}: {kind} has no column check; add one to {__name__}")
    kinds |= {NULL} if nullable else set()
    kinds |= set() if field.required else {ABSENT}
    # A value that does not fit the decoded column's type (an unbounded int into Int32) is the decoder's.
    accepted = text.is_null() | (value.cast(dtype, strict=False).is_not_null() & accepted)
    return _Field(field.name, frozenset(kinds), value.cast(dtype), accepted, field.default)


@dataclass(frozen=True)
class PlainDecode:
    values: pl.DataFrame  # the decoded rows of the lines taken
    taken: np.ndarray  # the position of each of those lines
    left: np.ndarray  # positions of every other line: the decoder's


class StructColumns:
    """The column checks of one flat msgspec Struct, whose decoded rows have ``schema``."""

    def __init__(self, struct: type[msgspec.Struct], schema: pl.Schema):
        info = inspect.type_info(struct)
        assert isinstance(info, inspect.StructType)
        if info.forbid_unknown_fields or any(field.encode_name != field.name for field in info.fields):
            raise TypeError(f"{struct.__name__}: renamed or forbidden unknown fields have no column check")
        self.fields = [_field(field, schema[field.name]) for field in info.fields]
        self.names = tuple(field.name for field in self.fields)

    def decode(self, scanned: ScannedLines) -> PlainDecode:
        """The rows of the plain lines whose every field the decoder would take as it is."""
        taken = scanned.plain.copy()
        for field in self.fields:
            taken &= np.isin(scanned.kinds[field.name], list(field.kinds))
        text = scanned.text.filter(taken)
        checks = text.select(pl.all_horizontal([field.accepted for field in self.fields])).to_series()
        values = text.filter(checks).select(
            field.value.fill_null(field.default)
            if field.default not in (None, msgspec.NODEFAULT)
            else field.value
            for field in self.fields
        )
        taken[taken] = checks.to_numpy()
        return PlainDecode(values, np.flatnonzero(taken), np.flatnonzero(~taken))
