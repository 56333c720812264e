"""Arrow constants, masks and indices built from raw buffers, so that ingest never loads pandas.

pyarrow imports pandas (about 0.3 s, a sixth of a whole `vrp ingest police-uk` of a year) the
first time it converts any Python or NumPy value: ``pa.scalar``, ``pa.array``, a plain Python
number or string passed to a compute function, ``Array.to_numpy``, ``Table.group_by``. Ingest
needs only a few such values (a blank string, a month, a file name, a row mask), so it builds
them here from buffers, which pyarrow takes as they are. The results equal what ``pa.scalar`` /
``pa.array`` / ``to_numpy`` give.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa

_EPOCH = date(1970, 1, 1)
_NUMERIC = {pa.float64(): np.float64, pa.float32(): np.float32, pa.int64(): np.int64, pa.int32(): np.int32,
            pa.int16(): np.int16, pa.int8(): np.int8, pa.uint64(): np.uint64, pa.uint32(): np.uint32}


def strings(values: Iterable[str | None]) -> pa.Array:
    """``pa.array(values, pa.string())``."""
    values = list(values)
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    nulls = [v is None for v in values]
    validity = _bitmap(~np.array(nulls, dtype=bool)) if any(nulls) else None
    return pa.Array.from_buffers(pa.string(), len(values), [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
                                 null_count=sum(nulls))


def bools(mask: np.ndarray) -> pa.Array:
    """``pa.array(mask)`` for a NumPy boolean array (no nulls)."""
    mask = np.asarray(mask, dtype=bool).ravel()
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, _bitmap(mask)], null_count=0)


def indices(idx: np.ndarray) -> pa.Array:
    """``pa.array(idx)`` for NumPy integer indices, as int64."""
    idx = np.ascontiguousarray(idx, dtype=np.int64).ravel()
    return pa.Array.from_buffers(pa.int64(), len(idx), [None, pa.py_buffer(idx)], null_count=0)


def to_bools(arr) -> np.ndarray:
    """A boolean Arrow array (or chunked array, or NumPy array) as NumPy booleans, null as False:
    ``np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)``."""
    if isinstance(arr, np.ndarray):
        return np.asarray(arr, dtype=bool)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not isinstance(arr, pa.Array) or arr.type != pa.bool_():  # not met in ingest; pyarrow's own way
        import pyarrow.compute as pc

        return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)
    n = len(arr)
    validity, data = arr.buffers()
    out = _unpack(data, arr.offset, n)
    if validity is not None and arr.null_count:
        out &= _unpack(validity, arr.offset, n)
    return out


@lru_cache(maxsize=256, typed=True)  # typed: True and 1 are different scalars
def _scalar(value, type_: pa.DataType | None) -> pa.Scalar:
    if value is None:
        return pa.nulls(1, type_ or pa.null())[0]
    if isinstance(value, bool):
        s = bools(np.array([value]))[0]
        return s if type_ in (None, pa.bool_()) else s.cast(type_)
    if isinstance(value, str):
        s = strings([value])[0]
        return s if type_ in (None, pa.string()) else s.cast(type_)
    if isinstance(value, date) and not hasattr(value, "hour"):
        days = np.array([(value - _EPOCH).days], dtype=np.int32)
        s = pa.Array.from_buffers(pa.date32(), 1, [None, pa.py_buffer(days)], null_count=0)[0]
        return s if type_ in (None, pa.date32()) else s.cast(type_)
    if isinstance(value, (int, float)):
        natural = pa.int64() if isinstance(value, int) else pa.float64()
        target = type_ or natural
        if target in _NUMERIC:
            data = np.array([value], dtype=_NUMERIC[target])
            if data[0] != value and value == value:  # NaN is NaN
                raise OverflowError(f"{value!r} does not fit {target}")
            return pa.Array.from_buffers(target, 1, [None, pa.py_buffer(data)], null_count=0)[0]
        data = np.array([value], dtype=_NUMERIC[natural])
        return pa.Array.from_buffers(natural, 1, [None, pa.py_buffer(data)], null_count=0)[0].cast(target)
    return pa.scalar(value, type_)  # anything else: pyarrow's own conversion


def scalar(value, type_: pa.DataType | None = None) -> pa.Scalar:
    """``pa.scalar(value, type_)`` for None, bool, int, float, str and date (cached)."""
    return _scalar(value, type_)


def _bitmap(mask: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def _unpack(buf: pa.Buffer | None, offset: int, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=bool)
    bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8), bitorder="little", count=offset + n)
    return bits[offset:].astype(bool)
