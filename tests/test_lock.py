"""The lock and pyproject.toml agree: every requirement of the project (with its extras) and of its
dependencies, followed through the installed packages' own metadata, is locked at a version that
satisfies it, with hashes, and nothing is locked that nothing asks for.

`make install` installs the lock with --no-deps (pip never re-resolves it, so a package index that
offers newer releases cannot change what is installed), which is only safe if the lock is complete:
this test is what keeps it so. docs/development.md says how to update the lock.
"""
from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) from requirements.lock."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pinned = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\]+)", line)
        if pinned:
            current = canonicalize_name(pinned.group(1))
            entries[current] = (pinned.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
    return entries


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def closure(lock: dict[str, tuple[str, int]]) -> tuple[set[str], list[str]]:
    """Walk the requirements from pyproject.toml through each installed package's metadata; return
    the names reached and every disagreement found on the way."""
    problems: list[str] = []
    reached: set[str] = set()
    queue: list[tuple[Requirement, str]] = [(r, "pyproject.toml") for r in project_requirements()]
    seen_extras: set[tuple[str, frozenset]] = set()
    while queue:
        req, wanted_by = queue.pop()
        name = canonicalize_name(req.name)
        if name not in lock:
            problems.append(f"{req} (wanted by {wanted_by}) is not in requirements.lock")
            continue
        version = lock[name][0]
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f"requirements.lock pins {name}=={version}, but {wanted_by} asks for {req}")
        reached.add(name)
        key = (name, frozenset(req.extras))
        if key in seen_extras:
            continue
        seen_extras.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is locked but not installed: run `make install`")
            continue
        if dist.version != version:
            problems.append(f"{name} {dist.version} is installed but the lock pins {version}: run `make install`")
        for text in dist.requires or []:
            sub = Requirement(text)
            environments = [{"extra": ""}] + [{"extra": e} for e in req.extras]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in environments):
                queue.append((sub, f"{name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}"))
    return reached, problems


def test_lock_holds_every_requirement_and_extra_at_a_satisfying_version():
    reached, problems = closure(locked())
    assert not problems, "\n".join(sorted(set(problems)))


def test_lock_holds_nothing_that_nothing_asks_for():
    lock = locked()
    reached, _ = closure(lock)
    assert sorted(set(lock) - reached) == []


def test_every_locked_package_has_hashes():
    assert [name for name, (_v, hashes) in locked().items() if hashes == 0] == []


def test_extras_are_locked_too():
    """weasyprint asks for fonttools[woff]: its extra's packages must be in the lock (pip with
    --no-deps would not fetch them, and `pip check` would fail the install)."""
    reached, _ = closure(locked())
    assert {"fonttools", "brotli", "zopfli", "psycopg", "psycopg-binary"} <= reached


def test_install_never_re_resolves():
    """The Makefile installs the lock exactly and checks it; a re-resolve is what broke fresh machines."""
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements.lock" in makefile
    assert "pip check" in makefile
