"""The checks every versioned data file (definitions, measures, harm weights) passes first."""
from __future__ import annotations

import tomllib
from typing import Callable, Iterable, NoReturn


def read_toml(text: str, allowed: Iterable[str], required: Iterable[str], fail: Callable[[str], NoReturn],
              key_label: str = "key") -> dict:
    """The file's TOML as a dict: valid TOML, no key outside `allowed` (a typo would otherwise be
    silently ignored), and every `required` key a non-empty string. Problems go to `fail`, which
    raises the caller's own error naming the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        fail(f"not valid TOML: {exc}")
    allowed = set(allowed)
    for key in data:
        if key not in allowed:
            fail(f"unknown {key_label} '{key}'")
    for key in required:
        if not isinstance(data.get(key), str) or not data[key].strip():
            fail(f"'{key}' is required and must be a non-empty string")
    return data
