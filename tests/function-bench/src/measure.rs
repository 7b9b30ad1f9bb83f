//! One function's figures from the host release binary: cold start (process exec → first
//! `GET /2018-06-01/runtime/invocation/next`) and peak RSS after one invocation.

use crate::runtime_api::{Call, MockRuntimeApi};
use efs_fargate_core::functions::{FUNCTION_ENV, Function};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Starts `binary` as Lambda starts a function: the Runtime API's address and the function's
/// identity in the environment, AWS pointed at a closed loopback port with one attempt per call, so
/// an invocation runs the handler up to its first AWS call and fails fast with that error.
fn spawn(binary: &Path, function: Function, runtime_api: &str) -> std::io::Result<Child> {
    Command::new(binary)
        .env_clear()
        .env(FUNCTION_ENV, function.name())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", function.name())
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("LEASE_TABLE_NAME", "efs-workflow-leases")
        // As template.yaml sets it: without it `prepare` stops at validation (InvalidInput).
        .env(
            "POD_EXECUTION_ROLE_ARN",
            "arn:aws:iam::123456789012:role/efs-workflow-pods",
        )
        .env(
            "CLEANUP_STATE_MACHINE_ARN",
            "arn:aws:states:us-east-1:123456789012:stateMachine:cleanup",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

fn next_call(api: &MockRuntimeApi, child: &mut Child, what: &str) -> Result<Call, String> {
    api.calls.recv_timeout(TIMEOUT).map_err(|_| {
        let status = child.try_wait().ok().flatten();
        format!("no {what} within {TIMEOUT:?} (process status: {status:?})")
    })
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Milliseconds from exec to the first poll of the Runtime API.
pub fn cold_start_ms(binary: &Path, function: Function) -> Result<f64, String> {
    let api = MockRuntimeApi::start("{}".into()).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = spawn(binary, function, &api.address).map_err(|e| format!("{}: {e}", binary.display()))?;
    let call = next_call(&api, &mut child, "first poll");
    stop(child);
    match call? {
        Call::Next { at, .. } => Ok(at.duration_since(started).as_secs_f64() * 1e3),
        other => Err(format!("expected the first poll, got {other:?}")),
    }
}

/// What one invocation of `event` left: peak RSS (VmHWM) and how the function answered.
pub struct Invocation {
    pub peak_rss_kib: u64,
    /// `response`, or `error <errorType>`.
    pub outcome: String,
}

pub fn invoke_once(binary: &Path, function: Function, event: String) -> Result<Invocation, String> {
    let api = MockRuntimeApi::start(event).map_err(|e| e.to_string())?;
    let mut child = spawn(binary, function, &api.address).map_err(|e| format!("{}: {e}", binary.display()))?;
    let result = (|| {
        let mut outcome = None;
        loop {
            match next_call(&api, &mut child, "end of the invocation")? {
                Call::Next { n: 1, .. } => {}
                Call::Outcome { error, body } => outcome = Some(describe(error, &body)),
                Call::Next { .. } => {
                    let peak_rss_kib = vm_hwm_kib(child.id())?;
                    let outcome = outcome.ok_or("polled again without answering")?;
                    return Ok(Invocation { peak_rss_kib, outcome });
                }
            }
        }
    })();
    stop(child);
    result
}

fn describe(error: bool, body: &str) -> String {
    if !error {
        return "response".into();
    }
    let error_type = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["errorType"].as_str().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!("error {error_type}")
}

fn vm_hwm_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))
}
