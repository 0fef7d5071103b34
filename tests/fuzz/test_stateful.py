"""Stateful fuzzing as an admin: schemathesis chains calls through the links it infers from
the document (create a product -> get, update, stock, delete it; fill the cart -> order ->
cancel), checking each response and that created resources exist and deleted ones are gone.
"""

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from app.accounts.services import issue_tokens
from app.platform.models import BuiltinRole
from tests.conftest import empty_tables
from tests.factories import UserFactory, roles_named
from tests.fuzz.conftest import EXAMPLES, FUZZ_SETTINGS, load_schema, respect_server_state

# A schema of its own: its auth provider must not reach the per-role contract test.
stateful_schema = load_schema()


@stateful_schema.auth()
class AdminToken:
    """A fresh admin for every scenario (set by the state machine's setup)."""

    token = None

    def get(self, case, ctx):
        return AdminToken.token

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class StoreWorkflow(stateful_schema.as_state_machine()):
    app = None  # bound by the test below

    def before_call(self, case):
        respect_server_state(case)

    def setup(self):
        # Each scenario from empty tables, so ids (and what they point at) replay identically.
        empty_tables(self.app)
        with self.app.app_context():
            AdminToken.token = issue_tokens(UserFactory(roles=roles_named(BuiltinRole.ADMIN)))[
                "access_token"
            ]


def test_stateful_workflows_keep_the_contract(app):
    StoreWorkflow.app = app
    budget = settings(FUZZ_SETTINGS, max_examples=EXAMPLES * 2, stateful_step_count=12)
    run_state_machine_as_test(StoreWorkflow, settings=budget)
