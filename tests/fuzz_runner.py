"""Run schemathesis against a live Parley server (tests/test_fuzz_api.py, `make fuzz`).

The CLI runs every operation of ``/api/schema/`` through its phases (examples, coverage,
fuzzing, and stateful sequences over the links it infers from the schema) with the hooks
of tests/fuzz_hooks.py (login, seeded ids). Checks: no 5xx, documented status codes,
content types, headers and response bodies that match the schema.
"""

import base64
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.live_server import ROOT

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "limits_in_schema",  # tests/fuzz_hooks.py: valid data is not refused by a hidden limit
    )
)

# The server under fuzzing must not throttle the fuzzer (abuse limits are tested elsewhere).
UNTHROTTLED = {
    name: "1000000/min"
    for name in (
        "THROTTLE_ANON",
        "THROTTLE_USER",
        "THROTTLE_LOGIN_IP",
        "THROTTLE_LOGIN_EMAIL",
        "THROTTLE_REGISTER_IP",
        "THROTTLE_PASSWORD_RESET_IP",
        "THROTTLE_PASSWORD_RESET_EMAIL",
        "THROTTLE_WS_TICKET",
        "THROTTLE_BOOKINGS",
        "THROTTLE_NEGOTIATION",
    )
}


@dataclass
class FuzzResult:
    user: str
    operations: int = 0
    test_cases: int = 0
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)  # (operation, check code, status, message)
    errors: list = field(default_factory=list)
    seconds: float = 0.0
    output: str = ""

    def summary(self) -> str:
        return (
            f"{self.user}: {self.operations} operations, {self.test_cases} test cases, "
            f"{self.requests} requests in {self.seconds:.0f}s, {len(self.failures)} failures, "
            f"{len(self.errors)} errors; statuses {dict(sorted(self.statuses.items()))}"
        )


def seed(env: dict) -> dict:
    """Seed the server's database (tests/fuzz_seed.py) and return what it made."""
    code = "import json; from tests.fuzz_seed import seed; print('SEED=' + json.dumps(seed()))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    for line in result.stdout.splitlines():
        if line.startswith("SEED="):
            return json.loads(line[5:])
    raise RuntimeError(f"seeding failed:\n{result.stdout}\n{result.stderr}")


def run(
    base: str,
    seeded: dict,
    *,
    user: str,
    report_dir: Path,
    max_examples: int,
    phases: str = "examples,coverage,fuzzing,stateful",
    seed_value: int | None = None,
    timeout: int = 1200,
) -> FuzzResult:
    """One schemathesis run as ``user`` (``guest`` or ``host``)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        SCHEMATHESIS_HOOKS="tests.fuzz_hooks",
        PYTHONPATH=str(ROOT),
        FUZZ_BASE_URL=base,
        FUZZ_EMAIL=seeded[user],
        FUZZ_PASSWORD=seeded["password"],
        FUZZ_IDS=json.dumps(seeded["ids"]),
    )
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/api/schema/?format=json",
        "--checks", CHECKS, "--max-examples", str(max_examples), "--phases", phases,
        "--workers", "1",  # several workers trip a CPython 3.11.7 AST bug in hypothesis
        "--no-shrink", "--report", "json,ndjson", "--report-dir", str(report_dir),
        "--request-timeout", "30",
    ]  # fmt: skip
    if seed_value is not None:
        command += ["--seed", str(seed_value)]
    completed = subprocess.run(
        command, cwd=report_dir, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    result = FuzzResult(user=user, output=completed.stdout + completed.stderr)
    reports = sorted(report_dir.glob("json-*.json"))
    if not reports:
        raise RuntimeError(f"schemathesis wrote no report:\n{result.output[-5000:]}")
    report = json.loads(reports[-1].read_text())
    result.operations = report["operations"]["tested"]
    result.test_cases = report["test_cases"]["generated"]
    result.seconds = report["running_time"]
    _read_events(sorted(report_dir.glob("ndjson-*.ndjson"))[-1], result)
    return result


def _read_events(path: Path, result: FuzzResult) -> None:
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if "NonFatalError" in event:
            error = event["NonFatalError"]
            result.errors.append((error.get("label"), error["value"]["message"][:300]))
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for interaction in recorder.get("interactions", {}).values():
            result.requests += 1
            if interaction.get("response"):
                result.statuses[interaction["response"]["status_code"]] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                interaction = recorder.get("interactions", {}).get(case_id) or {}
                response = interaction.get("response") or {}
                body = (response.get("content") or {}).get("$base64")
                body = base64.b64decode(body).decode(errors="replace")[:300] if body else ""
                request = interaction.get("request") or {}
                result.failures.append(
                    (
                        failure["operation"],
                        failure["code"],
                        response.get("status_code"),
                        (failure.get("message") or "").splitlines()[:1],
                        f"{request.get('method')} {request.get('uri')} -> {body}",
                    )
                )


def describe(results: list[FuzzResult]) -> str:
    lines = [r.summary() for r in results]
    for r in results:
        for failure in r.failures[:30]:
            lines.append(f"  [{r.user}] {failure}")
        for error in r.errors[:10]:
            lines.append(f"  [{r.user}] error {error}")
    return "\n".join(lines)
