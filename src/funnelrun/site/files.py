"""The site's files on disk, listed without ever leaving the site folder.

A site author controls the folder, never the server process: nothing outside the site root is
read. A symbolic link that stays inside the site (a component shared by two brands, say) is
followed; one that leads outside it (`pages/x.html -> /etc/passwd`, `components/env.html ->
/proc/self/environ`) is never read and is reported with its path as a site problem, so `serve`
refuses to start and `check` lists it. Only regular files are read (a FIFO would block
start-up forever).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import SiteError


class SiteFolder:
    """Lists folders and files under `root`, refusing any path that resolves outside it;
    what it refuses is kept in `problems` and handed to `report` as it is found."""

    def __init__(self, root: Path, report: Callable[[SiteError], None] | None = None) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.problems: list[SiteError] = []
        self._report = report

    def site_path(self, path: Path) -> str:
        """`path` relative to the site root, as errors show it."""
        return path.relative_to(self.root).as_posix()

    def check(self, path: Path) -> None:
        """Raise SiteError if reading `path` would leave the site (through a symbolic link
        anywhere on its way) or would read something that is not a regular file."""
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self.real_root):
            raise SiteError(
                f"{self.site_path(path)}: a symbolic link to {real}, outside the site folder; "
                "funnelrun reads nothing outside the site (copy the file in, or link within "
                "the site)",
                None,
            )
        if real.exists() and not real.is_dir() and not real.is_file():
            raise SiteError(f"{self.site_path(path)}: not a regular file", None)

    def folders(self, parent: Path) -> list[Path]:
        """The folders directly in `parent` that stay inside the site, in name order."""
        return [entry for entry in sorted(parent.iterdir())
                if entry.is_dir() and self._allowed(entry)]

    def files(self, folder: Path, suffix: str, *, hidden: bool = True) -> list[Path]:
        """Every regular file under `folder` (recursively) whose name ends with `suffix`, in
        path order. Links inside the site are followed, each folder once. With `hidden` false,
        dotfiles and dot-folders (`.env`, `.git/`) are skipped, never looked into."""
        if not folder.is_dir() or not self._allowed(folder):
            return []
        found: list[Path] = []
        visited = {Path(os.path.realpath(folder))}
        for current, subfolders, names in os.walk(folder, followlinks=True):
            here = Path(current)
            subfolders[:] = [name for name in sorted(subfolders)
                             if (hidden or not name.startswith("."))
                             and self._allowed(here / name) and self._first_visit(here / name,
                                                                                 visited)]
            found += [here / name for name in names if name.endswith(suffix)
                      and (hidden or not name.startswith("."))
                      and self._allowed(here / name) and (here / name).is_file()]
        return sorted(found)

    def _allowed(self, path: Path) -> bool:
        """Whether `path` may be read; if not, the reason is kept in `problems`."""
        try:
            self.check(path)
        except SiteError as problem:
            self.problems.append(problem)
            if self._report is not None:
                self._report(problem)
            return False
        return True

    @staticmethod
    def _first_visit(folder: Path, visited: set[Path]) -> bool:
        """False for a folder listed already (a link back up the tree, or a second link to
        one folder), so that the walk ends."""
        real = Path(os.path.realpath(folder))
        if real in visited:
            return False
        visited.add(real)
        return True
