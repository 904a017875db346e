"""Every file the package reads at run time (templates, scripts, styles, the example site) is
named in pyproject.toml's package data, so an installed wheel has it too. (The READMEs of the
subpackages are for readers of the source.)"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import funnelrun

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(funnelrun.__file__).parent


def test_every_data_file_of_the_package_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["funnelrun"]
    data_files = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc", ".md")
                  and "__pycache__" not in path.parts]
    assert data_files, "no data files found: is the package where this test thinks?"
    missing = [name for name in data_files
               if not any(fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(name, pattern[3:])
                          for pattern in patterns)]
    assert missing == []
