"""The test suite (see conftest.py)."""

import os

# A developer's `.env` configures `make run`, never the tests: set before config.py is
# imported (config.py and Flask's CLI both honour it), and inherited by the processes the
# tests start (workers, gunicorn, the entrypoint).
os.environ["FLASK_SKIP_DOTENV"] = "1"
