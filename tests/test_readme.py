"""README is the truth: CI runs its test block verbatim, and its command list matches the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def sh_blocks(text: str) -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_ci_runs_the_readme_test_block_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    demo, tests, *_ = sh_blocks(readme)
    assert demo[-1] == "pip install -e . && bedrock-inventory demo"
    assert tests[-1] == "pip install -e '.[test]' && pytest"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    start = ci.index(tests[0])
    assert ci[start : start + len(tests)] == tests


async def test_every_documented_subcommand_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^bedrock-inventory (\w+)\s", readme, re.M))
    assert {"crawl", "migrate", "runs", "demo", "simulate", "db"} <= documented
    for command in documented:
        result = await run_cli(command, "--help")
        assert result.code == 0, (command, result.stderr)
