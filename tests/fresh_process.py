"""Python run in a fresh interpreter, for what only a new process shows: which modules a code location imports,
what is compiled at import, what loads without the test session's state."""

from __future__ import annotations

import subprocess
import sys


def python_output(script: str) -> str:
    """The stdout of `python -c script`; fails the test with the end of stderr if the script fails."""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
