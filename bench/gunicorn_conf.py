"""The project's gunicorn.conf.py, unchanged, plus a hook that records each worker's start-up CPU time.

bench.server runs gunicorn with this file; BENCH_STARTUP_REPORT names the folder the reports go to.
"""

import json
import os
import resource
import runpy
from pathlib import Path

globals().update(
    (name, value)
    for name, value in runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")).items()
    if not name.startswith("__")
)


def post_worker_init(worker: object) -> None:
    """Write the CPU time this worker spent loading the app, once it is ready to serve."""
    report = os.environ.get("BENCH_STARTUP_REPORT")
    if report:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        path = Path(report) / f"{os.getpid()}.json"
        path.with_suffix(".tmp").write_text(json.dumps({"cpu_seconds": usage.ru_utime + usage.ru_stime}))
        path.with_suffix(".tmp").replace(path)
