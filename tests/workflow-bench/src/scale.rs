//! Scale: N clusters created at once on one local stack, each with its own fake API server; each
//! creation starts its provisioning run through the template's EventBridge rule, as on AWS. Then
//! N cleanups started together. The completion rate and the wall time of each wave, at the local
//! stack's own timings (1 s polls, 10 simulated seconds per pod start at time scale 0.1, no
//! injected latency): this measures the workflow and moto's engine under concurrency, not AWS's
//! latencies.

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
    /// Creating the clusters and their API servers (the first runs start meanwhile).
    pub setup_seconds: f64,
    pub provisioning: Wave,
    pub cleanup: Wave,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wave {
    pub succeeded: usize,
    /// `execution: status error: cause` of every run that did not succeed.
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
    // A run that succeeds without a file system (skipped: the cluster did not opt in) is no
    // completed provisioning.
    let provisioned = |output: &Value| output["resources"]["fileSystemId"].is_string();
    let provisioning = wait_all(
        stack,
        &executions(stack, &stack.provision_arn, runs).await?,
        provisioned,
    )
    .await?;
    let sfn = &stack.moto_clients.sfn;
    for cluster in &clusters {
        let input = json!({"clusterName": cluster, "namespace": DEFAULT_NAMESPACE});
        sfn.start_execution()
            .state_machine_arn(&stack.cleanup_arn)
            .name(format!("cleanup-{cluster}"))
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| format!("start the cleanup of {cluster}: {e}"))?;
    }
    let cleanup = wait_all(stack, &executions(stack, &stack.cleanup_arn, runs).await?, |_| true).await?;
    drop(api_servers);
    Ok(ScaleResult {
        runs,
        setup_seconds,
        provisioning,
        cleanup,
    })
}

/// The executions of `machine` once there are `runs` of them: the provisioning runs are started
/// by the rule as the clusters are created, the cleanups by [`measure`].
async fn executions(stack: &LocalStack, machine: &str, runs: usize) -> Result<Vec<String>, String> {
    let began = Instant::now();
    loop {
        let listed = stack
            .moto_clients
            .sfn
            .list_executions()
            .state_machine_arn(machine)
            .max_results(1000)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let arns: Vec<String> = listed
            .executions()
            .iter()
            .map(|e| e.execution_arn().to_string())
            .collect();
        if arns.len() >= runs {
            return Ok(arns);
        }
        if began.elapsed() > Duration::from_secs(60) {
            return Err(format!("{} executions of {machine} for {runs} clusters", arns.len()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits for every execution of a wave; one completed when it succeeded with an output `done` accepts.
async fn wait_all(stack: &LocalStack, arns: &[String], done: impl Fn(&Value) -> bool) -> Result<Wave, String> {
    let sfn = &stack.moto_clients.sfn;
    let mut failures = Vec::new();
    let mut durations = Vec::with_capacity(arns.len());
    let (mut first_start, mut last_stop) = (f64::MAX, f64::MIN);
    for arn in arns {
        let execution = match stack.wait(arn, WAVE_TIMEOUT).await {
            Ok(execution) => execution,
            Err(e) => {
                failures.push(format!("{arn}: {e}"));
                continue;
            }
        };
        if execution.status != ExecutionStatus::Succeeded {
            let cause: String = execution.cause.unwrap_or_default().chars().take(300).collect();
            failures.push(format!(
                "{arn}: {} {}: {cause}",
                execution.status.as_str(),
                execution.error.unwrap_or_default()
            ));
        } else if !done(&execution.output) {
            let output: String = execution.output.to_string().chars().take(300).collect();
            failures.push(format!("{arn}: succeeded without doing it: {output}"));
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
        succeeded: arns.len() - failures.len(),
        failures,
        wall_seconds: (last_stop - first_start).max(0.0),
        median_seconds: durations.get(durations.len() / 2).copied().unwrap_or_default(),
        max_seconds: durations.last().copied().unwrap_or_default(),
    })
}
