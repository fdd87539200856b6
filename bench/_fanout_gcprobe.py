"""Garbage-collector pauses of the server process, for bench/fanout.py.

bench/fanout.py copies this file as `sitecustomize.py` into a folder of its temporary data
directory and puts that folder on the server's PYTHONPATH, so that Python imports it at
start-up in the server process only (the product code is not touched). Then:

- FANOUT_GC_LOG=<path>: every collection is appended to <path> as
  "<time.time()> <generation> <milliseconds>" (a gc.callbacks hook: a few microseconds
  per collection);
- FANOUT_GC_THRESHOLD=a,b,c: `gc.set_threshold(a, b, c)`, to try other thresholds
  without editing the server (the app's own call to set them is then ignored).
"""

import gc
import os
import time
from typing import Any

_LOG = os.environ.get("FANOUT_GC_LOG")
_THRESHOLD = os.environ.get("FANOUT_GC_THRESHOLD")

if _THRESHOLD:
    gc.set_threshold(*(int(part) for part in _THRESHOLD.split(",")))

    def _keep(*_: int) -> None:
        """The app sets its own thresholds as it starts (server/app.py, GC_THRESHOLDS):
        ignored, so that the ones asked for here stay."""

    gc.set_threshold = _keep

if _LOG:
    _out = open(_LOG, "a", buffering=1)  # noqa: SIM115 - open for the process's lifetime
    _started = [0.0]

    def _record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        pause_ms = (time.perf_counter() - _started[0]) * 1000
        _out.write(f"{time.time():.3f} {info['generation']} {pause_ms:.2f}\n")

    gc.callbacks.append(_record)
