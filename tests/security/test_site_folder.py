"""Nothing outside the site folder is ever read: symbolic links leaving it stop `serve` and are
listed by `check`, with their paths (issue 6, item 3)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from conftest import free_port, running_server, write_site

SECRET = "sk_live_do_not_print_me"


def funnelrun(*args: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnelrun", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **environment})


def test_serve_refuses_a_page_linked_to_a_system_file(tmp_path):
    root = write_site(tmp_path / "site", {"brands/acme/pages/index.html": "home"})
    os.symlink("/etc/passwd", root / "brands/acme/pages/x.html")
    served = funnelrun("serve", str(root), "--port", str(free_port()))
    assert served.returncode == 1
    assert ("brands/acme/pages/x.html: a symbolic link to /etc/passwd, outside the site folder"
            in served.stderr)
    assert "root:" not in served.stdout + served.stderr


def test_a_component_linked_to_the_environment_is_never_served_and_check_lists_it(tmp_path):
    root = write_site(tmp_path / "site", {
        "brands/acme/pages/index.html": '@component("env")',
        "brands/acme/pages/ok.html": "fine",
    })
    (root / "brands/acme/components").mkdir()
    os.symlink("/proc/self/environ", root / "brands/acme/components/env.html")
    checked = funnelrun("check", str(root), FUNNELRUN_ADMIN_TOKEN=SECRET)
    assert checked.returncode == 1
    assert checked.stdout.startswith("brands/acme/components/env.html: a symbolic link to /proc/")
    served = funnelrun("serve", str(root), "--port", str(free_port()),
                       FUNNELRUN_ADMIN_TOKEN=SECRET)
    assert served.returncode == 1
    assert SECRET not in checked.stdout + checked.stderr + served.stdout + served.stderr


def test_a_settings_file_linked_outside_is_refused(tmp_path):
    root = write_site(tmp_path / "site", {"brands/acme/pages/index.html": "home"})
    (tmp_path / "elsewhere.toml").write_text("[server]\nport = 1\n")
    os.symlink(tmp_path / "elsewhere.toml", root / "funnelrun.toml")
    served = funnelrun("serve", str(root), "--port", str(free_port()))
    assert served.returncode == 1
    assert "funnelrun.toml: a symbolic link to" in served.stderr


def test_links_within_the_site_are_served(tmp_path):
    root = write_site(tmp_path / "site", {
        "brands/acme/pages/index.html": "home",
        "brands/acme/shared/offer.html": "<h1>shared offer</h1>",
    })
    os.symlink(root / "brands/acme/shared/offer.html", root / "brands/acme/pages/offer.html")
    with running_server(root) as (base, _):
        response = httpx.get(base + "/offer")
    assert response.status_code == 200
    assert response.text == "<h1>shared offer</h1>"
