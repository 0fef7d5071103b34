"""gunicorn.conf.py serves production: without APP_ENV the workers run the production
settings (which refuse the development secret keys), never the development ones."""

import os
import subprocess
import sys

from tests.concurrency.live import PROJECT_ROOT

READ_APP_ENV = (
    "import runpy, os; runpy.run_path('gunicorn.conf.py'); print(os.environ.get('APP_ENV'))"
)


def app_env_after_gunicorn_conf(**env: str) -> str:
    environ = {key: value for key, value in os.environ.items() if key != "APP_ENV"} | env
    result = subprocess.run(
        [sys.executable, "-c", READ_APP_ENV],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_gunicorn_without_app_env_runs_production():
    assert app_env_after_gunicorn_conf() == "production"


def test_an_app_env_given_is_kept():
    assert app_env_after_gunicorn_conf(APP_ENV="development") == "development"
