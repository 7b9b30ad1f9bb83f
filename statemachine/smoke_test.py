#!/usr/bin/env python3
"""Runs statemachine/*.asl.json in moto's Step Functions engine against scripted fake Lambdas.

What it pins: every Task sends exactly the contracted payload keys, every result lands where the
next state reads it, polling loops stop at their caps with the named error, Retry/Catch route our
error names, failures after `prepare` go through `rollback` and keep the original error, and the
execution outputs have the documented shape. The real handlers are covered by the Rust tests; this
is about the definitions, in the same engine (moto's port of LocalStack's interpreter) the local
stack uses, with the same `${...FunctionArn}` substitutions as template.yaml.

Usage: .venv/bin/python statemachine/smoke_test.py   (from the repository root; about 15 s)
Starts `moto_server` on a free loopback port with MOTO_PORT pointing at an in-process Lambda
endpoint, runs every scenario concurrently, stops the server, exits non-zero on any failure.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, REGION = "123456789012", "us-east-1"
FUNCTIONS = {
    "PrepareFunctionArn": "prepare",
    "FargateProfileFunctionArn": "fargate-profile",
    "EfsFunctionArn": "efs",
    "StorageClassFunctionArn": "storage-class",
    "PocAppFunctionArn": "poc-app",
    "ValidateFunctionArn": "validate",
    "CleanupFunctionArn": "cleanup",
    "RollbackFunctionArn": "rollback",
}
# Exact payload keys per function and action (the handlers deny unknown fields).
EVENT_KEYS = {
    ("prepare", ""): {"runId", "startedAt", "input", "executionArn", "attempt"},
    ("prepare", "grant-bootstrap"): {"action", "run", "attempt", "executionArn"},
    ("prepare", "revoke-bootstrap"): {"action", "run"},
    ("fargate-profile", "namespace"): {"action", "run"},
    ("fargate-profile", "*"): {"action", "run", "attempt", "executionArn"},
    ("efs", "*"): {"action", "run", "attempt"},
    ("storage-class", "plan"): {"action", "plan"},
    ("storage-class", "*"): {"action", "run", "fileSystemId", "accessPointId"},
    ("poc-app", "*"): {"action", "run", "fileSystemId", "accessPointId", "attempt"},
    ("validate", "*"): {"action", "run", "fileSystemId", "accessPointId", "attempt"},
    ("rollback", "failed"): {"runId", "clusterName", "namespace", "onFailure", "executionArn", "outcome", "error"},
    ("rollback", "succeeded"): {"runId", "clusterName", "namespace", "onFailure", "executionArn", "outcome", "run",
                                "executionOutput"},
    ("cleanup", "lease"): {"action", "clusterName", "namespace", "executionArn", "attempt"},
    ("cleanup", "finish"): {"action", "clusterName", "namespace", "runId", "generation", "executionArn", "outcomes"},
    ("cleanup", "*"): {"action", "clusterName", "namespace", "runId", "generation", "executionArn", "attempt",
                       "removed"},
}


def event_keys(fn: str, action: str) -> set:
    return EVENT_KEYS.get((fn, action)) or EVENT_KEYS[(fn, "*")]


CLEANUP_ORDER = ["lease", "kubernetes", "alarms", "insights-role", "fargate-profile", "mount-targets", "file-system", "security-group",
                 "kms-key", "access-entry", "finish"]
CLEANUP_KEYS = {"kubernetes": "kubernetes", "alarms": "alarms", "insights-role": "insightsRole", "fargate-profile": "fargateProfile", "mount-targets": "mountTargets",
                "file-system": "fileSystem", "security-group": "securityGroup", "kms-key": "kmsKey",
                "access-entry": "accessEntry"}

# ---------------------------------------------------------------- scenarios
# Provision scenarios are keyed by execution name (= runId), cleanup ones by namespace.
SCENARIOS: dict[str, dict] = {
    "happy": {},
    "bootstrap": {"rbac": "missing"},
    "bootstrap-fails": {"rbac": "never"},
    "no-app": {"deployPocApp": False},
    "skipped": {"skip": True},
    "planned": {"dryRun": True},
    "invalid": {"errors": {"prepare:": ("InvalidInput", 99)}},
    "cluster-cap": {"clusterWaits": 999},
    "efs-fails": {"errors": {"efs:converge": ("FileSystemFailed", 99)}},
    "fargate-cap": {"fargateReadyAfter": 999},
    "pods-cap": {"podsReadyAfter": 999},
    "report-cap": {"reportReadyAfter": 999},
    "transient": {"errors": {"storage-class:create": ("AwsThrottled", 2),
                             "fargate-profile:converge": ("Lambda.ServiceException", 1)}},
    "rollback-fails": {"onFailure": "retain", "errors": {"poc-app:converge": ("KubernetesApiError", 99),
                                                         "rollback:": ("AwsApiError", 99)}},
    "cl-happy": {"doneAfter": {"fargate-profile": 3, "mount-targets": 2, "file-system": 2}},
    "cl-dependency": {"errors": {"cleanup:security-group": ("DependencyNotReady", 1)}},
    "cl-cap": {"doneAfter": {"mount-targets": 999}},
    "cl-fails": {"errors": {"cleanup:kms-key": ("AccessDenied", 99)}},
    "cl-rollback": {"runId": "provision-run-7", "generation": 7},
    "cl-expired": {"generation": 3},
    "cl-run": {"runId": "provision-run-8"},
    "cl-lease": {"doneAfter": {"lease": 3}},
}
lock = threading.Lock()
counters: dict[tuple, int] = {}
calls: dict[str, list] = {label: [] for label in SCENARIOS}


def poll(event: dict, ready_after: int, output) -> dict:
    """Every step action's answer: {ready, nextPollSeconds, attempt, detail, output}."""
    attempt = event.get("attempt", 0) + 1
    ready = attempt >= ready_after
    return {"ready": ready, "nextPollSeconds": 0, "attempt": attempt, "detail": f"poll {attempt}",
            "output": output(ready) if callable(output) else output}


def fake(fn: str, event: dict) -> tuple[str, dict]:
    """(label, output) or raises LambdaError; `label` says which scenario the call belongs to."""
    if fn in ("prepare", "rollback") and "runId" in event:
        label = event["runId"].split(".")[0]
    elif fn == "cleanup":
        label = event["namespace"]
    elif fn == "storage-class" and event.get("action") == "plan":
        label = event["plan"]["namespace"]
    else:
        label = event["run"]["runId"].split(".")[0]
    sc = SCENARIOS[label]
    action = event.get("outcome", "") if fn == "rollback" else event.get("action", "")
    with lock:
        n = counters[(label, fn, action)] = counters.get((label, fn, action), 0) + 1
        calls[label].append(f"{fn}:{action}" if action else fn)
    if set(event) != event_keys(fn, action):
        raise LambdaError(label, "InvalidInput", f"{fn} event keys {sorted(event)}")
    error = sc.get("errors", {}).get(f"{fn}:{action}")
    if error and n <= error[1]:
        with lock:
            calls[label][-1] += "!" + error[0]
        raise LambdaError(label, error[0], "injected")
    if fn == "prepare" and action:
        return label, poll(event, 0, {"granted": action == "grant-bootstrap"})
    if fn == "prepare":
        if sc.get("skip"):
            return label, poll(event, 0, {"status": "skipped", "reason": "cluster did not opt in"})
        if sc.get("dryRun"):
            return label, poll(event, 0, {"status": "planned", "doctor": {"healthy": True}, "plan": {
                "clusterName": "demo", "namespace": label, "resources": [{"kind": "namespace", "action": "ensure"}]}})
        run = {"runId": event["runId"], "clusterName": "demo", "namespace": "team-a",
               "podExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/pod",
               "encryption": {"atRest": True, "inTransit": True}, "deployPocApp": sc.get("deployPocApp", True),
               "onFailure": sc.get("onFailure", "rollback"),
               "network": {"vpcId": "vpc-1", "privateSubnets": [], "mountTargetSubnets": []},
               "access": {"principalArn": f"arn:aws:iam::{ACCOUNT}:role/access", "status": "created"}}
        return label, poll(event, sc.get("clusterWaits", 1) + 1, lambda ready: {"status": "ready", "run": run}
                           if ready else {"status": "waiting", "clusterStatus": "CREATING"})
    if fn == "fargate-profile":
        if action == "namespace":
            # "missing": the first call needs the bootstrap grant, the next one installs the RBAC.
            granted = counters.get((label, "prepare", "grant-bootstrap"), 0)
            rbac = {"missing": "installed" if granted else "bootstrapRequired",
                    "never": "bootstrapRequired"}.get(sc.get("rbac"), "current")
            return label, poll(event, 0, {"name": "team-a", "created": rbac != "bootstrapRequired", "rbac": rbac,
                                          "bootstrapGranted": False})
        return label, poll(event, sc.get("fargateReadyAfter", 2), lambda ready: {
            "profileName": "fp-team-a", "status": "ACTIVE" if ready else "CREATING", "created": False,
            "profileArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:fargateprofile/demo/fp-team-a/1"})
    if fn == "efs":
        return label, poll(event, sc.get("efsReadyAfter", 2), lambda ready: {
            "fileSystemId": "fs-1", "fileSystemArn": "arn:fs-1", "creationToken": "t", "encrypted": True,
            "securityGroupId": "sg-1", "accessPoint": {"accessPointId": "fsap-1", "accessPointArn": "arn:fsap-1"},
            "mountTargets": [{"mountTargetId": f"fsmt-{z}", "subnetId": f"subnet-{z}", "availabilityZone": f"{REGION}{z}",
                              "state": "available" if ready else "creating"} for z in "ab"]})
    if fn == "storage-class" and action == "plan":
        read = [dict(item, action="create") for item in event["plan"]["resources"]]
        return label, poll(event, 0, dict(event["plan"], resources=read))
    if fn == "storage-class":
        return label, poll(event, 0, {"storageClassName": "efs-sc"})
    if fn == "poc-app":
        return label, poll(event, sc.get("podsReadyAfter", 2),
                           {"persistentVolume": "pv-team-a", "persistentVolumeClaim": "pvc-team-a"})
    if fn == "validate":
        if action == "persistence":
            return label, poll(event, 0, {})
        if action == "report":
            return label, poll(event, sc.get("reportReadyAfter", 2), lambda ready:
                               {"report": {"files": ["out1.txt", "out2.txt"]}} if ready else {})
        return label, poll(event, sc.get("crossReadReadyAfter", 2), lambda ready:
                           {"crossRead": {"app1Read": "PoC APP 2"}} if ready else {})
    if fn == "rollback":
        if action == "succeeded":
            # As the real function does: the execution output it was handed comes back.
            return label, {"outcome": "succeeded", "onFailure": event["onFailure"],
                           "executionOutput": event["executionOutput"]}
        return label, {"outcome": "failed", "onFailure": event["onFailure"],
                       "cleanupExecutionName": f"rollback-x-{event['runId']}"}
    if fn == "cleanup" and action == "finish":
        failed = [f"{key}: {value['Error']}" for key, value in event["outcomes"].items() if "Error" in value]
        if failed:
            raise LambdaError(label, "CleanupIncomplete", "; ".join(failed))
        return label, {"clusterName": "demo", "namespace": label, "actions": {
            key: value["output"] for key, value in event["outcomes"].items()}}
    if fn == "cleanup":
        if action == "lease":
            return label, poll(event, sc.get("doneAfter", {}).get(action, 1), {"removed": [], "kept": []})
        if event["runId"] != sc.get("runId"):
            raise LambdaError(label, "InvalidInput", f"runId {event['runId']}")
        if event["generation"] != sc.get("generation"):
            raise LambdaError(label, "InvalidInput", f"generation {event['generation']}")
        # Each call passes back what the earlier ones removed; the first call removes something.
        removed = event["removed"] + ([f"{action}-1"] if event["attempt"] == 0 else [])
        return label, poll(event, sc.get("doneAfter", {}).get(action, 1), {"removed": removed, "kept": []})
    raise AssertionError(fn)


class LambdaError(Exception):
    def __init__(self, label: str, error_type: str, message: str):
        super().__init__(message)
        self.label, self.error_type = label, error_type


class Handler(http.server.BaseHTTPRequestHandler):
    """Lambda Invoke for the fake functions; every other request is proxied to moto."""

    moto_port = 0

    def log_message(self, *args):
        pass

    def _send(self, code: int, body: bytes, headers=()):
        self.send_response(code)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        m = re.match(r"^/2015-03-31/functions/([^/]+)/invocations", self.path)
        if self.command == "POST" and m:
            fn = urllib.parse.unquote(m.group(1)).rsplit(":", 1)[-1]
            try:
                _, output = fake(fn, json.loads(body or b"{}"))
                return self._send(200, json.dumps(output).encode(), [("Content-Type", "application/json")])
            except LambdaError as e:
                err = json.dumps({"errorType": e.error_type, "errorMessage": str(e)}).encode()
                return self._send(200, err, [("X-Amz-Function-Error", "Unhandled"), ("Content-Type", "application/json")])
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.moto_port}{self.path}", data=body or None, method=self.command,
            headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")})
        try:
            with urllib.request.urlopen(request) as r:
                code, headers, data = r.status, r.headers.items(), r.read()
        except urllib.error.HTTPError as e:
            code, headers, data = e.code, e.headers.items(), e.read()
        skip = ("content-length", "transfer-encoding", "connection", "server", "date")
        self._send(code, data, [(k, v) for k, v in headers if k.lower() not in skip])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def definition(name: str) -> str:
    text = (ROOT / "statemachine" / f"{name}.asl.json").read_text()
    for placeholder in set(re.findall(r"\$\{([^}]+)\}", text)):
        assert placeholder in FUNCTIONS, f"{name}: unknown substitution ${{{placeholder}}}"
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTIONS[placeholder]}"
        text = text.replace("${%s}" % placeholder, arn)
    return text


def main() -> int:
    moto_port, lambda_port = free_port(), free_port()
    Handler.moto_port = moto_port
    server = http.server.ThreadingHTTPServer(("127.0.0.1", lambda_port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    moto_server = Path(sys.executable).parent / "moto_server"
    moto = subprocess.Popen([str(moto_server), "-H", "127.0.0.1", "-p", str(moto_port)],
                            env={**os.environ, "MOTO_PORT": str(lambda_port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return run_scenarios(moto_port)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        server.shutdown()


def run_scenarios(moto_port: int) -> int:
    base = f"http://127.0.0.1:{moto_port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/moto-api/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    config = urllib.request.Request(f"{base}/moto-api/config", method="POST", headers={"Content-Type": "application/json"},
                                    data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode())
    urllib.request.urlopen(config).read()
    sfn = boto3.client("stepfunctions", endpoint_url=base, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    machines = {name: sfn.create_state_machine(name=name, definition=definition(name),
                                               roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn")["stateMachineArn"]
                for name in ("provision", "cleanup")}
    started = time.time()
    executions = {}
    for label in SCENARIOS:
        if label.startswith("cl-"):
            arn, payload = machines["cleanup"], {"clusterName": "demo", "namespace": label, "reason": "smoke"}
            for key in ("runId", "generation"):
                if key in SCENARIOS[label]:
                    payload[key] = SCENARIOS[label][key]
        else:
            arn, payload = machines["provision"], {"clusterName": "demo"}
        executions[label] = sfn.start_execution(stateMachineArn=arn, name=f"{label}.{int(started)}",
                                                input=json.dumps(payload))["executionArn"]
    results = {}
    while len(results) < len(executions) and time.time() - started < 120:
        for label, arn in executions.items():
            if label not in results:
                described = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    results[label] = described
        time.sleep(0.2)
    failures = []
    for label in SCENARIOS:
        result = results.get(label, {"status": "RUNNING"})
        try:
            check(label, result, calls[label])
            print(f"  ok   {label:15} {result['status']:9} {result.get('error', '')}")
        except AssertionError as e:
            failures.append(label)
            print(f"  FAIL {label:15} {result['status']:9} {result.get('error', '')} {result.get('cause', '')[:200]}\n"
                  f"       {e}\n       calls: {' '.join(calls[label])}")
    print(f"  {len(SCENARIOS) - len(failures)}/{len(SCENARIOS)} scenarios in {time.time() - started:.1f}s")
    return 1 if failures else 0


def check(label: str, result: dict, seq: list[str]) -> None:
    status, error = result["status"], result.get("error")
    output = json.loads(result.get("output") or "null")
    rollbacks = [c for c in seq if c.startswith("rollback:failed")]
    run_ends = [c for c in seq if c.startswith("rollback:succeeded")]

    def failed_with(name: str, rolled_back: bool = True):
        assert (status, error) == ("FAILED", name), f"expected FAILED {name}"
        assert len(rollbacks) == (1 if rolled_back else 0), f"rollback calls: {rollbacks}"

    if label == "happy":
        assert status == "SUCCEEDED", "expected SUCCEEDED"
        assert output["resources"] == {
            "fargateProfileName": "fp-team-a", "fargateProfileArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:fargateprofile/demo/fp-team-a/1",
            "fileSystemId": "fs-1", "fileSystemArn": "arn:fs-1", "accessPointId": "fsap-1",
            "mountTargetIds": ["fsmt-a", "fsmt-b"], "securityGroupId": "sg-1"}, output["resources"]
        assert [t["state"] for t in output["efs"]["mountTargets"]] == ["available", "available"], "final EFS state"
        assert output["validation"] == {"crossRead": {"app1Read": "PoC APP 2"}, "persistence": "poll 1",
                                        "report": {"files": ["out1.txt", "out2.txt"]}}, output["validation"]
        assert output["pocApp"] == {"persistentVolume": "pv-team-a", "persistentVolumeClaim": "pvc-team-a"}
        assert output["storageClass"] == {"storageClassName": "efs-sc"} and output["pocAppDeployed"] is True
        assert output["runId"] == output["run"]["runId"] and not rollbacks
        assert run_ends == ["rollback:succeeded"], "the lease is released once, at the end"
        assert seq.index("fargate-profile:namespace") < min(seq.index("fargate-profile:converge"),
                                                            seq.index("efs:converge")), \
            "the namespace comes before any AWS resource"
    elif label == "bootstrap":
        assert status == "SUCCEEDED", "expected SUCCEEDED"
        namespace_calls = [c for c in seq if c.startswith(("fargate-profile:namespace", "prepare:"))]
        assert namespace_calls == ["fargate-profile:namespace", "prepare:grant-bootstrap", "fargate-profile:namespace",
                                   "prepare:revoke-bootstrap"], seq
        assert seq.index("prepare:revoke-bootstrap") < seq.index("efs:converge"), "revoked before any AWS resource"
    elif label == "bootstrap-fails":
        failed_with("ClusterAccessNotGranted")
        assert seq.count("prepare:grant-bootstrap") == 3, seq
    elif label == "no-app":
        assert status == "SUCCEEDED" and output["pocAppDeployed"] is False, "expected SUCCEEDED without the app"
        assert run_ends == ["rollback:succeeded"], seq
        assert "pocApp" not in output and not any(c.startswith(("poc-app", "validate")) for c in seq), seq
    elif label == "skipped":
        assert status == "SUCCEEDED" and output == {"status": "skipped", "reason": "cluster did not opt in"}, output
    elif label == "planned":
        assert status == "SUCCEEDED" and seq == ["prepare", "storage-class:plan"], seq
        assert output == {"status": "planned", "doctor": {"healthy": True}, "plan": {
            "clusterName": "demo", "namespace": "planned", "resources": [{"kind": "namespace", "action": "create"}]}}, output
    elif label == "invalid":
        failed_with("InvalidInput", rolled_back=False)
        assert seq == ["prepare!InvalidInput"], "no retry of a non-retryable error"
    elif label == "cluster-cap":
        failed_with("ClusterNotReadyTimeout", rolled_back=False)
        assert seq.count("prepare") == 60, seq.count("prepare")
    elif label == "efs-fails":
        failed_with("FileSystemFailed")
    elif label == "fargate-cap":
        failed_with("FargateProfileTimeout")
    elif label == "pods-cap":
        failed_with("PodsNotRunningTimeout")
        assert "40 polls" in result["cause"], result["cause"]
    elif label == "report-cap":
        failed_with("ValidationTimeout")
    elif label == "transient":
        assert status == "SUCCEEDED", "retries should absorb the injected faults"
        assert seq.count("storage-class:create!AwsThrottled") == 2, seq
    elif label == "rollback-fails":
        failed_with("KubernetesApiError")
    elif label == "cl-happy":
        assert status == "SUCCEEDED", "expected SUCCEEDED"
        assert [c.split(":")[1] for c in dict.fromkeys(seq)] == CLEANUP_ORDER, seq
        assert seq.count("cleanup:fargate-profile") == 3, seq
        # The first of the three calls removed it; the last output still says so.
        assert output["actions"]["fargateProfile"] == {"removed": ["fargate-profile-1"], "kept": []}, output
        assert output["input"]["reason"] == "smoke" and set(output["actions"]) == {
            "kubernetes", "alarms", "insightsRole", "fargateProfile", "mountTargets", "fileSystem", "securityGroup", "kmsKey", "accessEntry"}
    elif label == "cl-dependency":
        assert status == "SUCCEEDED" and "cleanup:security-group!DependencyNotReady" in seq, seq
    elif label == "cl-cap":
        assert (status, error) == ("FAILED", "CleanupIncomplete"), "expected CleanupIncomplete"
        assert "mountTargets: CleanupTimeout" in result["cause"], result["cause"]
        assert [c.split(":")[1].split("!")[0] for c in dict.fromkeys(seq)] == CLEANUP_ORDER, \
            "every later action still runs"
    elif label == "cl-fails":
        assert (status, error) == ("FAILED", "CleanupIncomplete"), seq
        assert "kmsKey: AccessDenied" in result["cause"], result["cause"]
        assert seq.index("cleanup:kms-key!AccessDenied") < seq.index("cleanup:access-entry"), seq
    elif label == "cl-rollback":
        assert status == "SUCCEEDED" and output["runId"] == "provision-run-7", output
    elif label in ("cl-expired", "cl-run"):
        assert status == "SUCCEEDED" and seq[-1] == "cleanup:finish", (status, seq)
    elif label == "cl-lease":
        assert status == "SUCCEEDED" and seq.count("cleanup:lease") == 3, seq
        assert seq.index("cleanup:lease") == 0 and seq[-1] == "cleanup:finish", seq


if __name__ == "__main__":
    sys.exit(main())
