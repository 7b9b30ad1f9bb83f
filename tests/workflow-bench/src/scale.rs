//! Scale: N provisioning runs started together on N distinct clusters of one local stack, each
//! with its own fake API server, then N cleanups together; the completion rate and the wall time
//! of each wave. The local stack's own timings (1 s polls, 10 simulated seconds per pod start at
//! time scale 0.1, no injected latency): this measures the workflow and moto's engine under
//! concurrency, not AWS's latencies.

use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use local_stack::stack::{LocalStack, StackOptions};
use serde::Serialize;
use serde_json::{Value, json};

/// Long enough for 100 runs sharing 2 cores; a run still going after it counts as not completed.
const WAVE_TIMEOUT: Duration = Duration::from_secs(1_800);

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleResult {
    pub runs: usize,
    /// Creating the clusters and their API servers, before anything is measured.
    pub setup_seconds: f64,
    pub provisioning: Wave,
    pub cleanup: Wave,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wave {
    pub succeeded: usize,
    /// `execution: status error` of every run that did not succeed.
    pub failures: Vec<String>,
    /// From the first start to the last stop.
    pub wall_seconds: f64,
    /// Each execution's own duration.
    pub median_seconds: f64,
    pub max_seconds: f64,
}

impl Wave {
    pub fn completion_rate(&self, runs: usize) -> f64 {
        self.succeeded as f64 / runs as f64
    }
}

pub async fn scale(runs: usize) -> Result<ScaleResult, String> {
    let stack = LocalStack::start(StackOptions {
        schedules: false,
        ..StackOptions::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let outcome = measure(&stack, runs).await;
    stack.shutdown().await;
    outcome
}

async fn measure(stack: &LocalStack, runs: usize) -> Result<ScaleResult, String> {
    let began = Instant::now();
    let clusters: Vec<String> = (0..runs).map(|i| format!("scale-{i:03}")).collect();
    let mut api_servers = Vec::with_capacity(runs);
    for cluster in &clusters {
        api_servers.push(stack.add_cluster(cluster).await.map_err(|e| e.to_string())?);
    }
    let setup_seconds = began.elapsed().as_secs_f64();
    let provisioning = wave(
        stack,
        &stack.provision_arn,
        &clusters,
        "provision",
        |cluster| json!({"clusterName": cluster}),
    )
    .await?;
    let cleanup = wave(
        stack,
        &stack.cleanup_arn,
        &clusters,
        "cleanup",
        |cluster| json!({"clusterName": cluster, "namespace": DEFAULT_NAMESPACE}),
    )
    .await?;
    drop(api_servers);
    Ok(ScaleResult {
        runs,
        setup_seconds,
        provisioning,
        cleanup,
    })
}

/// Starts one execution per cluster, all before waiting for any, then waits for every one.
async fn wave(
    stack: &LocalStack,
    machine: &str,
    clusters: &[String],
    kind: &str,
    input: impl Fn(&str) -> Value,
) -> Result<Wave, String> {
    let sfn = &stack.moto_clients.sfn;
    let mut arns = Vec::with_capacity(clusters.len());
    for cluster in clusters {
        let started = sfn
            .start_execution()
            .state_machine_arn(machine)
            .name(format!("{kind}-{cluster}"))
            .input(input(cluster).to_string())
            .send()
            .await
            .map_err(|e| format!("start {kind} on {cluster}: {e}"))?;
        arns.push(started.execution_arn().to_string());
    }
    let mut failures = Vec::new();
    let mut durations = Vec::with_capacity(arns.len());
    let (mut first_start, mut last_stop) = (f64::MAX, f64::MIN);
    for arn in &arns {
        let execution = match stack.wait(arn, WAVE_TIMEOUT).await {
            Ok(execution) => execution,
            Err(e) => {
                failures.push(format!("{arn}: {e}"));
                continue;
            }
        };
        if execution.status != ExecutionStatus::Succeeded {
            failures.push(format!(
                "{arn}: {} {}",
                execution.status.as_str(),
                execution.error.unwrap_or_default()
            ));
        }
        let described = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let start = described.start_date().as_secs_f64();
        let stop = described.stop_date().map_or(start, |d| d.as_secs_f64());
        first_start = first_start.min(start);
        last_stop = last_stop.max(stop);
        durations.push(stop - start);
    }
    durations.sort_by(f64::total_cmp);
    Ok(Wave {
        succeeded: clusters.len() - failures.len(),
        failures,
        wall_seconds: (last_stop - first_start).max(0.0),
        median_seconds: durations.get(durations.len() / 2).copied().unwrap_or_default(),
        max_seconds: durations.last().copied().unwrap_or_default(),
    })
}
