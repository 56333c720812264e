"""The checks every versioned data file (definitions, measures, harm weights) passes first."""
from __future__ import annotations

import tomllib
from pathlib import Path
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


def data_file_sources(shipped, extra_dirs: Iterable[str | Path],
                      missing: Callable[[Path], NoReturn]) -> list[tuple[Path, str | None]]:
    """The files a collection of data files is read from: every shipped `*.toml` of the package
    folder `shipped` (an importlib Traversable) as (path, text), sorted by name; then every `*.toml`
    in each of `extra_dirs` (or the path itself when it is a file) as (path, None), for the caller's
    own loader. A path that is neither goes to `missing`, which raises the caller's error."""
    sources: list[tuple[Path, str | None]] = [
        (Path(str(f)), f.read_text(encoding="utf-8"))
        for f in sorted(shipped.iterdir(), key=lambda f: f.name) if f.name.endswith(".toml")
    ]
    for extra in map(Path, extra_dirs):
        if extra.is_dir():
            sources += [(p, None) for p in sorted(extra.glob("*.toml"))]
        elif extra.is_file():
            sources.append((extra, None))
        else:
            missing(extra)
    return sources
