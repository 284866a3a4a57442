"""Settings for the test suite: the normal settings, with the simulator standing in for LINE."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("LINE_SIMULATOR", "1")
# The test client speaks plain HTTP (a test about HTTPS sets it itself).
os.environ.setdefault("HTTPS_ONLY", "0")
os.environ.setdefault("LINE_RETRY_BASE_SECONDS", "0.05")
os.environ.setdefault("SIMULATOR_CONTROL_TOKEN", "tests-simulator-control")

from config.settings import *  # noqa: F403
from config.settings import DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="livechat-test-media-"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so the live server thread and background threads share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"livechat-test-{os.getpid()}.sqlite3")
    }
