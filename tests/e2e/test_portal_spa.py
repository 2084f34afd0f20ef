"""The portal (gateway/web) in Debian's Chromium through Playwright, against the session's stack.

The story lives in ``gateway/web/tests/e2e/portal.spec.ts``; this test hands it the stack and
fails with its output. On Keycloak only the sign-in steps marked ``@both`` run (the province's
distribution, the county's forced password change on Keycloak's pages); the screens behind the
sign-in are the same and run once, on the embedded engines. Screenshots: test-output/screenshots/spa-*.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
WEB = Path(__file__).resolve().parents[2] / "gateway" / "web"
CHROMIUM = "/usr/bin/chromium"


@pytest.mark.timeout(1200)  # one browser story of six screens, on a shared 2-core machine
def test_the_portal_works_for_the_province_a_city_and_a_county(stack):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")
    if shutil.which("npx") is None:
        pytest.fail("Node.js is needed for the portal's browser tests: apt-get install nodejs npm")
    if not (WEB / "dist" / "index.html").is_file() or not (WEB / "node_modules").is_dir():
        pytest.fail("the portal is not built: run `make web` (npm ci, then vite build)")
    engine = "keycloak" if stack.keycloak is not None else "embedded"
    env = {
        **os.environ,
        "KEPU_BASE_URL": stack.gateway_url,
        "KEPU_ADMIN_USER": stack.admin_user,
        "KEPU_ADMIN_PASSWORD": stack.admin_password,
        "KEPU_ENGINE": engine,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    args = ["npx", "playwright", "test", "--reporter=line"]
    if engine != "embedded":
        args += ["--grep", "@both"]
    # KEPU_E2E_SPECS="volunteers.spec.ts admin.spec.ts": only those specs (a screen's change).
    args += os.environ.get("KEPU_E2E_SPECS", "").split()
    # The run's figures (sign-in round trip, list timings) stay beside the screenshots; the
    # output goes straight to the file so a stuck step shows where it stuck.
    log = WEB.parents[1] / "test-output" / f"playwright-{engine}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        r = subprocess.run(
            [*args, "--global-timeout=1000000"],
            cwd=WEB,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=1100,  # under the test's timeout, so the output is still read
            check=False,
        )
    output = log.read_text(encoding="utf-8")
    assert r.returncode == 0, output[-8000:]
