//! The events the state machines send the functions, filled in as the state machines fill them on
//! a first attempt, so that a test spells out only what it varies
//! (`PrepareEvent { started_at, ..prepare_event(input) }`).

use efs_fargate_core::run::{Run, StepEvent};
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupEvent};
use efs_fargate_core::steps::k8s::KubeStepEvent;
use efs_fargate_core::steps::prepare::PrepareEvent;
use serde_json::Value;

/// `prepare` for the execution input `input`, as run `run-1`.
pub fn prepare_event(input: Value) -> PrepareEvent {
    PrepareEvent {
        execution_arn: None,
        run_id: "run-1".into(),
        started_at: None,
        input,
        attempt: 0,
    }
}

/// An AWS step (Fargate profile, EFS) of `run`.
pub fn step<A>(action: A, run: &Run) -> StepEvent<A> {
    StepEvent {
        action,
        run: run.clone(),
        attempt: 0,
        execution_arn: None,
    }
}

/// A Kubernetes step of `run` on the file system `file_system_id` through its access point
/// `access_point_id` ([`crate::World::access_point_id`]), at poll `attempt`.
pub fn kube_step<A>(
    action: A,
    run: &Run,
    file_system_id: &str,
    access_point_id: &str,
    attempt: u32,
) -> KubeStepEvent<A> {
    KubeStepEvent {
        action,
        run: run.clone(),
        file_system_id: file_system_id.into(),
        access_point_id: access_point_id.into(),
        attempt,
    }
}

/// One action of a manual cleanup (no run id: everything the workflow created for the namespace).
pub fn cleanup_event(action: CleanupAction, cluster: &str, namespace: &str) -> CleanupEvent {
    CleanupEvent {
        action,
        cluster_name: cluster.into(),
        namespace: namespace.into(),
        run_id: None,
        generation: None,
        execution_arn: None,
        attempt: 0,
        removed: vec![],
    }
}
