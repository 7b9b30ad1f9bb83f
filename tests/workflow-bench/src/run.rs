//! One case replayed: a fresh local stack whose gateway and fake cluster take the case's
//! latencies at the time scale, one provisioning run and one cleanup run, each measured.

use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use local_stack::stack::{CLUSTER, LocalStack, StackOptions};
use local_stack::{LatencyConfig, Stats};
use serde::Serialize;
use serde_json::json;

use crate::cost::Cost;
use crate::model::{Case, Latencies};

/// What one execution cost, in simulated seconds where time is concerned.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    pub status: String,
    /// From the first state entered to the execution's stop date, scaled back to AWS seconds.
    pub wall_seconds: f64,
    /// From the execution's start date to its first state entered (moto's engine starting the
    /// execution's thread, which takes a real half second or more here and not on AWS): left
    /// out of `wall_seconds`, reported here.
    pub engine_start_seconds: f64,
    pub state_transitions: usize,
    pub aws_api_calls: u64,
    pub lambda_invocations: u64,
    /// Time in the handlers (in-function waits included), scaled back to AWS seconds.
    pub lambda_seconds: f64,
    pub cost: Cost,
    /// Every state entered, with its AWS second since the execution started.
    pub timeline: Vec<(String, f64)>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    pub case: Case,
    pub latencies: Latencies,
    pub bound_seconds: u32,
    pub ratio: f64,
    pub provisioning: Measured,
    pub cleanup: Measured,
}

pub async fn case(case: Case, scale: f64) -> Result<CaseResult, String> {
    let latencies = case.latencies();
    let real = |seconds: u32| Duration::from_secs_f64(f64::from(seconds) * scale);
    let options = StackOptions {
        time_scale: scale,
        pod_start_delay: Duration::from_secs(latencies.pod_start.into()),
        faults: None,
        latency: LatencyConfig {
            create: Duration::ZERO,
            delete: real(latencies.deletion),
            create_profile: Some(real(latencies.fargate_profile)),
            create_file_system: Some(real(latencies.file_system)),
            create_mount_target: Some(real(latencies.mount_targets)),
        },
        simulated_time: true,
        schedules: false,
        ..StackOptions::default()
    };
    let stack = LocalStack::start(options).await.map_err(|e| e.to_string())?;
    let outcome = async {
        let provisioning = execute(&stack, true, scale, "bench-provision").await?;
        let cleanup = execute(&stack, false, scale, "bench-cleanup").await?;
        Ok::<_, String>((provisioning, cleanup))
    }
    .await;
    stack.shutdown().await;
    let (provisioning, cleanup) = outcome?;
    let bound_seconds = latencies.bound();
    Ok(CaseResult {
        case,
        latencies,
        bound_seconds,
        ratio: provisioning.wall_seconds / f64::from(bound_seconds),
        provisioning,
        cleanup,
    })
}

async fn execute(stack: &LocalStack, provision: bool, scale: f64, name: &str) -> Result<Measured, String> {
    let (machine, input) = if provision {
        (&stack.provision_arn, json!({"clusterName": CLUSTER}))
    } else {
        (
            &stack.cleanup_arn,
            json!({"clusterName": CLUSTER, "namespace": DEFAULT_NAMESPACE}),
        )
    };
    let before = stack.gateway_stats();
    let began = Instant::now();
    // Generous: the high case's provisioning is about 7 simulated minutes.
    let timeout = Duration::from_secs_f64(1_800.0 * scale).max(Duration::from_secs(120));
    let execution = stack
        .run(machine, name, &input, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let polled = began.elapsed();
    let after = stack.gateway_stats();
    let sfn = &stack.moto_clients.sfn;
    let described = sfn
        .describe_execution()
        .execution_arn(&execution.execution_arn)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    // The engine's own dates; the client's polling (every 250 ms) only when they are missing.
    let real_wall = match (described.start_date(), described.stop_date()) {
        (start, Some(stop)) if stop.as_secs_f64() > start.as_secs_f64() => stop.as_secs_f64() - start.as_secs_f64(),
        _ => polled.as_secs_f64(),
    };
    let history = sfn
        .get_execution_history()
        .execution_arn(&execution.execution_arn)
        .max_results(1000)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let start = described.start_date().as_secs_f64();
    let timeline: Vec<(String, f64)> = history
        .events()
        .iter()
        .filter_map(|e| {
            let at = (e.timestamp().as_secs_f64() - start) / scale;
            Some((
                e.state_entered_event_details()?.name().to_string(),
                (at * 10.0).round() / 10.0,
            ))
        })
        .collect();
    if execution.status != ExecutionStatus::Succeeded {
        return Err(format!(
            "{name} ended {:?}: {:?} {:?}",
            execution.status, execution.error, execution.cause
        ));
    }
    let engine_start_seconds = timeline.first().map_or(0.0, |(_, at)| *at);
    Ok(Measured {
        engine_start_seconds,
        ..measured(
            &before,
            &after,
            execution.status,
            real_wall / scale - engine_start_seconds,
            timeline,
            scale,
        )
    })
}

fn measured(
    before: &Stats,
    after: &Stats,
    status: ExecutionStatus,
    wall_seconds: f64,
    timeline: Vec<(String, f64)>,
    scale: f64,
) -> Measured {
    let state_transitions = timeline.len();
    let lambda_invocations = after.invocations_total() - before.invocations_total();
    let lambda_seconds = (after.handler_time - before.handler_time).as_secs_f64() / scale;
    Measured {
        status: status.as_str().to_string(),
        wall_seconds,
        engine_start_seconds: 0.0,
        state_transitions,
        aws_api_calls: after.aws_calls - before.aws_calls,
        lambda_invocations,
        lambda_seconds,
        cost: Cost::of(state_transitions, lambda_invocations, lambda_seconds),
        timeline,
    }
}
