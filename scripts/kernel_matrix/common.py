"""What the parts of scripts/kernel-matrix share: the repository, messages, the one failure, commands."""
import os
import subprocess
import sys
import threading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCK = threading.RLock()  # re-entrant: the signal handler may take it in the main thread


def say(text):
    with LOCK:
        print("[kernel-matrix] " + text, file=sys.stderr, flush=True)


class Fail(Exception):
    """The matrix cannot be made: one sentence says why (exit 2)."""


def run(argv, **kw):
    return subprocess.run(argv, check=False, text=True, capture_output=True, **kw)
