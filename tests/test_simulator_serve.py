"""``serve``: the standalone simulator a user points a shell at, and the flags of ``simulate``."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shlex
import signal
import sys
from pathlib import Path

import aioboto3
import aiohttp
import pytest
from botocore.config import Config

from crawler.simulator import build_world, expected_inventory, load_scenario
from crawler.simulator.serve import add_simulate_arguments, main, scenario_from_args, serve

ROOT = Path(__file__).resolve().parent.parent
SERVE_DEMO = (
    "import asyncio\n"
    "from crawler.simulator import load_scenario\n"
    "from crawler.simulator.serve import serve\n"
    "asyncio.run(serve(load_scenario('demo'), port=0))\n"
)


def exported(lines: list[str]) -> dict[str, str]:
    """The variables of the ``export NAME=value`` lines, as a shell would read them."""
    env = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = shlex.split(line)[1].partition("=")
            env[name] = value
    return env


async def home_models(env: dict[str, str]) -> list[str]:
    """ListCustomModels through a real client configured only by ``env``."""
    session = aioboto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_REGION"],
    )
    config = Config(retries={"total_max_attempts": 5, "mode": "standard"})
    async with session.client(
        "bedrock", endpoint_url=env["AWS_ENDPOINT_URL"], config=config
    ) as bedrock:
        answer = await bedrock.list_custom_models(isOwned=True)
    return sorted(m["modelArn"] for m in answer["modelSummaries"])


async def test_serve_prints_the_exports_serves_and_stops() -> None:
    scenario = load_scenario("demo")
    out, ready, stop = io.StringIO(), asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(scenario, port=0, out=out, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), timeout=10)
    lines = out.getvalue().splitlines()
    env = exported(lines)
    assert list(env) == [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
    ]
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_REGION"] == "us-east-1"
    world = build_world(scenario)
    summary = lines[-1]
    assets = sum(expected_inventory(world).values())
    assert summary.startswith(
        f"# scenario demo (seed 20250601, step 0): 3 accounts, 3 regions, {assets} assets to "
        "inventory; crawl with --regions us-east-1,us-west-2,eu-central-2 "
    )
    assert "--role-name InventoryReader" in summary
    assert summary.endswith("--accounts " + ",".join(world.accounts))
    assert await home_models(env) == sorted(
        m["modelArn"]
        for m in world.accounts[world.home_account].items("us-east-1", "custom-models")
        if m["ownerAccountId"] == world.home_account
    )
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http:
            await http.get(env["AWS_ENDPOINT_URL"])


async def test_serve_binds_to_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await serve(load_scenario("demo"), host="0.0.0.0", port=0, stop=asyncio.Event())


@pytest.mark.parametrize(
    ("signum", "command"),
    [
        (signal.SIGTERM, ["-c", SERVE_DEMO]),
        (signal.SIGINT, ["-m", "crawler.simulator", "--port", "0", "--latency-ms", "0"]),
    ],
    ids=["SIGTERM-serve", "SIGINT-module"],
)
async def test_a_signal_stops_the_child_cleanly(signum: int, command: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not (lines and lines[-1].startswith("# scenario")):
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
            assert line, "the child ended before it was ready"
            lines.append(line.decode().rstrip("\n"))
        assert await home_models(exported(lines))
        proc.send_signal(signum)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    return parser.parse_args(argv)


def test_flags_override_the_scenario() -> None:
    args = parse(
        "--scenario",
        "hostile",
        "--port",
        "0",
        "--seed",
        "9",
        "--latency-ms",
        "30",
        "--latency-jitter-ms",
        "5",
        "--throttle-rps",
        "10",
        "--throttle-burst",
        "4",
        "--error-rate",
        "500=0.1",
        "--error-rate",
        "reset=0.01",
        "--denied-accounts",
        "1",
        "--hostile",
        "nul,long-name",
        "--credential-ttl-seconds",
        "900",
        "--step",
        "2",
    )
    scenario = scenario_from_args(args)
    assert (args.port, args.step) == (0, 2)
    assert (scenario.name, scenario.seed) == ("hostile", 9)
    assert (scenario.latency_ms, scenario.latency_jitter_ms) == (30, 5)
    assert (scenario.throttle_rps, scenario.throttle_burst) == (10, 4)
    assert dict(scenario.error_rates) == {"500": 0.1, "reset": 0.01}
    assert (scenario.denied_accounts, scenario.hostile) == (1, ("nul", "long-name"))
    assert scenario.credential_ttl_seconds == 900
    defaults = scenario_from_args(parse())
    assert defaults == load_scenario("demo")
    assert parse().port == 4566
    assert scenario_from_args(parse("--throttle-rps", "0")).throttle_rps is None
    assert scenario_from_args(parse("--hostile")).hostile is True


def test_bad_flags_and_scenarios_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--error-rate", "418=0.1")
    with pytest.raises(SystemExit):
        parse("--error-rate", "500=2")
    assert main(["--scenario", "no-such-scenario"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'no-such-scenario'" in err and "demo, hostile, large-org" in err
