//! Workflow-level helpers shared by the integration tests: the steps run in the order the state
//! machine runs them, against the moto server of `workflow_tests::moto()`.

#![allow(dead_code)] // each test binary uses its own subset

use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::run::{Run, StepEvent};
use efs_fargate_core::settings::{AccessEntryMode, Settings};
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupEvent, CleanupProgress, cleanup};
use efs_fargate_core::steps::efs::{self, EfsOutput};
use efs_fargate_core::steps::fargate::{self, ProfileOutput};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use efs_fargate_core::{Result, WorkflowError};
use serde_json::Value;

pub const CLUSTER: &str = "demo";
pub const NAMESPACE: &str = "poc-efs-eks-fargate";
pub const POD_ROLE: &str = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole";

/// The local stack's settings: moto has no EKS access entries, and polls may be short.
pub fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(POD_ROLE.into()),
        access_entry_mode: AccessEntryMode::Skip,
        poll_seconds_override: Some(1),
        ..Settings::default()
    }
}

pub async fn try_prepare(clients: &AwsClients, run_id: &str, input: Value) -> Result<PrepareOutput> {
    let event = PrepareEvent {
        run_id: run_id.into(),
        started_at: None,
        input,
        attempt: 0,
    };
    prepare(clients, &settings(), event).await
}

pub async fn prepared(clients: &AwsClients, input: Value) -> Run {
    match try_prepare(clients, "run-1", input).await.expect("prepare") {
        PrepareOutput::Ready { run } => *run,
        other => panic!("prepare did not finish: {other:?}"),
    }
}

pub fn step<A>(action: A, run: &Run) -> StepEvent<A> {
    StepEvent {
        action,
        run: run.clone(),
        attempt: 0,
    }
}

/// epic01 + epic02 with their status loops, as the state machine runs them.
pub async fn provision(clients: &AwsClients, run: &Run) -> (ProfileOutput, EfsOutput) {
    let profile = fargate::ensure_profile(&clients.eks, run)
        .await
        .expect("fargate-profile create");
    let poll = fargate::profile_status(&clients.eks, &settings(), run, 0)
        .await
        .expect("fargate-profile status");
    assert!(poll.ready, "moto's profiles are ACTIVE at once: {poll:?}");
    let storage = efs::ensure_storage(clients, run).await.expect("efs create");
    let poll = efs::storage_status(clients, &settings(), run, 0)
        .await
        .expect("efs status");
    assert!(poll.ready, "moto's mount targets are available at once: {poll:?}");
    (profile, storage)
}

pub const CLEANUP_ORDER: [CleanupAction; 6] = [
    CleanupAction::FargateProfile,
    CleanupAction::MountTargets,
    CleanupAction::FileSystem,
    CleanupAction::SecurityGroup,
    CleanupAction::KmsKey,
    CleanupAction::AccessEntry,
];

/// Every cleanup action in order, each called again until done (as the cleanup state machine does).
pub async fn clean_up(clients: &AwsClients, cluster: &str, namespace: &str) -> Vec<(CleanupAction, CleanupProgress)> {
    let mut log = Vec::new();
    for action in CLEANUP_ORDER {
        let mut attempt = 0;
        loop {
            let event = CleanupEvent {
                action,
                cluster_name: cluster.into(),
                namespace: namespace.into(),
                attempt,
            };
            let progress = cleanup(clients, &settings(), event)
                .await
                .unwrap_or_else(|e| panic!("{action:?}: {e}"));
            attempt = progress.attempt;
            let finished = progress.done;
            log.push((action, progress));
            if finished {
                break;
            }
            assert!(attempt < 10, "{action:?} never finished");
        }
    }
    log
}

pub fn error_name(result: Result<impl std::fmt::Debug>) -> (String, WorkflowError) {
    let err = result.expect_err("expected an error");
    (err.error_type().to_string(), err)
}
