"""The API keeps its contract: schemathesis, with all its checks, finds nothing as any role.

The test starts the app (pytest-django's live server) with the demo data (several provinces and
cities, forms in every state, so each role meets objects outside its scope), reads the OpenAPI
schema the app serves, and runs schemathesis's command line against it once per role: anonymous, a
city official, a bureau reviewer, ministry staff and a telecom operator's provincial branch, each
with its own API token from the token endpoint. `GIGACITY_CONTRACT_ROLES=operator` (a comma-separated
list) runs only those roles, to look into one role's findings. A fixed seed keeps the generated
requests the same from run to run; about 4 examples per operation (plus schemathesis's coverage
phase: boundaries, wrong types, missing fields, other methods) bound the run.
`GIGACITY_CONTRACT_EXAMPLES=100` runs a longer search (README).

`tests/api/schemathesis.toml` names the few statuses that answer a well-formed request whose content
no schema can judge (a stale version, a wrong password, a file that is no workbook of this form).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reviews.demo import DEMO_PASSWORD, seed_demo

# In the normal suite on purpose (not marked slow): the contract is checked on every run.

SEED = 20261215
EXAMPLES = int(os.environ.get("GIGACITY_CONTRACT_EXAMPLES", "4"))
CONFIG = Path(__file__).with_name("schemathesis.toml")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # git-ignored
# Demo accounts: 青岛's official, 山东's bureau, the ministry, 中国移动's 山东 branch; 江苏 and 浙江 and their
# cities (and the other operators' figures) are the peers outside the scope of all but the ministry.
ROLES = {"anonymous": None, "city": "qingdao", "bureau": "shandong", "ministry": "miit", "operator": "sd_mobile"}
ONLY = [role.strip() for role in os.environ.get("GIGACITY_CONTRACT_ROLES", "").split(",") if role.strip()]


def token(base: str, username: str) -> str:
    body = json.dumps({"username": username, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


def schema(base: str, key: str) -> bytes:
    # The schema is for logged-in users only; anonymous requests are generated from the same file.
    request = urllib.request.Request(f"{base}/api/schema/?format=json", headers={"Authorization": f"Token {key}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def schemathesis(schema_file: Path, base: str, key: str | None, cwd: Path) -> subprocess.CompletedProcess:
    cwd.mkdir()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        str(schema_file),
        "--url",
        base,
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        # NUL in a string is refused with 400 wherever the API reads text (DRF's and Django's fields
        # prohibit it: PostgreSQL cannot store it; tests/test_malformed_requests.py); the schema does
        # not spell that out on every string.
        # A PDF is printed by Chromium, which takes seconds on a busy machine.
        "--request-timeout",
        "120",
        # `--checks all` includes a response time limit (10 s by default). Speed is the benchmark's
        # business, not a test's: the limit is the request timeout, so only a hang fails here.
        "--max-response-time",
        "120",
        "--generation-allow-x00",
        "false",
        # Django's test server answers one request per connection well; keep-alive is no part of the test.
        "--header",
        "Connection: close",
    ]
    if key:
        command += ["--header", f"Authorization: Token {key}"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1200, check=False)


def without_tokens(output: str) -> str:
    return re.sub(r"Token [0-9a-f]{40}", "Token <filtered>", output)


def findings(output: str) -> str:
    """The failures section and the summary of schemathesis's report (its secrets already filtered)."""
    start = output.find("FAILURES")
    text = output[start:] if start >= 0 else output
    return without_tokens(text)[-20000:]


def printer(folder: Path) -> Path:
    """A stand-in for Chromium that prints a blank A4 page where Chromium would print the form: the
    contract is that form.pdf answers a PDF; how the PDF looks is tests/submissions/test_printing.py's
    (with the real Chromium), and here seconds of Chromium per request would make up most of the run."""
    program = folder / "chromium"
    program.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from pypdf import PdfWriter\n"
        "out = next(a.split('=', 1)[1] for a in sys.argv if a.startswith('--print-to-pdf='))\n"
        "writer = PdfWriter()\n"
        "writer.add_blank_page(width=595, height=842)\n"
        "writer.write(out)\n"
    )
    program.chmod(0o755)
    return program


def test_schemathesis_finds_nothing_as_any_role(live_server, reference, tmp_path, settings):
    assert set(ONLY) <= set(ROLES), f"GIGACITY_CONTRACT_ROLES names no role among {', '.join(ROLES)}"
    settings.GIGACITY_CHROMIUM = str(printer(tmp_path))
    seed_demo()
    base = live_server.url
    # All the tokens first: the runs try the token endpoint too, and its throttle would refuse them.
    keys = {
        role: token(base, username) if username else None
        for role, username in ROLES.items()
        if not ONLY or role in ONLY
    }
    schema_file = tmp_path / "schema.json"
    schema_file.write_bytes(schema(base, token(base, ROLES["ministry"])))

    # The roles run side by side against the threaded live server.
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        runs = {role: pool.submit(schemathesis, schema_file, base, key, tmp_path / role) for role, key in keys.items()}
    results = {role: run.result() for role, run in runs.items()}
    # Each role's whole report (operations, requests generated, phases) for whoever wants the figures.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for role, result in results.items():
        (ARTIFACTS / f"contract-{role}.txt").write_text(without_tokens(result.stdout + result.stderr))
    failed = {role: findings(r.stdout + r.stderr) for role, r in results.items() if r.returncode != 0}

    assert not failed, "\n\n".join(f"===== as {role} =====\n{text}" for role, text in failed.items())
