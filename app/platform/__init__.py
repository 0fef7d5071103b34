"""The platform every other package stands on: the database layer (`db`: the session, the
unit of work, column types, engine events, Migrate), the models and their closed sets of
values (`models`), the money rules (`money`), the errors services raise (`errors`), paging
a query (`pages`), who is acting in this request (`context`) and the pruning of expired
rows (`housekeeping`).

May import: nothing else from the app, and nothing of HTTP forms (import-linter contracts
in pyproject.toml keep it so).
"""
