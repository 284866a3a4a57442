"""Settings of the production-like server the browser tests start (tests/browser/conftest.py).

`config.settings` unchanged, except that static files are collected into the test's own folder,
so parallel runs never share (or clobber) one `staticfiles/`.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["STATIC_ROOT"])
