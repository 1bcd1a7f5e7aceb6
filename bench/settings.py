"""Bench-only settings: production, plus a URLconf with one trivial JSON view
(``/bench/plain/``) that the search benchmark uses as its throughput baseline."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
