"""`bench/analytics.py`: the analytics benchmark (the code is in analytics_figures.py).

Run from the repository root: `.venv/bin/python bench/analytics.py [--reuse] …` (see
analytics_figures.py for the options). This file only hands over: a module named `analytics`
under bench/ would be the same module name as the project's `analytics` package for mypy, so it
holds no code of its own and mypy skips it (pyproject.toml).
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file's folder comes first on sys.path when run as a script; drop it so `import analytics`
# finds the project's package, not this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))
runpy.run_path(str(HERE / "analytics_figures.py"), run_name="__main__")
