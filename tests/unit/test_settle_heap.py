"""A served process settles its heap before it takes requests: start-up's objects frozen
out of the collector's reach and a young generation large enough for the requests in
flight (checked in a process of its own: the test process keeps its collector as it is)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_served_process_freezes_what_start_up_built_and_collects_less_often() -> None:
    probe = ("import gc\n"
             "from entrypoints.cli.commands import settle_heap\n"
             "before = gc.get_threshold()\n"
             "settle_heap()\n"
             "print(before[0], gc.get_threshold()[0], gc.get_freeze_count())\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    before, after, frozen = (int(value) for value in out)
    assert before == 700 and after == 10_000
    assert frozen > 10_000  # the modules imported so far, at least
