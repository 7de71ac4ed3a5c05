"""Worlds the crawler tests run against, and what a correct crawl of them must load."""

from __future__ import annotations

from crawler.simulator import Account, World, factory

HOME = "111111111111"
OTHER = "222222222222"
REGIONS = ("us-east-1", "eu-central-1")
ROLE = "InventoryReader"

# collection (simulator) -> table (crawler)
TABLES = {
    "custom-models": "custom_models",
    "customization-jobs": "model_customization_jobs",
    "copy-jobs": "model_copy_jobs",
    "imported-models": "imported_models",
}
ARN_KEYS = {
    "custom-models": "modelArn",
    "customization-jobs": "jobArn",
    "copy-jobs": "jobArn",
    "imported-models": "modelArn",
}


def two_accounts_two_regions() -> World:
    """Two accounts x two regions with every resource and the links between them: models and
    the jobs that made them, a copy across regions, a copy across accounts, imported models,
    and one empty (account, region)."""
    home = Account(HOME, regions=set(REGIONS))
    other = Account(OTHER, regions=set(REGIONS))

    for index in range(3):
        model = factory.custom_model(
            HOME, "us-east-1", f"support-bot-v{index}", created=f"2024-05-0{index + 1}T10:00:00Z"
        )
        home.add("us-east-1", "custom-models", model)
        home.add(
            "us-east-1",
            "customization-jobs",
            factory.customization_job(
                HOME, "us-east-1", f"support-bot-v{index}-ft", custom_model=model
            ),
        )
    home.add(
        "us-east-1",
        "customization-jobs",
        factory.customization_job(
            HOME, "us-east-1", "failed-try", custom_model=None, status="Failed"
        ),
    )
    home.add(
        "us-east-1", "imported-models", factory.imported_model(HOME, "us-east-1", "llama-legal")
    )

    source = home.items("us-east-1", "custom-models")[0]
    regional = factory.copy_job(
        HOME, "eu-central-1", source_model=source, target_name="support-bot-eu"
    )
    home.add("eu-central-1", "copy-jobs", regional)
    home.add(
        "eu-central-1",
        "custom-models",
        factory.custom_model(
            HOME, "eu-central-1", "support-bot-eu", created="2024-05-02T11:00:00Z"
        ),
    )

    cross = factory.copy_job(OTHER, "us-east-1", source_model=source, target_name="shared-bot")
    other.add("us-east-1", "copy-jobs", cross)
    other.add(
        "us-east-1",
        "custom-models",
        factory.custom_model(OTHER, "us-east-1", "shared-bot", created="2024-05-02T12:00:00Z"),
    )
    for index in range(2):
        other.add(
            "us-east-1",
            "imported-models",
            factory.imported_model(OTHER, "us-east-1", f"mistral-{index}"),
        )
    # OTHER / eu-central-1 stays empty: an empty scope is a successful one.
    return World(accounts={HOME: home, OTHER: other}, home_account=HOME)


def expected_arns(world: World, collection: str) -> set[str]:
    key = ARN_KEYS[collection]
    return {
        item[key]
        for account in world.accounts.values()
        for (_, coll), items in account.assets.items()
        if coll == collection
        for item in items
    }
