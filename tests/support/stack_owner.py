"""A benchmark-like process for the interrupt tests: under ``bench/common.running_stack`` it starts PostgreSQL, the
SMTP catcher and the Mynaportal simulator of a stack on the ports it is given, prints ``STACK-OWNER-UP`` and waits.

    python -m tests.support.stack_owner VAR_DIR PORTS_JSON
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tests.support.stack import ROOT, Ports, Stack

sys.path.insert(0, str(ROOT / "bench"))

from common import running_stack  # isort: skip


def main() -> None:
    """Start the parts, say ``STACK-OWNER-UP``, wait until interrupted; the context manager stops what was started."""
    var, ports = Path(sys.argv[1]), Ports(**json.loads(sys.argv[2]))
    with running_stack(Stack(var, ports)) as stack:
        stack.start_postgres()
        stack.start_smtp()
        stack.start_mynaportal_simulator()
        print("STACK-OWNER-UP", flush=True)
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main()
