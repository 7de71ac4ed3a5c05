"""The simulator, exercised only through real aioboto3 clients (and raw HTTP where the SDK would
hide what is on the wire), so that it is held to the protocols botocore actually speaks."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aioboto3
import aiohttp
import botocore
import botocore.config
import botocore.session
import orjson
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    PaginationError,
    ReadTimeoutError,
)

from crawler.simulator import Account, Call, Faults, Simulator, World, factory
from crawler.simulator.world import COLLECTIONS

HOME = "111111111111"
MEMBER = "222222222222"
GUARDED = "333333333333"  # its role requires an external id
DENIED = "444444444444"
EXTERNAL_ID = "inventory-ext-7"
REGION = "us-east-1"
OTHER_REGION = "eu-central-1"

Credentials = tuple[str, str, str | None]


def role_arn(account_id: str, name: str = "InventoryReader") -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def models(account_id: str, region: str, count: int, prefix: str = "m") -> list[dict[str, Any]]:
    """``count`` custom models created a day apart; index 0 is the oldest."""
    start = datetime(2024, 1, 1, 10, tzinfo=UTC)
    return [
        factory.custom_model(
            account_id,
            region,
            f"{prefix}{i:03d}",
            created=(start + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for i in range(count)
    ]


def make_world() -> World:
    home = Account(HOME, regions={REGION, OTHER_REGION})
    for item in models(HOME, REGION, 7):
        home.add(REGION, "custom-models", item)
    home.add(OTHER_REGION, "custom-models", factory.custom_model(HOME, OTHER_REGION, "eu-only"))
    member = Account(MEMBER, regions={REGION})
    member.add(REGION, "custom-models", factory.custom_model(MEMBER, REGION, "member-model"))
    return World(
        accounts={
            HOME: home,
            MEMBER: member,
            GUARDED: Account(GUARDED, regions={REGION}, external_id=EXTERNAL_ID),
            DENIED: Account(DENIED, regions={REGION}, denied=True),
        },
        home_account=HOME,
    )


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(make_world(), Faults()) as running:
        yield running


@asynccontextmanager
async def aws(
    sim: Simulator,
    service: str,
    *,
    region: str = REGION,
    credentials: Credentials | None = None,
    **config: Any,
) -> AsyncIterator[Any]:
    access_key, secret, token = credentials or (*sim.base_credentials, None)
    session = aioboto3.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=region,
    )
    client_config = botocore.config.Config(retries={"total_max_attempts": 1}, **config)
    async with session.client(service, endpoint_url=sim.endpoint_url, config=client_config) as c:
        yield c


async def assume(sim: Simulator, account_id: str, **kwargs: str) -> Credentials:
    async with aws(sim, "sts") as sts:
        answer = await sts.assume_role(
            RoleArn=role_arn(account_id), RoleSessionName="inventory-crawl", **kwargs
        )
    creds = answer["Credentials"]
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


async def raw_get(
    sim: Simulator, path: str, *, access_key: str | None = None, region: str = REGION
) -> tuple[int, dict[str, str], Any]:
    """A GET with a SigV4-shaped header but no signature, to see bodies botocore would filter."""
    headers = {}
    if access_key is not None:
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={access_key}/20240501/{region}/bedrock/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00"
        )
    async with (
        aiohttp.ClientSession() as http,
        http.get(sim.endpoint_url + path, headers=headers) as response,
    ):
        return response.status, dict(response.headers), orjson.loads(await response.read())


# --- pagination -------------------------------------------------------------------------------


async def test_pages_follow_max_results_newest_first_and_end_without_token(
    sim: Simulator,
) -> None:
    expected = [m["modelArn"] for m in reversed(models(HOME, REGION, 7))]
    pages: list[list[str]] = []
    async with aws(sim, "bedrock") as bedrock:
        kwargs: dict[str, Any] = {"maxResults": 3}
        while True:
            page = await bedrock.list_custom_models(**kwargs)
            pages.append([m["modelArn"] for m in page["modelSummaries"]])
            if "nextToken" not in page:
                break
            kwargs["nextToken"] = page["nextToken"]
        ascending = await bedrock.list_custom_models(sortOrder="Ascending")
        exact = await bedrock.list_custom_models(maxResults=7)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [arn for page in pages for arn in page] == expected
    assert [m["modelArn"] for m in ascending["modelSummaries"]] == expected[::-1]
    assert "nextToken" not in exact  # a last page that is full still ends the listing


async def test_default_page_is_100_and_page_size_cap_overrides_max_results(
    sim: Simulator,
) -> None:
    account = sim.world.accounts[MEMBER]
    for item in models(MEMBER, REGION, 130, prefix="bulk"):
        account.add(REGION, "custom-models", item)
    creds = await assume(sim, MEMBER)
    async with aws(sim, "bedrock", credentials=creds) as bedrock:
        default = await bedrock.list_custom_models()
        sim.faults.page_size_cap = 50
        capped = bedrock.get_paginator("list_custom_models").paginate(
            PaginationConfig={"PageSize": 1000}
        )
        sizes = [len(page["modelSummaries"]) async for page in capped]
    assert len(default["modelSummaries"]) == 100
    assert "nextToken" in default
    assert sizes == [50, 50, 31]


async def test_empty_pages_still_carry_a_token_and_lose_nothing(sim: Simulator) -> None:
    sim.faults.empty_pages.add((HOME, REGION, "ListCustomModels"))
    async with aws(sim, "bedrock") as bedrock:
        pages = [
            page
            async for page in bedrock.get_paginator("list_custom_models").paginate(
                PaginationConfig={"PageSize": 3}
            )
        ]
    assert [len(p["modelSummaries"]) for p in pages] == [0, 3, 0, 3, 0, 1]
    assert all("nextToken" in p for p in pages[:-1])
    assert "nextToken" not in pages[-1]
    listed = {m["modelArn"] for p in pages for m in p["modelSummaries"]}
    assert listed == {m["modelArn"] for m in models(HOME, REGION, 7)}


async def test_repeat_token_returns_the_same_token_forever(sim: Simulator) -> None:
    sim.faults.repeat_token.add((HOME, REGION, "ListCustomModels"))
    async with aws(sim, "bedrock") as bedrock:
        first = await bedrock.list_custom_models(maxResults=3)
        second = await bedrock.list_custom_models(maxResults=3, nextToken=first["nextToken"])
        paginator = bedrock.get_paginator("list_custom_models").paginate()
        with pytest.raises(PaginationError, match="same next token"):
            async for _ in paginator:
                pass
    assert second["nextToken"] == first["nextToken"]
    assert second["modelSummaries"] == first["modelSummaries"]


async def test_out_of_range_max_results_and_bad_tokens_are_validation_errors(
    sim: Simulator,
) -> None:
    # botocore would refuse maxResults=0 itself; switch its checks off to reach the server.
    async with aws(sim, "bedrock", parameter_validation=False) as bedrock:
        jobs_page = await bedrock.list_model_customization_jobs(maxResults=1)
        foreign_token = base64.urlsafe_b64encode(
            orjson.dumps({"op": "ListModelCopyJobs", "offset": 3, "empty": False})
        ).decode()
        bad_requests: list[dict[str, Any]] = [
            {"maxResults": 0},
            {"maxResults": 1001},
            {"nextToken": "not-a-token"},
            {"nextToken": foreign_token},
            {"sortOrder": "Sideways"},
        ]
        for bad_request in bad_requests:
            with pytest.raises(ClientError) as info:
                await bedrock.list_custom_models(**bad_request)
            assert error_of(info) == ("ValidationException", 400), bad_request
        assert (await bedrock.list_custom_models(maxResults=1000))["modelSummaries"]
    assert "nextToken" not in jobs_page  # an empty collection is one page without a token
    status, _, body = await raw_get(
        sim, "/custom-models?maxResults=many", access_key=sim.base_credentials[0]
    )
    assert (status, body["message"].endswith("Member must be an integer")) == (400, True)


# --- errors and faults --------------------------------------------------------------------------


async def test_injected_statuses_reach_botocore_as_the_matching_client_errors(
    sim: Simulator,
) -> None:
    expected = [
        (400, "ValidationException"),
        (403, "AccessDeniedException"),
        (404, "ResourceNotFoundException"),
        (429, "ThrottlingException"),
        (500, "InternalServerException"),
        (503, "ServiceUnavailableException"),
    ]
    sim.faults.errors[(HOME, REGION, "ListImportedModels")] = [status for status, _ in expected]
    async with aws(sim, "bedrock") as bedrock:
        for status, code in expected:
            with pytest.raises(ClientError) as info:
                await bedrock.list_imported_models()
            assert error_of(info) == (code, status)
            assert info.value.response["Error"]["Message"]
        await bedrock.list_imported_models()  # the queue is used up
    assert sim.faults.errors[(HOME, REGION, "ListImportedModels")] == []
    assert [c.status for c in sim.calls] == [400, 403, 404, 429, 500, 503, 200]


async def test_throttle_answers_429_exactly_n_times_for_its_key_only(sim: Simulator) -> None:
    key = (HOME, REGION, "ListCustomModels")
    sim.faults.throttle[key] = 3
    async with (
        aws(sim, "bedrock") as bedrock,
        aws(sim, "bedrock", region=OTHER_REGION) as bedrock_eu,
    ):
        await bedrock.list_imported_models()  # other operation: not throttled
        await bedrock_eu.list_custom_models()  # other region: not throttled
        for _ in range(3):
            with pytest.raises(ClientError) as info:
                await bedrock.list_custom_models()
            assert error_of(info) == ("ThrottlingException", 429)
        await bedrock.list_custom_models()
    assert sim.faults.throttle[key] == 0
    throttled = [c.status for c in sim.calls if (c.account_id, c.region, c.operation) == key]
    assert throttled == [429, 429, 429, 200]
    assert len(sim.calls) == 6


async def test_sts_speaks_its_own_error_codes(sim: Simulator) -> None:
    sim.faults.throttle[(HOME, REGION, "AssumeRole")] = 1
    sim.faults.errors[(HOME, REGION, "GetCallerIdentity")] = [500]
    async with aws(sim, "sts") as sts:
        with pytest.raises(ClientError) as info:
            await sts.assume_role(RoleArn=role_arn(MEMBER), RoleSessionName="inventory-crawl")
        assert error_of(info) == ("Throttling", 400)  # what STS really answers, not 429
        with pytest.raises(ClientError) as info:
            await sts.get_caller_identity()
        assert error_of(info) == ("InternalFailure", 500)


async def test_connection_reset_is_a_botocore_connection_error_once(sim: Simulator) -> None:
    sim.faults.errors[(HOME, REGION, "ListCustomModels")] = ["reset"]
    async with aws(sim, "bedrock") as bedrock:
        with pytest.raises(ConnectionClosedError):
            await bedrock.list_custom_models()
        assert (await bedrock.list_custom_models())["modelSummaries"]
    assert [c.status for c in sim.calls] == [None, 200]


async def test_hang_never_answers_and_stop_releases_it_promptly() -> None:
    sim = Simulator(make_world(), Faults(errors={(HOME, REGION, "ListCustomModels"): ["hang"]}))
    await sim.start()
    try:
        async with aws(sim, "bedrock", read_timeout=0.3) as bedrock:
            with pytest.raises(ReadTimeoutError):
                await bedrock.list_custom_models()
            assert (await bedrock.list_imported_models())["modelSummaries"] == []
    finally:
        # Shutdown would wait SHUTDOWN_TIMEOUT_SECONDS (2 s) for a handler still hanging.
        await asyncio.wait_for(sim.stop(), timeout=1.0)
    assert [(c.operation, c.status) for c in sim.calls] == [
        ("ListCustomModels", None),
        ("ListImportedModels", 200),
    ]


def test_unknown_fault_specs_are_rejected_up_front() -> None:
    with pytest.raises(ValueError, match="418"):
        Faults(errors={(HOME, REGION, "ListCustomModels"): [418]})
    with pytest.raises(ValueError, match="page_size_cap"):
        Faults(page_size_cap=0)


# --- identity -----------------------------------------------------------------------------------


async def test_assumed_role_acts_in_the_role_account(sim: Simulator) -> None:
    async with aws(sim, "sts") as sts:
        me = await sts.get_caller_identity()
    creds = await assume(sim, MEMBER)
    async with (
        aws(sim, "bedrock", credentials=creds) as bedrock,
        aws(sim, "sts", credentials=creds) as sts,
    ):
        listed = await bedrock.list_custom_models()
        role = await sts.get_caller_identity()
    assert (me["Account"], me["Arn"]) == (HOME, f"arn:aws:iam::{HOME}:user/inventory")
    assert creds[0].startswith("ASIA")
    assert role["Account"] == MEMBER
    assert role["Arn"] == f"arn:aws:sts::{MEMBER}:assumed-role/InventoryReader/inventory-crawl"
    assert [m["modelName"] for m in listed["modelSummaries"]] == ["member-model"]
    assert sim.calls[-2] == Call("bedrock", "ListCustomModels", MEMBER, REGION, 200, creds[0])


async def test_assumed_key_needs_its_session_token(sim: Simulator) -> None:
    access_key, secret, _ = await assume(sim, MEMBER)
    async with aws(sim, "bedrock", credentials=(access_key, secret, "forged")) as bedrock:
        with pytest.raises(ClientError) as info:
            await bedrock.list_custom_models()
    assert error_of(info) == ("UnrecognizedClientException", 403)


async def test_credentials_expire_after_their_ttl(sim: Simulator) -> None:
    sim.faults.credential_ttl_seconds = -60  # already expired when issued: no sleeping
    async with aws(sim, "sts") as sts:
        answer = await sts.assume_role(RoleArn=role_arn(MEMBER), RoleSessionName="inventory-crawl")
    c = answer["Credentials"]
    creds = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    async with (
        aws(sim, "bedrock", credentials=creds) as bedrock,
        aws(sim, "sts", credentials=creds) as sts,
    ):
        with pytest.raises(ClientError) as info:
            await bedrock.list_custom_models()
        assert error_of(info) == ("ExpiredTokenException", 403)
        with pytest.raises(ClientError) as info:
            await sts.get_caller_identity()
        assert error_of(info) == ("ExpiredTokenException", 400)  # the sts model's status
    sim.faults.credential_ttl_seconds = 3600
    fresh = await assume(sim, MEMBER)
    async with aws(sim, "bedrock", credentials=fresh) as bedrock:
        await bedrock.list_custom_models()
    assert c["Expiration"] < datetime.now(UTC)


@pytest.mark.parametrize(
    ("account_id", "role", "extra"),
    [
        (MEMBER, "NoSuchRole", {}),
        ("999999999999", "InventoryReader", {}),
        (GUARDED, "InventoryReader", {}),
        (GUARDED, "InventoryReader", {"ExternalId": "wrong-id"}),
    ],
    ids=["unknown-role", "unknown-account", "missing-external-id", "wrong-external-id"],
)
async def test_assume_role_refusals_are_sts_access_denied(
    sim: Simulator, account_id: str, role: str, extra: dict[str, str]
) -> None:
    async with aws(sim, "sts") as sts:
        with pytest.raises(ClientError) as info:
            await sts.assume_role(
                RoleArn=role_arn(account_id, role), RoleSessionName="inventory-crawl", **extra
            )
    assert error_of(info) == ("AccessDenied", 403)
    assert info.value.response["Error"]["Type"] == "Sender"


async def test_external_id_opens_the_guarded_role(sim: Simulator) -> None:
    creds = await assume(sim, GUARDED, ExternalId=EXTERNAL_ID)
    async with aws(sim, "bedrock", credentials=creds) as bedrock:
        assert (await bedrock.list_custom_models())["modelSummaries"] == []
    assert sim.world.accounts[GUARDED].assets == {}  # reading an empty scope creates nothing


async def test_denied_account_and_disabled_region_and_unknown_key(sim: Simulator) -> None:
    denied = await assume(sim, DENIED)
    async with aws(sim, "bedrock", credentials=denied) as bedrock:
        with pytest.raises(ClientError) as info:
            await bedrock.list_model_copy_jobs()
        assert error_of(info) == ("AccessDeniedException", 403)
    async with aws(sim, "bedrock", region="ap-southeast-3") as bedrock:
        with pytest.raises(ClientError) as info:
            await bedrock.list_custom_models()
        assert error_of(info) == ("UnrecognizedClientException", 403)
        assert "security token included in the request is invalid" in str(info.value)
    async with aws(sim, "bedrock", credentials=("AKIAUNKNOWN000000000", "x", None)) as bedrock:
        with pytest.raises(ClientError) as info:
            await bedrock.list_custom_models()
        assert error_of(info) == ("UnrecognizedClientException", 403)
    assert [c.account_id for c in sim.calls[-3:]] == [DENIED, HOME, None]


async def test_unsigned_requests_are_missing_authentication(sim: Simulator) -> None:
    async with aws(sim, "bedrock", signature_version=botocore.UNSIGNED) as bedrock:
        with pytest.raises(ClientError) as info:
            await bedrock.list_custom_models()
    assert error_of(info) == ("MissingAuthenticationTokenException", 403)
    async with aws(sim, "sts", signature_version=botocore.UNSIGNED) as sts:
        with pytest.raises(ClientError) as info:
            await sts.get_caller_identity()
    assert error_of(info) == ("MissingAuthenticationToken", 403)
    assert [(c.service, c.account_id, c.status) for c in sim.calls] == [
        ("bedrock", None, 403),
        ("sts", None, 403),
    ]


# --- resources ----------------------------------------------------------------------------------


async def test_every_list_operation_returns_its_collection(sim: Simulator) -> None:
    home = sim.world.accounts[HOME]
    source = home.items(REGION, "custom-models")[0]
    job = home.add(
        REGION,
        "customization-jobs",
        factory.customization_job(HOME, REGION, "j", custom_model=source),
    )
    copy = home.add(
        REGION, "copy-jobs", factory.copy_job(HOME, REGION, source_model=source, target_name="c")
    )
    imported = home.add(REGION, "imported-models", factory.imported_model(HOME, REGION, "imp"))
    async with aws(sim, "bedrock") as bedrock:
        jobs = (await bedrock.list_model_customization_jobs())["modelCustomizationJobSummaries"]
        copies = (await bedrock.list_model_copy_jobs())["modelCopyJobSummaries"]
        imports = (await bedrock.list_imported_models())["modelSummaries"]
    assert [(j["jobArn"], j["customModelArn"]) for j in jobs] == [
        (job["jobArn"], source["modelArn"])
    ]
    assert [(c["jobArn"], c["sourceAccountId"]) for c in copies] == [(copy["jobArn"], HOME)]
    assert [i["modelArn"] for i in imports] == [imported["modelArn"]]


async def test_imported_models_list_summaries_and_get_full_bodies(sim: Simulator) -> None:
    home = sim.world.accounts[HOME]
    model = home.add(
        REGION,
        "imported-models",
        factory.imported_model(
            HOME,
            REGION,
            "llama-ft",
            kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/k",
            futureField={"from": "a newer API"},
        ),
    )
    _, _, listed = await raw_get(sim, "/imported-models", access_key=sim.base_credentials[0])
    (summary,) = listed["modelSummaries"]
    assert set(summary) == {
        "modelArn",
        "modelName",
        "creationTime",
        "instructSupported",
        "modelArchitecture",
        "futureField",
    }
    async with aws(sim, "bedrock") as bedrock:
        by_arn = await bedrock.get_imported_model(modelIdentifier=model["modelArn"])
        by_name = await bedrock.get_imported_model(modelIdentifier="llama-ft")
        with pytest.raises(ClientError) as info:
            await bedrock.get_imported_model(modelIdentifier="no-such-model")
        assert error_of(info) == ("ResourceNotFoundException", 404)
        sim.faults.not_found_on_get.add(model["modelArn"])
        with pytest.raises(ClientError) as info:
            await bedrock.get_imported_model(modelIdentifier=model["modelArn"])
        assert error_of(info) == ("ResourceNotFoundException", 404)
    assert by_arn["modelArn"] == by_name["modelArn"] == model["modelArn"]
    assert by_arn["modelDataSource"] == model["modelDataSource"]
    assert by_arn["customModelUnits"] == model["customModelUnits"]
    assert by_arn["modelKmsKeyArn"] == model["modelKmsKeyArn"]
    assert by_arn["jobArn"] == model["jobArn"]


def test_detail_only_members_are_those_botocore_knows_only_from_get() -> None:
    service = botocore.session.get_session().get_service_model("bedrock")
    get = service.operation_model("GetImportedModel").output_shape.members
    summary = service.shape_for("ImportedModelSummary").members
    assert COLLECTIONS["imported-models"].detail_only == set(get) - set(summary)


async def test_world_changes_show_up_on_the_next_call(sim: Simulator) -> None:
    home = sim.world.accounts[HOME]
    newest = models(HOME, REGION, 7)[-1]["modelArn"]
    async with aws(sim, "bedrock") as bedrock:
        before = await bedrock.list_custom_models()
        assert home.remove(REGION, "custom-models", newest) == 1
        assert home.remove(REGION, "custom-models", lambda m: m["modelName"] == "m000") == 1
        after = await bedrock.list_custom_models()
    assert len(before["modelSummaries"]) == 7
    assert newest not in {m["modelArn"] for m in after["modelSummaries"]}
    assert len(after["modelSummaries"]) == 5
    with pytest.raises(KeyError):
        home.remove(REGION, "custom-models", newest)
    with pytest.raises(KeyError, match="unknown collection"):
        home.add(REGION, "custom-model", {"modelArn": newest})


# --- factory and lifecycle ----------------------------------------------------------------------


def test_factory_ids_are_stable_and_shaped_like_aws() -> None:
    service = botocore.session.get_session().get_service_model("bedrock")
    imported_pattern = service.shape_for("ImportedModelIdentifier").metadata["pattern"]
    source = factory.custom_model(MEMBER, REGION, "fraud", base_model_id="amazon.nova-micro-v1:0")
    copy = factory.copy_job(HOME, OTHER_REGION, source_model=source, target_name="fraud-eu")
    target = factory.custom_model(
        HOME, OTHER_REGION, "fraud-eu", base_model_id="amazon.nova-micro-v1:0"
    )
    imported = factory.imported_model(HOME, REGION, "imp", instructSupported=False, extra=1)
    job = factory.customization_job(HOME, REGION, "job", custom_model=None, status="InProgress")

    assert factory.custom_model(MEMBER, REGION, "fraud") == factory.custom_model(
        MEMBER, REGION, "fraud"
    )
    assert re.fullmatch(r".*/[a-z0-9]{12}", source["modelArn"])
    assert source["baseModelArn"] == (
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"
    )
    assert copy["targetModelArn"] == target["modelArn"]
    assert copy["sourceAccountId"] == MEMBER
    assert re.fullmatch(imported_pattern, imported["modelArn"])
    assert (imported["instructSupported"], imported["extra"]) == (False, 1)
    assert "endTime" not in job and "customModelArn" not in job


async def test_lifecycle_loopback_only_and_restartable() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Simulator(make_world(), host="0.0.0.0")
    sim = Simulator(make_world())
    with pytest.raises(RuntimeError):
        _ = sim.endpoint_url
    await sim.start()
    assert sim.endpoint_url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        await sim.start()
    await sim.stop()
    await sim.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = sim.endpoint_url
