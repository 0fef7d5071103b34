"""`make bench` loads its data with bench/store.py, outside `make test`: a schema change it
does not follow (a new NOT NULL column, a dropped one) once broke it unseen. Here it loads a
small store on a fresh database of the engine under test, in its own process (it sets the
production environment)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.databases import fresh_database

ROOT = Path(__file__).resolve().parent.parent
LOAD = """
import json, sys
from bench.store import prepare
loaded = prepare(sys.argv[1], products=30, customers=4, orders_each=2, buyers=2)
print(json.dumps({key: len(value) for key, value in loaded.items()}))
"""


def test_the_benchmark_loads_its_store(tmp_path):
    with fresh_database(tmp_path, "bench_data") as url:
        done = subprocess.run(
            [sys.executable, "-c", LOAD, url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {"tokens": 2, "products": 2, "detail_ids": counts["detail_ids"], "logins": 2}
    assert counts["detail_ids"] > 0
