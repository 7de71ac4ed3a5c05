"""A local fake AWS endpoint (Bedrock control plane, STS, EC2 DescribeRegions, Organizations
ListAccounts) for testing and demonstrating the crawler.

It speaks the real wire protocols, so an unmodified aioboto3 client reaches it through
``endpoint_url`` / ``AWS_ENDPOINT_URL``, and it misbehaves on request (:class:`Faults`). Whole
estates come from scenarios (:mod:`.scenario`), and every answer can be checked against
botocore's service models (:mod:`.validate`).
"""

from . import factory
from .faults import Faults
from .scenario import (
    Scenario,
    ScenarioError,
    build_world,
    builtin_scenarios,
    expected_inventory,
    faults_for,
    load_scenario,
)
from .server import Call, Simulator
from .world import Account, World

__all__ = [
    "Account",
    "Call",
    "Faults",
    "Scenario",
    "ScenarioError",
    "Simulator",
    "World",
    "build_world",
    "builtin_scenarios",
    "expected_inventory",
    "factory",
    "faults_for",
    "load_scenario",
]
