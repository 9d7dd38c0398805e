"""Shell examples of the documentation, run as written against a live `vigie serve`.

A document's ```sh blocks are run in order by one `bash -euo pipefail`, so a variable set
by one block (the API key, a report id) is there for the next, exactly as a reader pasting
them one after the other would have it. Each block's output is returned on its own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```sh\n(.*?)^```", flags=re.S | re.M)
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def section(text: str, heading: str) -> str:
    """The text under a `## heading` (or deeper), up to the next heading of its level."""
    level = heading.split(" ", 1)[0]
    after = text.split(heading + "\n", 1)[1]
    return re.split(rf"^{level} ", after, maxsplit=1, flags=re.M)[0]


def sh_blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def curl_outside_sh_blocks(text: str) -> list[str]:
    """Lines calling curl that are not in a ```sh block (so would not be run)."""
    lines = []
    for block in FENCE.findall(text):
        if not block.startswith("```sh\n"):
            lines.extend(line for line in block.splitlines() if "curl " in line)
    return lines


def run_blocks(
    blocks: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    epilogue: str = "",
    timeout: float = 120,
) -> list[str]:
    """Run the blocks in one shell; one output per block (and one for the epilogue, if any).

    Fails the test, with the shell's stderr, if any command fails.
    """
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the documentation's examples")
    # A block's last output may lack a newline (curl's): each marker starts its own line.
    script = "".join(f'echo; echo "@@block {i}"\n{block}' for i, block in enumerate(blocks))
    if epilogue:
        script += f'echo; echo "@@block {len(blocks)}"\n{epilogue}\n'
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return re.split(r"^@@block \d+\n", done.stdout, flags=re.M)[1:]


def http_responses(output: str) -> list[tuple[int, dict[str, str], str]]:
    """Split `curl -i` output into (status, headers, body) triples."""
    responses = []
    for chunk in re.split(r"(?=^HTTP/1\.[01] )", output, flags=re.M):
        if not chunk.strip():
            continue
        head, _, body = chunk.replace("\r\n", "\n").partition("\n\n")
        status_line, *header_lines = head.splitlines()
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        responses.append((int(status_line.split()[1]), headers, body.strip()))
    return responses
