"""docs/webhooks.md, "Receive webhooks on your laptop", run as written: `vigie demo` in its own
terminal, the `export` line it prints, then the guide's blocks in a second one. Only the ports
change (free ones instead of 8000 and 9000)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doc_blocks import ROOT, run_blocks, section, sh_blocks
from live import free_port

GUIDE = ROOT / "docs" / "webhooks.md"
BIN = Path(sys.executable).parent
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)
pytestmark = pytest.mark.slow


def _section() -> str:
    return section(GUIDE.read_text("utf-8"), "### Receive webhooks on your laptop")


def test_the_laptop_section_starts_the_demo_then_registers_a_local_receiver():
    blocks = sh_blocks(_section())
    assert blocks[0] == "vigie demo\n"
    assert "http://127.0.0.1:9000/hook" in blocks[1]
    assert len(PYTHON_BLOCK.findall(_section())) == 1


def test_receiving_webhooks_on_a_laptop_works_as_written(tmp_path):
    demo_block, *blocks = sh_blocks(_section())
    (receiver,) = PYTHON_BLOCK.findall(_section())
    demo_port, receiver_port = free_port(), free_port()
    (tmp_path / "receiver.py").write_text(receiver.replace("9000", str(receiver_port)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env |= {"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}

    out = tmp_path / "demo.out"
    command = demo_block.strip() + f" --port {demo_port}"
    with out.open("w") as sink:
        demo = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "Stop with Ctrl-C." not in out.read_text():
            assert demo.poll() is None, out.read_text()
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        (export,) = [line.strip() for line in out.read_text().splitlines() if "export " in line]
        outputs = run_blocks(
            [export + "\n", *(b.replace("9000", str(receiver_port)) for b in blocks)],
            cwd=tmp_path,
            env=env,
            timeout=90,
        )
    finally:
        demo.terminate()
        demo.wait(timeout=30)

    _, registered, received = outputs
    assert re.match(r"endpoint whe_\w+", registered.strip())
    assert re.search(r"^webhook\.test evt_\w+ signature ok$", received, flags=re.M), received
