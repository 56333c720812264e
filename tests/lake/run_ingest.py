"""Run `vrp ingest police-uk` in a process of its own, optionally SIGKILLing itself at one exact
moment of the run, or holding the register lock for a while: the crash and concurrency tests
start this as a subprocess (a real process, killed as the kernel kills one).

    python tests/lake/run_ingest.py MOMENT WORKSPACE FILE...

MOMENT: none | reading (first file read, second about to be) | staging (first snapshot part written) | registering
(register rows added, transaction open) | moving (first file moved into the lake, transaction open)
| committed (transaction committed, staging not yet removed) | hold:SECONDS (sleep that long holding
the register lock) | wait:SECONDS (give up waiting for the register lock after that long).
"""
from __future__ import annotations

import os
import signal
import sys
import time


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(moment: str) -> None:
    import vrp.ingest.load as load_mod
    import vrp.lake.write as write

    if moment == "reading":
        original_load_file, calls = load_mod._load_file, []

        def load_file(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                die()
            return original_load_file(*args, **kwargs)
        load_mod._load_file = load_file
    elif moment == "staging":
        original_write = write.Load.write

        def write_part(self, *args, **kwargs):
            original_write(self, *args, **kwargs)
            die()  # the first part of the first snapshot is on disk in staging
        write.Load.write = write_part
    elif moment == "registering":
        original_register = write.Load._register

        def register(self, session):
            run_id = original_register(self, session)
            session.flush()
            die()
            return run_id
        write.Load._register = register
    elif moment == "moving":
        original_replace = os.replace

        def replace(src, dst):
            original_replace(src, dst)
            if "/lake/" in str(dst) and ".staging" not in str(dst):
                die()
        write.os.replace = replace
    elif moment == "committed":
        write.Load._clean_up = lambda self: die()
    elif moment.startswith("hold:"):
        seconds = float(moment.split(":")[1])
        original_lock = write.register_lock

        def hold(session, holder):
            original_lock(session, holder)
            print("holding the register lock", file=sys.stderr, flush=True)  # the test waits for this line
            time.sleep(seconds)
        write.register_lock = hold
    elif moment.startswith("wait:"):
        import vrp.store

        vrp.store.LOCK_WAIT = float(moment.split(":")[1])
    elif moment != "none":
        raise SystemExit(f"unknown moment {moment}")


if __name__ == "__main__":
    moment, workspace, *files = sys.argv[1:]
    arm(moment)
    from vrp.cli import main

    sys.argv = ["vrp", "ingest", "police-uk", "--workspace", workspace, "--json", *files]
    main()
