"""Readiness probe of the Celery worker (app/worker_health.py says what it checks):

python -m app.worker_readiness
"""

import sys

from app.worker_health import probe, readiness_problem

if __name__ == "__main__":
    sys.exit(probe(readiness_problem, "not ready"))
