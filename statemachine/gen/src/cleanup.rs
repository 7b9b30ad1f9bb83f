//! The cleanup state machine (`statemachine/cleanup.asl.json`): one delete-then-poll step per
//! resource kind, in dependency order, then a summary of what each step removed and kept.

use crate::asl::{Fail, FailReason, Pass, StateMachine, States, Succeed};
use crate::json::Obj;
use crate::machine_errors::MachineError;
use crate::poll::{CapReached, Flag, PollLoop, poll_selector};
use crate::retry::{Backoff, Reach, RetryPolicy};
use crate::task::LambdaTask;
use efs_fargate_core::error::ErrorName;
use efs_fargate_core::functions::Function;

/// One action of the cleanup function, and the states named after it.
struct Step {
    /// The `action` the cleanup function runs.
    action: &'static str,
    /// Where its result goes in the state (`$.<key>`) and in the summary.
    key: &'static str,
    /// `Delete<Title>`, `Check<Title>`, `WaitFor<Title>`, `<Title>Timeout`.
    title: &'static str,
    /// The poll's Choice state.
    check: &'static str,
    reach: Reach,
}

/// In dependency order: pods before the profile that runs them, mount targets before their file
/// system and security group, the key and the access entry last.
const STEPS: [Step; 7] = [
    Step {
        action: "kubernetes",
        key: "kubernetes",
        title: "KubernetesObjects",
        check: "AreKubernetesObjectsGone",
        reach: Reach::Kubernetes,
    },
    Step {
        action: "fargate-profile",
        key: "fargateProfile",
        title: "FargateProfile",
        check: "IsFargateProfileGone",
        reach: Reach::Aws,
    },
    Step {
        action: "mount-targets",
        key: "mountTargets",
        title: "MountTargets",
        check: "AreMountTargetsGone",
        reach: Reach::Aws,
    },
    Step {
        action: "file-system",
        key: "fileSystem",
        title: "FileSystem",
        check: "IsFileSystemGone",
        reach: Reach::Aws,
    },
    Step {
        action: "security-group",
        key: "securityGroup",
        title: "SecurityGroup",
        check: "IsSecurityGroupGone",
        reach: Reach::Aws,
    },
    Step {
        action: "kms-key",
        key: "kmsKey",
        title: "KmsKey",
        check: "IsKmsKeyGone",
        reach: Reach::Aws,
    },
    Step {
        action: "access-entry",
        key: "accessEntry",
        title: "AccessEntry",
        check: "IsAccessEntryGone",
        reach: Reach::Aws,
    },
];

/// Polls per step before `CleanupTimeout`.
const POLL_CAP: u32 = 60;

/// Deleting waits for AWS to release dependants (a security group stays in use until the deleted
/// mount targets' network interfaces are gone), so `DependencyNotReady` is retried longer here.
const DEPENDENCY_BACKOFF: Backoff = Backoff {
    interval_seconds: 10,
    max_attempts: 20,
    max_delay_seconds: 60,
};

pub fn cleanup() -> StateMachine {
    let policy = RetryPolicy::default().with_own_retrier(ErrorName::DependencyNotReady, DEPENDENCY_BACKOFF);
    let mut states = States::default();
    states.add(
        "Init",
        Pass {
            comment: Some("Keeps only what the actions need (the reason stays in the execution input).".into()),
            parameters: Obj::new()
                .path("clusterName", "$.clusterName")
                .path("namespace", "$.namespace"),
            result_path: None,
            next: STEPS[0].delete(),
        },
    );
    for (index, step) in STEPS.iter().enumerate() {
        let next = STEPS.get(index + 1).map_or("Summarize".to_string(), Step::delete);
        add_step(&mut states, &policy, step, next);
    }
    let mut actions = Obj::new();
    for step in &STEPS {
        actions = actions.set(
            step.key,
            Obj::new()
                .path("removed", &format!("$.{}.removed", step.key))
                .path("kept", &format!("$.{}.kept", step.key)),
        );
    }
    states.add(
        "Summarize",
        Pass {
            comment: Some("Per action: what it removed and what it found but kept (not ours).".into()),
            parameters: Obj::new()
                .path("clusterName", "$.clusterName")
                .path("namespace", "$.namespace")
                .path("input", "$$.Execution.Input")
                .set("actions", actions),
            result_path: None,
            next: "CleanedUp".into(),
        },
    );
    states.add(
        "CleanedUp",
        Succeed {
            comment: None,
            output_path: None,
        },
    );
    states.add(
        "CleanupFailed",
        Fail {
            comment: Some("Stops at the first failing action; every action is idempotent, so the cleanup can simply be started again.".into()),
            reason: FailReason::RECORDED,
        },
    );
    StateMachine {
        comment: "efs-fargate-workflow cleanup (epic06) for one cluster namespace: Kubernetes objects -> Fargate profile -> mount targets -> file system -> security group -> KMS key -> access entry. Each action deletes only what carries the workflow's ownership tags and is called again until done.".into(),
        start_at: "Init".into(),
        timeout_seconds: 3600,
        states,
    }
}

impl Step {
    fn delete(&self) -> String {
        format!("Delete{}", self.title)
    }

    /// A call of this step's action; every failure stops the cleanup.
    fn call(&self) -> LambdaTask {
        let payload = Obj::new()
            .set("action", self.action)
            .path("clusterName", "$.clusterName")
            .path("namespace", "$.namespace");
        LambdaTask::invoke(Function::Cleanup, payload)
            .reaching(self.reach)
            .catch_all("$.error", "CleanupFailed")
    }
}

/// The first call deletes and reports what it removed and kept; the loop's calls only poll.
fn add_step(states: &mut States, policy: &RetryPolicy, step: &Step, next: String) {
    let key = step.key;
    let delete = step
        .call()
        .add_to_payload(Obj::new().set("attempt", 0))
        .comment(&format!(
            "`{}`, first call: deletes what is ours and reports it ($.{key}.removed, .kept); later calls only poll.",
            step.action
        ))
        .result(
            Obj::new()
                .path("removed", "$.Payload.removed")
                .path("kept", "$.Payload.kept")
                .set("poll", poll_selector(Flag::Done)),
            &format!("$.{key}"),
        )
        .build(policy, step.check);
    states.add(&step.delete(), delete);
    let poll = format!("$.{key}.poll");
    states.extend(
        PollLoop {
            status: (format!("Check{}", step.title), step.call()),
            result_path: poll.clone(),
            flag: Flag::Done,
            keep: Obj::new(),
            check: step.check.into(),
            wait: format!("WaitFor{}", step.title),
            on_ready: next,
            cap: POLL_CAP,
            cap_state: format!("{}Timeout", step.title),
            on_cap: CapReached::Record {
                error: MachineError::CleanupTimeout,
                comment: "Poll cap reached: fail with CleanupTimeout.".into(),
                cause: format!(
                    "States.Format('cleanup action {} not done after {{}} polls', {poll}.attempt)",
                    step.action
                ),
                next: "CleanupFailed".into(),
            },
        }
        .states(policy),
    );
}
