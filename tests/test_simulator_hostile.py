"""The hostile scenario: data outside the SDK's model reaches a real client intact."""

from __future__ import annotations

from typing import Any

import orjson

from crawler.simulator import Simulator, load_scenario
from crawler.simulator.clients import SimClients
from crawler.simulator.world import COLLECTIONS

LISTS = {
    "custom-models": ("list_custom_models", "modelSummaries"),
    "customization-jobs": ("list_model_customization_jobs", "modelCustomizationJobSummaries"),
    "copy-jobs": ("list_model_copy_jobs", "modelCopyJobSummaries"),
    "imported-models": ("list_imported_models", "modelSummaries"),
}


async def test_hostile_data_and_empty_pages_reach_the_client() -> None:
    async with Simulator.for_scenario(load_scenario("hostile")) as sim, SimClients(sim) as aws:
        parsed: dict[str, list[dict[str, Any]]] = {c: [] for c in LISTS}
        expected: dict[str, list[str]] = {c: [] for c in LISTS}
        details = []
        for account in sim.world.accounts.values():
            for region in sim.world.regions:
                bedrock = await aws.client("bedrock", region=region, account=account.account_id)
                for collection, (method, key) in LISTS.items():
                    arn = COLLECTIONS[collection].arn_key
                    expected[collection] += [i[arn] for i in account.items(region, collection)]
                    pages = bedrock.get_paginator(method).paginate(PaginationConfig={"PageSize": 4})
                    async for page in pages:
                        parsed[collection] += page[key]
                for model in account.items(region, "imported-models"):
                    details.append(
                        await bedrock.get_imported_model(modelIdentifier=model["modelArn"])
                    )
    raw = [orjson.loads(b.body) for b in aws.bodies if b.operation.startswith("List")]
    names = [
        item.get(key, "")
        for collection, items in parsed.items()
        for item in items
        for key in ("modelName", "jobName", "targetModelName")
    ]
    enums = {
        item.get(key)
        for items in parsed.values()
        for item in items
        for key in ("status", "customizationType")
    }

    # Nothing is lost: every stored item was listed once, despite the empty pages.
    for collection, items in parsed.items():
        arn = COLLECTIONS[collection].arn_key
        assert sorted(i[arn] for i in items) == sorted(expected[collection])
    # Empty pages that still carry a token came first, and were followed.
    empty = [page for page in raw if not any(isinstance(v, list) and v for v in page.values())]
    assert sum("nextToken" in page for page in empty) >= len(raw) // 2
    # Values the SDK's model does not allow are passed through as they are ...
    assert {"REINFORCEMENT_FINE_TUNING", "Queued"} <= enums
    assert any(len(name) > 200 for name in names)
    assert any("\x00" in name for name in names)
    assert any("客服" in name and "🚀" in name for name in names)
    assert any("\x00" in d["modelName"] or len(d["modelName"]) > 63 for d in details)
    # ... while members it does not know are on the wire and dropped by botocore's parser.
    on_the_wire = {
        k for page in raw for v in page.values() if isinstance(v, list) for i in v for k in i
    }
    assert {"futureMember", "rftConfig"} <= on_the_wire
    assert not any("futureMember" in item for items in parsed.values() for item in items)
