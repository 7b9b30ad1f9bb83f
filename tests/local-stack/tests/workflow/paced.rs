//! The status actions' own poll plans (`efs_fargate_core::pacing`) under AWS's median latencies,
//! replayed at a tenth: one Wait per long change, everything short waited for in the function.

use crate::support::*;
use efs_fargate_core::pacing::{FARGATE_POD, FARGATE_PROFILE, FILE_SYSTEM, MOUNT_TARGETS};
use local_stack::LatencyConfig;
use local_stack::stack::{CLUSTER, StackOptions};
use serde_json::json;
use std::time::Duration;

const SCALE: f64 = 0.1;

#[tokio::test]
async fn under_the_median_latencies_each_long_change_costs_one_wait_and_short_ones_none() {
    let real = |seconds: u32| Duration::from_secs_f64(f64::from(seconds) * SCALE);
    let options = StackOptions {
        pod_start_delay: Duration::from_secs(FARGATE_POD.median.into()),
        latency: LatencyConfig {
            create_profile: Some(real(FARGATE_PROFILE.median)),
            create_file_system: Some(real(FILE_SYSTEM.median)),
            create_mount_target: Some(real(MOUNT_TARGETS.median)),
            ..LatencyConfig::default()
        },
        simulated_time: true,
        schedules: false,
        ..StackOptions::default()
    };
    let stack = stack_at(SCALE, options).await;
    let execution = stack
        .provision("provision-paced", json!({"clusterName": CLUSTER}))
        .await;
    succeeded(&execution);
    let arn = &execution.execution_arn;
    for (wait, expected) in [
        ("WaitForFargateProfile", 1),
        ("WaitForMountTargets", 1),
        ("WaitForPods", 1),
        ("WaitForCrossRead", 0),
        ("WaitForReport", 1),
    ] {
        assert_eq!(stack.entries(arn, wait).await, expected, "{wait}");
    }
    let transitions = stack.entered_states(arn).await.len();
    // 24 states on the straight path (the end task ends the run with its output), 4 for the
    // bootstrap grant, 4 Wait loops of 3.
    assert_eq!(transitions, 40);
    assert_eq!(
        stack.entries(arn, "SummarizeWithPocApp").await,
        0,
        "the end task composed the output"
    );
    stack.shutdown().await;
}
