"""bedrock-inventory: a living, queryable inventory of AWS Bedrock model assets in Postgres."""

__version__ = "0.1.0"

__all__ = ["__version__"]
