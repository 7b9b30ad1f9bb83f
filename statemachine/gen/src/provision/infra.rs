//! epic01 and epic02, the two branches of `ProvisionInParallel`. Each is one polling loop on a
//! converging action; its errors fail the branch, and the Parallel state's Catch rolls back.

use crate::asl::{Branch, State, States, Succeed};
use crate::machine_errors::MachineError;
use crate::poll::{CapReached, PollLoop};
use crate::retry::RetryPolicy;
use crate::task::LambdaTask;
use efs_fargate_core::functions::Function;

use super::run_payload;

/// Polls of the Fargate profile: queued behind other profile changes of the cluster (30 s polls,
/// at most ~5 min each) and then its own creation (15 s polls): room for eight queued changes.
const FARGATE_POLL_CAP: u32 = 100;
/// Polls of the file system and its mount targets (20 s polls).
const EFS_POLL_CAP: u32 = 30;

pub fn fargate_branch(policy: &RetryPolicy) -> Branch {
    let call = LambdaTask::invoke(
        Function::FargateProfile,
        run_payload("converge").path("executionArn", "$$.Execution.Id"),
    )
    .comment("epic01: Fargate profile fp-<namespace>, found, or created under the cluster's profile lease (output.status QUEUED while another execution changes a profile of the cluster); ready once ACTIVE.");
    branch(
        PollLoop {
            task: ("FargateProfile".into(), call),
            result_path: "$.fargate".into(),
            before_ready: vec![],
            check: "IsFargateProfileActive".into(),
            wait: "WaitForFargateProfile".into(),
            on_ready: "FargateProfileDone".into(),
            cap: FARGATE_POLL_CAP,
            cap_state: "FargateProfileTimeout".into(),
            on_cap: CapReached::Fail {
                error: MachineError::FargateProfileTimeout,
                what: "The Fargate profile did not become ACTIVE",
            },
        },
        policy,
    )
}

pub fn efs_branch(policy: &RetryPolicy) -> Branch {
    let call = LambdaTask::invoke(Function::Efs, run_payload("converge"))
        .comment("epic02: KMS key (only with kmsKeyAlias), encrypted file system, NFS security group, then mount targets once the file system is available; found or created; ready once every mount target is available.");
    branch(
        PollLoop {
            task: ("Efs".into(), call),
            result_path: "$.efs".into(),
            before_ready: vec![],
            check: "AreMountTargetsAvailable".into(),
            wait: "WaitForMountTargets".into(),
            on_ready: "EfsDone".into(),
            cap: EFS_POLL_CAP,
            cap_state: "MountTargetsTimeout".into(),
            on_cap: CapReached::Fail {
                error: MachineError::MountTargetsTimeout,
                what: "The EFS file system or its mount targets did not become available",
            },
        },
        policy,
    )
}

/// The loop, then a Succeed whose output is the last poll's `output`.
fn branch(poll: PollLoop, policy: &RetryPolicy) -> Branch {
    let start_at = poll.task.0.clone();
    let done = poll.on_ready.clone();
    let output_path = format!("{}.output", poll.result_path);
    let mut states = States::default();
    states.extend(poll.states(policy));
    states.add(
        &done,
        State::from(Succeed {
            comment: None,
            output_path: Some(output_path),
        }),
    );
    Branch { start_at, states }
}
