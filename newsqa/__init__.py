"""The base every layer may import: the project's root error and where its cache lives.

Dependencies point one way, `newsqa` <- `index` <- `qa` <- (`ui`, `eval`, the CLI), so what both
`index` and `qa` need lives here, below them. It imports nothing else of the project. The API
is `qa` (`from qa import Assistant`), not this package.
"""
