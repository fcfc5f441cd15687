"""Settings: base.py reads the environment, production.py adds the deployment hardening."""
