"""The README's "Layout of the code" names every module of the package, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import funnelrun

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(funnelrun.__file__).parent


def layout_entries() -> set[str]:
    """Paths the README's layout block lists, relative to src/funnelrun: `app.py` at the top,
    `site/` for a folder, `site/loader.py` under it, `admin/assets/panel.js` a level deeper."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout of the code", 1)[1].split("```", 2)[1]
    entries, folder, subfolder = set(), "", ""
    for line in block.splitlines():
        match = re.match(r"( {2}| {4}| {6})([\w.]+(?:\.py|\.js|/))(?: |$)", line)
        if match is None:
            continue
        indent, name = len(match.group(1)), match.group(2)
        if indent == 2:
            folder = name if name.endswith("/") else ""
            subfolder = ""
            entries.add(name)
        elif indent == 4 and folder:
            subfolder = folder + name if name.endswith("/") else ""
            entries.add(folder + name)
        elif subfolder:
            entries.add(subfolder + name)
    return entries


def modules() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("scaffold", "__pycache__") or "__pycache__" in relative.parts:
            continue
        if path.suffix in (".py", ".js") and path.name not in ("__init__.py", "__main__.py"):
            found.add(relative.as_posix())
    return found


def test_the_layout_names_every_module_and_every_folder():
    entries = layout_entries()
    listed_folders = {entry.split("/")[0] for entry in entries if entry.count("/") == 1
                      and not entry.endswith("/")}
    missing = sorted(module for module in modules() if module not in entries
                     and (module.split("/")[0] in listed_folders or "/" not in module))
    assert missing == [], "add these to README.md's Layout of the code"
    folders = {f"{path.name}/" for path in PACKAGE.iterdir()
               if path.is_dir() and path.name != "__pycache__"}
    assert folders - entries == set()


def test_the_layout_names_nothing_that_is_gone():
    assert sorted(entry for entry in layout_entries() if not (PACKAGE / entry).exists()) == []
