"""Fidelity: every body the simulator answers with must satisfy botocore's own service model.

Each scenario is crawled through real aioboto3 clients (every operation, every page) and every
raw body is checked by ``validate_response``; the validator is shown to catch what it should.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from crawler.simulator import Faults, Simulator, ec2, factory, load_scenario, organizations, sts
from crawler.simulator.bedrock import ROUTES
from crawler.simulator.clients import SimClients
from crawler.simulator.validate import validate_response

SERVED = {
    *(("bedrock", route.operation) for route in ROUTES),
    *(("sts", op) for op in sts.OPERATIONS),
    *(("ec2", op) for op in ec2.OPERATIONS),
    *(("organizations", op) for op in organizations.OPERATIONS),
}
LISTS = {
    "list_custom_models": "modelSummaries",
    "list_model_customization_jobs": "modelCustomizationJobSummaries",
    "list_model_copy_jobs": "modelCopyJobSummaries",
    "list_imported_models": "modelSummaries",
}


async def crawl_everything(
    sim: Simulator, aws: SimClients, accounts: list[str], *, gets_per_scope: int
) -> int:
    """Every operation the simulator serves, through all pages, for ``accounts``; returns how
    many items the lists returned."""
    listed = 0
    for account_id in accounts:
        account = sim.world.accounts[account_id]
        if account.denied:
            continue
        for region in sim.world.regions:
            if region not in account.regions:
                continue
            bedrock = await aws.client("bedrock", region=region, account=account_id)
            for method, key in LISTS.items():
                for extra in ({}, {"isOwned": True}) if method == "list_custom_models" else ({},):
                    paginator = bedrock.get_paginator(method).paginate(
                        PaginationConfig={"PageSize": 250}, **extra
                    )
                    async for _ in paginator:
                        listed += len(orjson.loads(aws.bodies[-1].body)[key])
            await bedrock.list_imported_models(maxResults=gets_per_scope)
            for summary in orjson.loads(aws.bodies[-1].body)["modelSummaries"]:
                await bedrock.get_imported_model(modelIdentifier=summary["modelArn"])
                await bedrock.get_imported_model(modelIdentifier=summary["modelName"])
        await (await aws.client("sts", account=account_id)).get_caller_identity()
        compute = await aws.client("ec2", account=account_id)
        await compute.describe_regions()
        await compute.describe_regions(AllRegions=True)
    orgs = await aws.client("organizations")
    async for _ in orgs.get_paginator("list_accounts").paginate():
        pass
    return listed


def problems_of(aws: SimClients) -> tuple[Counter[tuple[str, str]], list[str]]:
    checked: Counter[tuple[str, str]] = Counter()
    problems: list[str] = []
    for raw in aws.bodies:
        if raw.status != 200:
            continue
        checked[(raw.service, raw.operation)] += 1
        problems += [
            f"{raw.operation}: {p}" for p in validate_response(raw.service, raw.operation, raw.body)
        ]
    return checked, problems


@pytest.mark.parametrize("name", ["demo", "large-org"])
async def test_every_answer_of_every_operation_fits_botocores_model(name: str) -> None:
    scenario = load_scenario(name)
    async with (
        Simulator.for_scenario(scenario, step=1, faults=Faults()) as sim,
        SimClients(sim, parse_items=False) as aws,
    ):
        world = sim.world
        if name == "demo":
            accounts = list(world.accounts)
        else:  # a sample: the home account, the account with the largest scope, two more
            largest = max(
                world.accounts.values(),
                key=lambda a: max((len(v) for v in a.assets.values()), default=0),
            )
            lacking = next(a for a in world.accounts.values() if len(a.regions) < 4 and a.assets)
            denied = next(a for a in world.accounts.values() if a.denied)
            accounts = [
                world.home_account,
                largest.account_id,
                lacking.account_id,
                denied.account_id,
            ]
        listed = await crawl_everything(sim, aws, accounts, gets_per_scope=25)
    checked, problems = problems_of(aws)
    assert problems == []
    assert set(checked) == SERVED  # every operation was answered and checked
    assert listed > (200 if name == "demo" else 3000)
    assert checked[("organizations", "ListAccounts")] == -(-scenario.accounts // 20)


async def test_hostile_answers_are_outside_the_model_and_the_rest_inside() -> None:
    async with (
        Simulator.for_scenario(load_scenario("hostile"), faults=Faults()) as sim,
        SimClients(sim) as aws,
    ):
        await crawl_everything(sim, aws, list(sim.world.accounts), gets_per_scope=100)
    checked, problems = problems_of(aws)
    assert set(checked) == SERVED
    text = "\n".join(problems)
    assert "'REINFORCEMENT_FINE_TUNING' is not a value of enum CustomizationType" in text
    assert "'Queued' is not a value of enum ModelCopyJobStatus" in text
    assert "futureMember: member unknown to" in text
    assert "CustomModelName allows at most 63" in text
    assert not any(
        op.startswith(("GetCallerIdentity", "AssumeRole", "Describe", "ListAcc")) for op in problems
    )


# --- the validator can fail ---------------------------------------------------------------------


def good_model() -> dict[str, Any]:
    return factory.custom_model("111122223333", "us-east-1", "support-bot")


def list_body(*items: dict[str, Any], **extra: Any) -> bytes:
    return orjson.dumps({"modelSummaries": list(items), **extra})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("modelArn"), "modelSummaries[0].modelArn: required member"),
        (
            lambda m: m.update(customizationType="REINFORCEMENT_FINE_TUNING"),
            "is not a value of enum CustomizationType",
        ),
        (lambda m: m.update(modelStatus=1), "expected a string"),
        (lambda m: m.update(futureMember=True), "futureMember: member unknown"),
        (
            lambda m: m.update(modelName="x" * 64),
            "64 characters, CustomModelName allows at most 63",
        ),
        (lambda m: m.update(creationTime=1714557600), "expected an iso8601 timestamp string"),
        (lambda m: m.update(creationTime="yesterday"), "is not an iso8601 timestamp"),
        (lambda m: m.update(ownerAccountId="12345"), "does not match the pattern of AccountId"),
        (lambda m: m.update(baseModelName="Titan Text G1"), "pattern of ModelName"),
    ],
)
def test_bad_bedrock_bodies_are_caught(change: Any, expected: str) -> None:
    model = good_model()
    assert validate_response("bedrock", "ListCustomModels", list_body(model)) == []
    change(model)
    problems = validate_response("bedrock", "ListCustomModels", list_body(model))
    assert any(expected in p for p in problems), problems


def test_bad_shapes_of_every_protocol_are_caught() -> None:
    imported = factory.imported_model("111122223333", "us-east-1", "llama")
    assert validate_response("bedrock", "GetImportedModel", orjson.dumps(imported)) == []
    imported["modelDataSource"] = {}
    assert "union ModelDataSource must set exactly one member" in " ".join(
        validate_response("bedrock", "GetImportedModel", orjson.dumps(imported))
    )
    assert validate_response("bedrock", "ListCustomModels", b"{oops")[0].startswith("body is not")
    assert validate_response("bedrock", "ListCustomModels", list_body(nextToken="")) == [
        "nextToken: 0 characters, PaginationToken needs at least 1"
    ]
    assert validate_response("bedrock", "ListCustomModels", b'{"modelSummaries": {}}') == [
        "modelSummaries: expected a list (CustomModelSummaryList), got dict"
    ]
    account = {"Id": "111122223333", "JoinedTimestamp": "2024-01-01T00:00:00Z", "Email": "a@b"}
    problems = validate_response(
        "organizations", "ListAccounts", orjson.dumps({"Accounts": [account]})
    )
    assert any("expected epoch seconds" in p for p in problems)
    assert any("Email needs at least 6" in p for p in problems)

    ec2_ok = (
        b'<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        b"<requestId>r</requestId><regionInfo><item><regionName>us-east-1</regionName>"
        b"</item></regionInfo></DescribeRegionsResponse>"
    )
    assert validate_response("ec2", "DescribeRegions", ec2_ok) == []
    wrong = ec2_ok.replace(b"regionName>", b"regionNom>").replace(b"Describe", b"Descibe")
    problems = validate_response("ec2", "DescribeRegions", wrong)
    assert any("root element is <DescibeRegionsResponse>" in p for p in problems)
    assert any("unknown element <regionNom>" in p for p in problems)
    assert validate_response("ec2", "DescribeRegions", b"<unclosed")[0].startswith("body is not")

    sts_body = (
        b"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA000000000000000"
        b"</AccessKeyId><SecretAccessKey>s</SecretAccessKey><Expiration>2024-01-01T00:00:00Z"
        b"</Expiration></Credentials><PackedPolicySize>many</PackedPolicySize>"
        b"</AssumeRoleResult></AssumeRoleResponse>"
    )
    problems = validate_response("sts", "AssumeRole", sts_body)
    assert any("Credentials.SessionToken: required member" in p for p in problems)
    assert any("PackedPolicySize: expected an integer" in p for p in problems)
    unwrapped = sts_body.replace(b"AssumeRoleResult>", b"Result>")
    assert "no <AssumeRoleResult> element" in validate_response("sts", "AssumeRole", unwrapped)
