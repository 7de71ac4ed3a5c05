"""Region and account discovery: EC2 DescribeRegions (ec2 query protocol, XML) and Organizations
ListAccounts (JSON 1.1), through real aioboto3 clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import botocore
import pytest
from botocore.exceptions import ClientError

from crawler.simulator import Faults, Simulator, load_scenario
from crawler.simulator.clients import SimClients


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
async def org() -> AsyncIterator[tuple[Simulator, SimClients]]:
    """The demo organisation grown to 45 accounts, without latency or throttling."""
    scenario = load_scenario("demo").with_overrides(accounts=45)
    async with Simulator.for_scenario(scenario, faults=Faults()) as sim, SimClients(sim) as aws:
        yield sim, aws


def statuses(answer: dict[str, Any]) -> dict[str, str]:
    return {r["RegionName"]: r["OptInStatus"] for r in answer["Regions"]}


async def test_describe_regions_reports_each_accounts_opt_in_status(
    org: tuple[Simulator, SimClients],
) -> None:
    sim, aws = org
    home = sim.world.home_account
    lacking = next(a for a in sim.world.accounts.values() if "eu-central-2" not in a.regions)
    mine = await aws.client("ec2")
    theirs = await aws.client("ec2", account=lacking.account_id)
    assert statuses(await mine.describe_regions(AllRegions=True)) == {
        "us-east-1": "opt-in-not-required",
        "us-west-2": "opt-in-not-required",
        "eu-central-2": "opted-in",
    }
    assert statuses(await theirs.describe_regions(AllRegions=True)) == {
        "us-east-1": "opt-in-not-required",
        "us-west-2": "opt-in-not-required",
        "eu-central-2": "not-opted-in",
    }
    enabled = await theirs.describe_regions()
    assert sorted(statuses(enabled)) == ["us-east-1", "us-west-2"]
    assert enabled["Regions"][0]["Endpoint"] == "ec2.us-east-1.amazonaws.com"
    named = await mine.describe_regions(RegionNames=["eu-central-2", "us-west-2"])
    assert sorted(statuses(named)) == ["eu-central-2", "us-west-2"]
    opted_out = await theirs.describe_regions(
        AllRegions=True, Filters=[{"Name": "opt-in-status", "Values": ["not-opted-in"]}]
    )
    assert statuses(opted_out) == {"eu-central-2": "not-opted-in"}
    assert home != lacking.account_id


async def test_describe_regions_errors_in_ec2s_own_codes(
    org: tuple[Simulator, SimClients],
) -> None:
    sim, aws = org
    ec2 = await aws.client("ec2")
    with pytest.raises(ClientError) as info:
        await ec2.describe_regions(DryRun=True)
    assert error_of(info) == ("DryRunOperation", 412)
    with pytest.raises(ClientError) as info:
        await ec2.describe_regions(RegionNames=["mars-east-1"])
    assert error_of(info) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as info:
        await ec2.describe_regions(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert error_of(info) == ("InvalidParameterValue", 400)
    sim.faults.throttle[(sim.world.home_account, "us-east-1", "DescribeRegions")] = 1
    with pytest.raises(ClientError) as info:
        await ec2.describe_regions()
    assert error_of(info) == ("RequestLimitExceeded", 503)
    async with SimClients(sim, signature_version=botocore.UNSIGNED) as anonymous:
        with pytest.raises(ClientError) as info:
            await (await anonymous.client("ec2", credentials=("x", "y", None))).describe_regions()
    assert error_of(info) == ("MissingAuthenticationToken", 401)


async def test_list_accounts_pages_through_the_organisation(
    org: tuple[Simulator, SimClients],
) -> None:
    sim, aws = org
    orgs = await aws.client("organizations")
    pages = [
        page
        async for page in orgs.get_paginator("list_accounts").paginate(
            PaginationConfig={"PageSize": 20}
        )
    ]
    accounts = [a for page in pages for a in page["Accounts"]]
    assert [len(page["Accounts"]) for page in pages] == [20, 20, 5]
    assert [a["Id"] for a in accounts] == list(sim.world.accounts)
    home = sim.world.home_account
    assert all(
        a["Arn"] == f"arn:aws:organizations::{home}:account/{sim.world.org_id}/{a['Id']}"
        for a in accounts
    )
    assert accounts[0]["Name"] == "management" and accounts[0]["JoinedMethod"] == "INVITED"
    assert {a["Status"] for a in accounts} == {"ACTIVE"}
    assert len({a["Email"] for a in accounts}) == 45
    small = await orgs.list_accounts(MaxResults=7)
    assert len(small["Accounts"]) == 7 and small["NextToken"]
    # A global service: it answers whatever region the client signs for.
    anywhere = await aws.client("organizations", region="ap-southeast-7")
    assert len((await anywhere.list_accounts())["Accounts"]) == 20


async def test_list_accounts_refuses_members_and_bad_input(
    org: tuple[Simulator, SimClients],
) -> None:
    sim, aws = org
    member = list(sim.world.accounts)[3]
    with pytest.raises(ClientError) as info:
        await (await aws.client("organizations", account=member)).list_accounts()
    assert error_of(info) == ("AccessDeniedException", 400)
    async with SimClients(sim, parameter_validation=False) as loose:
        orgs = await loose.client("organizations")
        for bad in ({"MaxResults": 21}, {"MaxResults": 0}, {"NextToken": "garbage"}):
            with pytest.raises(ClientError) as info:
                await orgs.list_accounts(**bad)
            assert error_of(info) == ("InvalidInputException", 400), bad
    sim.faults.throttle[(sim.world.home_account, "us-east-1", "ListAccounts")] = 1
    with pytest.raises(ClientError) as info:
        await (await aws.client("organizations")).list_accounts()
    assert error_of(info) == ("TooManyRequestsException", 400)
