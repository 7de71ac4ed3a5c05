"""Injected behaviour (token-bucket throttling, latency, seeded error rates, resets and hangs),
denied accounts and regions not enabled, list filters, and the world changing under a running
simulator — all through real aioboto3 clients."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from crawler.simulator import Faults, Scenario, Simulator, load_scenario
from crawler.simulator.clients import SimClients

KEY = ("111111111111", "us-east-1", "ListCustomModels")


def quiet_demo(**overrides: Any) -> Scenario:
    """The demo scenario without its latency and throttling, plus ``overrides``."""
    quiet: dict[str, Any] = {"latency_ms": 0, "latency_jitter_ms": 0, "throttle_rps": 0}
    return load_scenario("demo").with_overrides(**{**quiet, **overrides})


async def outcome(call: Callable[[], Awaitable[Any]]) -> int | str:
    """200, or the AWS error code of a failed call."""
    try:
        await call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return 200


# --- throttling ---------------------------------------------------------------------------------


async def test_token_bucket_answers_429_beyond_the_burst_and_refills_with_time() -> None:
    now = [1000.0]
    faults = Faults(throttle_rps=2, throttle_burst=3, clock=lambda: now[0])
    async with Simulator.for_scenario(quiet_demo(), faults=faults) as sim, SimClients(sim) as aws:
        bedrock = await aws.client("bedrock")
        burst = [await outcome(bedrock.list_custom_models) for _ in range(10)]
        other = await outcome(bedrock.list_imported_models)  # another operation: its own bucket
        now[0] += 1.0  # two tokens' worth of time
        after_a_second = [await outcome(bedrock.list_custom_models) for _ in range(3)]
        now[0] += 3600  # a full bucket holds no more than the burst
        after_an_hour = [await outcome(bedrock.list_custom_models) for _ in range(4)]
    assert burst == [200] * 3 + ["ThrottlingException"] * 7
    assert other == 200
    assert after_a_second == [200, 200, "ThrottlingException"]
    assert after_an_hour == [200, 200, 200, "ThrottlingException"]
    assert Counter(c.status for c in sim.calls if c.operation == "ListCustomModels") == {
        200: 8,
        429: 9,
    }


def test_token_bucket_counts_per_key_and_defaults_its_burst() -> None:
    now = [0.0]
    faults = Faults(throttle_rps=2.5, clock=lambda: now[0])
    assert faults.burst == 3
    other = ("111111111111", "eu-west-1", "ListCustomModels")
    assert [faults.take(KEY) for _ in range(5)] == [None, None, None, 429, 429]
    assert [faults.take(other) for _ in range(4)] == [None, None, None, 429]
    now[0] += 0.4  # one token
    assert [faults.take(KEY) for _ in range(2)] == [None, 429]
    # Scripted throttling still comes first and is used up exactly.
    faults.throttle[other] = 1
    assert faults.take(other) == 429 and faults.throttle[other] == 0


# --- error rates and latency --------------------------------------------------------------------


def test_error_rates_are_seeded_per_key_and_about_right() -> None:
    rates = {"500": 0.2, "503": 0.1, "reset": 0.05, "hang": 0.05}
    first = Faults(error_rates=rates, seed=1)
    draws = [first.take(KEY) for _ in range(4000)]
    counts = Counter(draws)
    assert 0.17 < counts[500] / 4000 < 0.23 and 0.08 < counts[503] / 4000 < 0.12
    assert 0.03 < counts["reset"] / 4000 < 0.07 and 0.03 < counts["hang"] / 4000 < 0.07
    # Same seed, same sequence, even with calls on other keys interleaved.
    again = Faults(error_rates=rates, seed=1)
    interleaved = []
    for _ in range(4000):
        again.take(("222222222222", "us-east-1", "ListCustomModels"))
        interleaved.append(again.take(KEY))
    assert interleaved == draws
    assert [Faults(error_rates=rates, seed=2).take(KEY) for _ in range(4000)] != draws
    with pytest.raises(ValueError, match="add up to more than 1"):
        Faults(error_rates={"500": 0.7, "503": 0.7})
    with pytest.raises(ValueError, match="error rate '429'"):
        Faults(error_rates={"429": 0.1})


async def test_error_rates_reach_the_client_the_same_way_for_the_same_seed() -> None:
    scenario = quiet_demo(error_rates={"500": 0.3, "503": 0.2})
    runs = []
    for seed in (scenario.seed, scenario.seed, scenario.seed + 5):
        async with (
            Simulator.for_scenario(scenario.with_overrides(seed=seed)) as sim,
            SimClients(sim) as aws,
        ):
            bedrock = await aws.client("bedrock")
            runs.append([await outcome(bedrock.list_model_copy_jobs) for _ in range(24)])
    assert runs[0] == runs[1] != runs[2]
    assert set(runs[0]) == {200, "InternalServerException", "ServiceUnavailableException"}


async def test_reset_rate_drops_connections_and_hang_rate_never_answers() -> None:
    async with (
        Simulator.for_scenario(quiet_demo(error_rates={"reset": 1.0})) as sim,
        SimClients(sim) as aws,
    ):
        bedrock = await aws.client("bedrock")
        with pytest.raises(ConnectionClosedError):
            await bedrock.list_custom_models()
    sim = Simulator.for_scenario(quiet_demo(error_rates={"hang": 1.0}))
    await sim.start()
    try:
        async with SimClients(sim, read_timeout=0.3) as aws:
            bedrock = await aws.client("bedrock")
            started = time.perf_counter()
            with pytest.raises(ReadTimeoutError):
                await bedrock.list_custom_models()
            assert time.perf_counter() - started >= 0.3
    finally:
        await asyncio.wait_for(sim.stop(), timeout=1.0)
    assert [c.status for c in sim.calls] == [None]


async def test_latency_delays_every_answer() -> None:
    async with Simulator.for_scenario(quiet_demo(latency_ms=150)) as sim, SimClients(sim) as aws:
        sts = await aws.client("sts")
        bedrock = await aws.client("bedrock")
        await bedrock.list_imported_models()  # connection set up: not part of the measure
        timings = []
        for call in (sts.get_caller_identity, bedrock.list_custom_models):
            started = time.perf_counter()
            await call()
            timings.append(time.perf_counter() - started)
    assert all(t >= 0.15 for t in timings), timings


def test_latency_jitter_is_seeded_and_bounded() -> None:
    def draws(seed: int) -> list[float]:
        faults = Faults(latency_ms=10, latency_jitter_ms=20, seed=seed)
        return [faults.latency(KEY) for _ in range(200)]

    first = draws(3)
    assert first == draws(3) and first != draws(4)
    assert all(0.010 <= d < 0.030 for d in first)
    assert max(first) - min(first) > 0.015
    assert Faults(latency_ms=25).latency(KEY) == 0.025
    assert Faults().latency(KEY) == 0


# --- denied accounts, regions not enabled -------------------------------------------------------


async def test_denied_accounts_and_regions_not_enabled_follow_the_scenario() -> None:
    scenario = quiet_demo(denied_accounts=1)
    async with Simulator.for_scenario(scenario) as sim, SimClients(sim) as aws:
        accounts = sim.world.accounts.values()
        denied = next(a for a in accounts if a.denied)
        lacking = next(a for a in accounts if "eu-central-2" not in a.regions)
        bedrock = await aws.client("bedrock", account=denied.account_id)
        refused = await outcome(bedrock.list_custom_models)
        who = await (await aws.client("sts", account=denied.account_id)).get_caller_identity()
        elsewhere = await aws.client("bedrock", region="eu-central-2", account=lacking.account_id)
        not_enabled = await outcome(elsewhere.list_imported_models)
        compute = await aws.client("ec2", region="eu-central-2", account=lacking.account_id)
        ec2_refused = await outcome(compute.describe_regions)
    assert refused == "AccessDeniedException"
    assert who["Account"] == denied.account_id  # the role works; Bedrock refuses it
    assert not_enabled == "UnrecognizedClientException"
    assert ec2_refused == "AuthFailure"


# --- filters ------------------------------------------------------------------------------------


async def test_list_filters_select_what_the_real_service_would() -> None:
    async with Simulator.for_scenario(quiet_demo()) as sim, SimClients(sim) as aws:
        world = sim.world
        account_id, region = max(
            ((a.account_id, r) for a in world.accounts.values() for r, _ in a.assets),
            key=lambda scope: len(world.accounts[scope[0]].items(scope[1], "custom-models")),
        )
        account = world.accounts[account_id]
        bedrock = await aws.client("bedrock", region=region, account=account_id)

        async def arns(method: str, key: str, arn: str = "modelArn", **kw: Any) -> set[str]:
            pages = bedrock.get_paginator(method).paginate(**kw)
            return {item[arn] async for page in pages for item in page[key]}

        models = account.items(region, "custom-models")
        jobs = account.items(region, "customization-jobs")
        copies = account.items(region, "copy-jobs")
        everything = await arns("list_custom_models", "modelSummaries")
        owned = await arns("list_custom_models", "modelSummaries", isOwned=True)
        shared = await arns("list_custom_models", "modelSummaries", isOwned=False)
        failed = await arns(
            "list_model_customization_jobs",
            "modelCustomizationJobSummaries",
            "jobArn",
            statusEquals="Failed",
        )
        cutoff = sorted(m["creationTime"] for m in models)[len(models) // 2]
        recent = await arns(
            "list_custom_models",
            "modelSummaries",
            creationTimeAfter=datetime.fromisoformat(cutoff).astimezone(UTC),
        )
        name = models[0]["modelName"][:6]
        named = await arns("list_custom_models", "modelSummaries", nameContains=name)
        source = copies[0]["sourceAccountId"]
        from_source = await arns(
            "list_model_copy_jobs", "modelCopyJobSummaries", "jobArn", sourceAccountEquals=source
        )
        base = models[0]["baseModelArn"]
        on_base = await arns("list_custom_models", "modelSummaries", baseModelArnEquals=base)
        bad = await outcome(lambda: bedrock.list_model_copy_jobs(statusEquals="Stopping"))
    assert everything == {m["modelArn"] for m in models}
    assert owned == {m["modelArn"] for m in models if m["ownerAccountId"] == account_id}
    assert shared == everything - owned and shared and owned
    assert failed == {j["jobArn"] for j in jobs if j["status"] == "Failed"} != set()
    assert recent == {m["modelArn"] for m in models if m["creationTime"] > cutoff} != set()
    assert named == {m["modelArn"] for m in models if name in m["modelName"]} != set()
    assert from_source == {c["jobArn"] for c in copies if c["sourceAccountId"] == source}
    assert on_base == {m["modelArn"] for m in models if m["baseModelArn"] == base}
    assert bad == "ValidationException"


# --- change while running -----------------------------------------------------------------------


async def test_advance_serves_the_next_step_to_the_same_clients() -> None:
    async with Simulator.for_scenario(quiet_demo()) as sim, SimClients(sim) as aws:
        member = list(sim.world.accounts)[1]
        bedrock = await aws.client("bedrock", account=member)

        async def listing() -> set[str]:
            pages = bedrock.get_paginator("list_model_customization_jobs").paginate()
            return {
                f"{j['jobArn']} {j['status']}"
                async for page in pages
                for j in page["modelCustomizationJobSummaries"]
            }

        before = await listing()
        world = sim.advance()
        after = await listing()
        assert sim.step == 1 and sim.world is world
        expected = {
            f"{j['jobArn']} {j['status']}"
            for region in ("us-east-1",)
            for j in world.accounts[member].items(region, "customization-jobs")
        }
    assert after == expected != before
