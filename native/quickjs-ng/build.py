"""Build funnelrun's quickjs-ng: the binding from PyPI with funnelrun's patch, installed into
the Python that runs this script.

    python native/quickjs-ng/build.py

`funnelrun.patch` changes the binding's module.c in three ways, each measured in a real
`funnelrun serve` (README, Performance):
- `Context.compile(code) -> bytes` (compile only, nothing runs) and `Context.eval_bytecode(data)`:
  the stock binding compiles every script from source, and funnelrun's 28 KB prelude, loaded
  into every fresh context, cost ~0.8 ms to compile against ~0.07 ms to load as bytecode;
- `Context.set_wall_deadline(t)`: the interrupt handler checks a wall-clock deadline beside the
  CPU limit, so a run starved of CPU still ends at its wall limit;
- every allocation of a context's runtime is kept on a list, and a dropped context frees the
  list at once instead of walking and finalizing each object (~0.05 ms less per request).
It also marks the version `+funnelrun.N`. The sources come from PyPI's sdist, checked against
a pinned SHA-256; the wheel is built once (about 35 s with the machine's C compiler) and kept
in build/native/ for the next run. Nothing is done when the right build is installed already.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

NAME = "quickjs-ng"
VERSION = "0.17.0.2"
LOCAL = "funnelrun.7"  # bump with every change to funnelrun.patch
SDIST_SHA256 = "43d2e48272208721a7aaea8e3f02d4b9318f12ef20cc4f5421b59d9a470706ef"
HERE = Path(__file__).resolve().parent
WORK = HERE.parent.parent / "build" / "native"


def main() -> int:
    wanted = f"{VERSION}+{LOCAL}"
    if installed() == wanted:
        return 0
    wheels = WORK / "wheels"
    wheel = next(wheels.glob(f"quickjs_ng-{wanted}-*.whl"), None) if wheels.is_dir() else None
    if wheel is None:
        wheel = build(wheels)
    pip("install", "--quiet", "--force-reinstall", "--no-deps", str(wheel))
    if installed() != wanted:
        print(f"build.py: installing {wheel.name} did not give {NAME} {wanted}", file=sys.stderr)
        return 1
    print(f"build.py: {NAME} {wanted} installed", file=sys.stderr)
    return 0


def installed() -> str | None:
    try:
        return importlib.metadata.version(NAME)
    except importlib.metadata.PackageNotFoundError:
        return None


def build(wheels: Path) -> Path:
    print(f"build.py: building {NAME} {VERSION} with funnelrun.patch (about 35 s)",
          file=sys.stderr)
    downloads = WORK / "downloads"
    sdist = downloads / f"quickjs_ng-{VERSION}.tar.gz"
    if not sdist.is_file():
        pip("download", "--quiet", "--no-deps", "--no-binary", ":all:", "--dest", str(downloads),
            f"{NAME}=={VERSION}")
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"build.py: {sdist} has SHA-256 {digest}, expected {SDIST_SHA256}")
    source = WORK / "src"
    shutil.rmtree(source, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(source, filter="data")
    tree = source / f"quickjs_ng-{VERSION}"
    subprocess.run(["git", "apply", "-p1", str(HERE / "funnelrun.patch")], cwd=tree, check=True)
    pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(tree))
    return next(wheels.glob(f"quickjs_ng-{VERSION}+{LOCAL}-*.whl"))


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


if __name__ == "__main__":
    sys.exit(main())
