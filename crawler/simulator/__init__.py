"""A local fake AWS endpoint (Bedrock control plane and STS) for testing the crawler.

It speaks the real wire protocols, so an unmodified aioboto3 client reaches it through
``endpoint_url`` / ``AWS_ENDPOINT_URL``, and it misbehaves on request (:class:`Faults`).
"""

from . import factory
from .faults import Faults
from .server import Call, Simulator
from .world import Account, World

__all__ = ["Account", "Call", "Faults", "Simulator", "World", "factory"]
