"""The base every layer may import: the project's root error and where its cache lives.

Dependencies point one way, `newsqa` <- `index` <- `qa` <- (`ui`, `eval`, the CLI), so what both
`index` and `qa` need lives here, below them. It imports nothing else of the project. The API
is `qa` (`from qa import Assistant`), not this package.
"""


def version() -> str:
    """The installed package's version ("0+source" when running from a source tree)."""
    try:
        from importlib.metadata import version as installed

        return installed("newsqa")
    except Exception:  # not installed as a distribution
        return "0+source"
