"""A developer's `.env` configures `make run` and the CLI, never the tests (tests/__init__.py
sets FLASK_SKIP_DOTENV, which config.py honours as Flask's CLI does)."""

import os
import subprocess
import sys

import pytest

from tests.concurrency.live import PROJECT_ROOT

READ_SETTING = (
    "import sys; sys.path.insert(0, sys.argv[1]); import config, os; "
    "print(os.environ.get('STORE_DOTENV_PROBE', 'unset'))"
)


def setting_seen(folder, **env: str) -> str:
    """What config.py, imported with `folder` as the current directory, leaves in the
    environment for STORE_DOTENV_PROBE."""
    environ = {key: value for key, value in os.environ.items() if key != "FLASK_SKIP_DOTENV"}
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTING, str(PROJECT_ROOT)],
        cwd=folder,
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def folder_with_dotenv(tmp_path):
    (tmp_path / ".env").write_text("STORE_DOTENV_PROBE=from-dotenv\n")
    return tmp_path


def test_the_suite_runs_with_dotenv_off():
    assert os.environ["FLASK_SKIP_DOTENV"] == "1"


def test_dotenv_is_read_outside_the_tests(folder_with_dotenv):
    assert setting_seen(folder_with_dotenv) == "from-dotenv"


def test_dotenv_is_ignored_with_the_switch(folder_with_dotenv):
    assert setting_seen(folder_with_dotenv, FLASK_SKIP_DOTENV="1") == "unset"
