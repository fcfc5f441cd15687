"""Liveness probe of the Celery worker (app/worker_health.py says what it checks):

python -m app.worker_liveness
"""

import sys

from app.worker_health import liveness_problem, probe

if __name__ == "__main__":
    sys.exit(probe(liveness_problem, "not alive"))
