"""The set-up script fails clearly, before touching anything, when an OS package cannot be installed."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_missing_os_package_gives_clear_error(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    # dpkg says nothing is installed; the package manager is unreachable
    (stubs / "dpkg").write_text("#!/bin/sh\nexit 1\n")
    (stubs / "fake-apt").write_text("#!/bin/sh\necho 'E: could not reach the mirror' >&2\nexit 100\n")
    for f in stubs.iterdir():
        f.chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}", GISPORTAL_APT_GET="fake-apt")
    r = subprocess.run(
        ["bash", str(ROOT / "scripts/setup.sh")], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode != 0
    assert "cannot install OS packages" in r.stderr
    assert "gdal-bin" in r.stderr
