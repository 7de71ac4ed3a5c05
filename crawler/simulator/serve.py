"""Serving a scenario until told to stop: what ``bedrock-inventory simulate`` runs.

    asyncio.run(serve(load_scenario("demo"), port=4566))

prints the shell lines that point AWS SDKs (and the crawler) at the simulator, then serves until
SIGINT or SIGTERM (or until ``stop`` is set, when the caller owns the signals). The CLI wiring is
:data:`SIMULATE_FLAGS` / :func:`add_simulate_arguments` for the parser and
:func:`scenario_from_args` to turn the parsed flags into the scenario to serve.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .faults import ERROR_RATE_KINDS
from .scenario import (
    Scenario,
    ScenarioError,
    builtin_scenarios,
    expected_inventory,
    load_scenario,
)
from .server import LOOPBACK_HOSTS, Simulator

__all__ = [
    "SIMULATE_FLAGS",
    "Flag",
    "add_simulate_arguments",
    "exports",
    "main",
    "scenario_from_args",
    "serve",
    "summary",
]


async def serve(
    scenario: Scenario,
    *,
    host: str = "127.0.0.1",
    port: int = 4566,
    out: TextIO = sys.stdout,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    step: int = 0,
) -> None:
    """Serve ``scenario`` (at ``step``) on ``host:port`` until ``stop`` is set, or, when no
    ``stop`` is given, until SIGINT or SIGTERM. Prints the exports and a summary to ``out``
    once listening, then sets ``ready``."""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the simulator binds to loopback only, not {host!r}")
    sim = Simulator.for_scenario(scenario, step, host=host, port=port)
    loop = asyncio.get_running_loop()
    own_signals: list[signal.Signals] = []
    if stop is None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
            own_signals.append(signum)
    try:
        await sim.start()
        try:
            for line in (*exports(sim, scenario), summary(sim, scenario)):
                print(line, file=out)
            out.flush()
            if ready is not None:
                ready.set()
            await stop.wait()
        finally:
            await sim.stop()
    finally:
        for signum in own_signals:
            loop.remove_signal_handler(signum)


def exports(sim: Simulator, scenario: Scenario) -> list[str]:
    """``export NAME=value`` lines for a POSIX shell."""
    key, secret = sim.base_credentials
    values = {
        "AWS_ENDPOINT_URL": sim.endpoint_url,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": scenario.home_region,
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def summary(sim: Simulator, scenario: Scenario) -> str:
    """One comment line: what is served and how to crawl it."""
    world = sim.world
    assets = sum(expected_inventory(world).values())
    denied = sum(account.denied for account in world.accounts.values())
    refusing = f", {denied} of them deny the role Bedrock" if denied else ""
    return (
        f"# scenario {scenario.name} (seed {scenario.seed}, step {sim.step}): "
        f"{len(world.accounts)} accounts{refusing}, {len(scenario.regions)} regions, "
        f"{assets} assets to inventory; crawl with --regions {','.join(scenario.regions)} "
        f"--role-name {scenario.role_name} --accounts {','.join(world.accounts)}"
    )


# --- command line -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One ``simulate`` option: its flag, the argparse keywords, and the scenario field it sets
    (``None`` for flags that are not scenario fields)."""

    flag: str
    options: dict[str, Any]
    field: str | None


def _error_rate(text: str) -> tuple[str, float]:
    kind, sep, rate = text.partition("=")
    if not sep or kind not in ERROR_RATE_KINDS:
        raise argparse.ArgumentTypeError(
            f"expected KIND=P with KIND one of {', '.join(ERROR_RATE_KINDS)}, not {text!r}"
        )
    try:
        value = float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{rate!r} is not a probability") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{rate!r} is not a probability in [0, 1]")
    return kind, value


def _hostile(text: str) -> Any:
    return tuple(kind for kind in text.split(",") if kind) if text not in ("", "all") else True


SIMULATE_FLAGS: tuple[Flag, ...] = (
    Flag(
        "--scenario",
        {
            "metavar": "NAME|FILE",
            "default": "demo",
            "help": "built-in scenario ("
            + ", ".join(builtin_scenarios())
            + ") or a scenario JSON file (default: demo)",
        },
        None,
    ),
    Flag(
        "--port",
        {"type": int, "default": 4566, "help": "port on 127.0.0.1, 0 for any (default: 4566)"},
        None,
    ),
    Flag(
        "--step",
        {
            "type": int,
            "default": 0,
            "metavar": "N",
            "help": "serve the world after N rounds of change (default: 0)",
        },
        None,
    ),
    Flag("--seed", {"type": int, "metavar": "N", "help": "override the scenario's seed"}, "seed"),
    Flag(
        "--latency-ms",
        {"type": float, "metavar": "MS", "help": "fixed latency of every call"},
        "latency_ms",
    ),
    Flag(
        "--latency-jitter-ms",
        {"type": float, "metavar": "MS", "help": "random extra latency, up to MS"},
        "latency_jitter_ms",
    ),
    Flag(
        "--throttle-rps",
        {
            "type": float,
            "metavar": "RPS",
            "help": "token bucket per account, region and operation; 0 turns throttling off",
        },
        "throttle_rps",
    ),
    Flag(
        "--throttle-burst",
        {"type": int, "metavar": "N", "help": "calls the bucket allows at once"},
        "throttle_burst",
    ),
    Flag(
        "--error-rate",
        {
            "type": _error_rate,
            "action": "append",
            "metavar": "KIND=P",
            "help": "probability of an injected fault per call, KIND one of "
            + ", ".join(ERROR_RATE_KINDS)
            + " (repeatable)",
        },
        "error_rates",
    ),
    Flag(
        "--denied-accounts",
        {"type": int, "metavar": "N", "help": "accounts whose role may not call Bedrock"},
        "denied_accounts",
    ),
    Flag(
        "--hostile",
        {
            "type": _hostile,
            "nargs": "?",
            "const": True,
            "metavar": "KIND,..",
            "help": "hostile data: all kinds, or some of unknown-enum, unknown-member, "
            "long-name, non-ascii, nul, empty-pages",
        },
        "hostile",
    ),
    Flag(
        "--credential-ttl-seconds",
        {"type": float, "metavar": "S", "help": "lifetime of AssumeRole credentials"},
        "credential_ttl_seconds",
    ),
)


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    for flag in SIMULATE_FLAGS:
        parser.add_argument(flag.flag, **flag.options)


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The scenario the parsed ``simulate`` flags ask for; :class:`ScenarioError` otherwise."""
    scenario = load_scenario(args.scenario)
    overrides: dict[str, Any] = {}
    for flag in SIMULATE_FLAGS:
        if flag.field is None:
            continue
        value = getattr(args, flag.flag.removeprefix("--").replace("-", "_"), None)
        if flag.field == "error_rates" and value is not None:
            value = {**scenario.error_rates, **dict(value)}
        overrides[flag.field] = value
    return scenario.with_overrides(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m crawler.simulator``: the same flags as ``bedrock-inventory simulate``."""
    parser = argparse.ArgumentParser(
        prog="python -m crawler.simulator",
        description="Serve a simulated AWS organisation (Bedrock, STS, EC2, Organizations) on "
        "127.0.0.1 until interrupted.",
    )
    add_simulate_arguments(parser)
    args = parser.parse_args(argv)
    try:
        scenario = scenario_from_args(args)
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(scenario, port=args.port, step=args.step))
    except OSError as error:  # the port is taken, most likely
        print(f"error: cannot serve on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    return 0
