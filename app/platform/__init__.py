"""The platform every other package stands on: the database layer (`db`: the session, the
unit of work, column types, engine events), the models and their closed sets of values
(`models`), and the money rules (`money`).

It imports nothing else from the app: no domain package, nothing of HTTP (an import-linter
contract in pyproject.toml keeps it so).
"""
