//! The cleanup state machine (`statemachine/cleanup.asl.json`): the namespace's lease first (waiting
//! while a running provisioning run holds it), then one delete-then-poll step per resource kind, in
//! dependency order. A step that fails (or reaches its poll cap) records its error in its own place
//! and the next step runs anyway; `finish` releases the lease, then reports what each step removed
//! and kept, or fails the execution with `CleanupIncomplete` naming every step that did not finish.

use crate::asl::{Choice, Condition, Fail, FailReason, Pass, StateMachine, States, Succeed};
use crate::json::{Json, Obj};
use crate::machine_errors::MachineError;
use crate::poll::{CapReached, PollLoop, seed};
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
    /// `Delete<Title>`, `WaitFor<Title>`, `<Title>Timeout`.
    title: &'static str,
    /// The poll's Choice state.
    check: &'static str,
    reach: Reach,
    /// Polls before `<Title>Timeout`.
    cap: u32,
}

/// In dependency order: pods before the profile that runs them, the alarms right after the pods
/// (before the connections alarm reports them gone) and the Container Insights collector's role after
/// its pod, mount targets before their file system and security group, the key and the access entry
/// last.
const STEPS: [Step; 9] = [
    Step {
        action: "kubernetes",
        key: "kubernetes",
        title: "KubernetesObjects",
        check: "AreKubernetesObjectsGone",
        reach: Reach::Kubernetes,
        cap: POLL_CAP,
    },
    Step {
        action: "alarms",
        key: "alarms",
        title: "Alarms",
        check: "AreAlarmsGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
    Step {
        action: "insights-role",
        key: "insightsRole",
        title: "InsightsRole",
        check: "IsInsightsRoleGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
    Step {
        action: "fargate-profile",
        key: "fargateProfile",
        title: "FargateProfile",
        check: "IsFargateProfileGone",
        reach: Reach::Aws,
        cap: FARGATE_POLL_CAP,
    },
    Step {
        action: "mount-targets",
        key: "mountTargets",
        title: "MountTargets",
        check: "AreMountTargetsGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
    Step {
        action: "file-system",
        key: "fileSystem",
        title: "FileSystem",
        check: "IsFileSystemGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
    Step {
        action: "security-group",
        key: "securityGroup",
        title: "SecurityGroup",
        check: "IsSecurityGroupGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
    Step {
        action: "kms-key",
        key: "kmsKey",
        title: "KmsKey",
        check: "IsKmsKeyGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
    Step {
        action: "access-entry",
        key: "accessEntry",
        title: "AccessEntry",
        check: "IsAccessEntryGone",
        reach: Reach::Aws,
        cap: POLL_CAP,
    },
];

/// Polls per step before `CleanupTimeout`.
const POLL_CAP: u32 = 60;
/// Polls of the Fargate profile's deletion: queued behind other profile changes of the cluster
/// (30 s polls, at most ~5 min each) and then its own deletion (10 s polls).
const FARGATE_POLL_CAP: u32 = 100;
/// Polls of the lease (every 30 s) while a running execution holds it: an hour.
const LEASE_POLL_CAP: u32 = 120;
/// Longer than every poll cap and retry budget added up (see the `timeouts` test).
pub const TIMEOUT_SECONDS: u32 = 8 * 60 * 60;

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
    add_init(&mut states);
    add_lease(&mut states, &policy);
    for (index, step) in STEPS.iter().enumerate() {
        let next = STEPS.get(index + 1).map_or("Finish".to_string(), Step::delete);
        add_step(&mut states, &policy, step, next);
    }
    add_finish(&mut states, &policy);
    StateMachine {
        comment: "efs-fargate-workflow cleanup (epic06) for one cluster namespace: lease -> Kubernetes objects -> alarms -> Container Insights role -> Fargate profile -> mount targets -> file system -> security group -> KMS key -> access entry -> finish. Each action deletes only what the ownership ledger records (with runId, a rollback: only what that run created; with generation, nothing once a later run holds the namespace) and is called again until done; a failed action does not stop the next one.".into(),
        start_at: "Init".into(),
        timeout_seconds: TIMEOUT_SECONDS,
        states,
    }
}

impl Step {
    fn delete(&self) -> String {
        format!("Delete{}", self.title)
    }
}

/// Deletes what is ours and polls until it is gone; each call passes back what the earlier ones
/// removed, so the last output accounts for them all. A failure, or the poll cap, is recorded as
/// this step's result and the next step runs.
fn add_step(states: &mut States, policy: &RetryPolicy, step: &Step, next: String) {
    let key = step.key;
    let result_path = format!("$.{key}");
    let call = LambdaTask::invoke(
        Function::Cleanup,
        Obj::new()
            .set("action", step.action)
            .path("clusterName", "$.clusterName")
            .path("namespace", "$.namespace")
            .path("runId", "$.runId")
            .path("generation", "$.generation")
            .path("executionArn", "$$.Execution.Id")
            .path("removed", &format!("{result_path}.output.removed")),
    )
    .reaching(step.reach)
    .comment(&format!(
        "`{}`: deletes what is ours, reports what it removed and kept ($.{key}.output), until nothing is left.",
        step.action
    ))
    .catch_all(&result_path, &next);
    states.extend(
        PollLoop {
            task: (step.delete(), call),
            result_path: result_path.clone(),
            before_ready: vec![],
            check: step.check.into(),
            wait: format!("WaitFor{}", step.title),
            on_ready: next.clone(),
            cap: step.cap,
            cap_state: format!("{}Timeout", step.title),
            on_cap: CapReached::Record {
                error: MachineError::CleanupTimeout,
                comment: "Poll cap reached: record CleanupTimeout as this step's result and go on.".into(),
                cause: format!(
                    "States.Format('cleanup action {} not done after {{}} polls', {result_path}.attempt)",
                    step.action
                ),
                result_path,
                next,
            },
        }
        .states(policy),
    );
}

/// With `runId` and `generation` (a rollback) only what that run created is deleted, and nothing
/// once a later run holds the namespace; with `generation` alone (the TTL reaper) everything the
/// ledger records, unless a later run holds the namespace; with `runId` alone (a person undoing one
/// run) only what that run created; with neither (the CLI, the console) everything the ledger
/// records for the namespace. Absent fields become null, so no later path reads a missing one.
fn add_init(states: &mut States) {
    states.add(
        "Init",
        Choice {
            choices: vec![
                Condition::all([Condition::is_present("$.runId"), Condition::is_present("$.generation")])
                    .then("InitRollback"),
                Condition::is_present("$.generation").then("InitExpired"),
                Condition::is_present("$.runId").then("InitRun"),
            ],
            default: "InitNamespace".into(),
        },
    );
    // Every step's poll starts with no attempt and nothing removed yet.
    let base = || {
        let step_seed = || seed().set("output", Obj::new().set("removed", Json::List(vec![])));
        STEPS.iter().fold(
            Obj::new()
                .path("clusterName", "$.clusterName")
                .path("namespace", "$.namespace")
                .set("lease", seed()),
            |obj, step| obj.set(step.key, step_seed()),
        )
    };
    states.add(
        "InitRollback",
        Pass {
            comment: Some(
                "A rollback: only what run `runId` created (the reason stays in the execution input).".into(),
            ),
            parameters: base().path("runId", "$.runId").path("generation", "$.generation"),
            result_path: None,
            next: "AcquireLease".into(),
        },
    );
    states.add(
        "InitRun",
        Pass {
            comment: Some("Only what run `runId` created, whichever run holds the namespace now.".into()),
            parameters: base().path("runId", "$.runId").set("generation", Json::Null),
            result_path: None,
            next: "AcquireLease".into(),
        },
    );
    states.add(
        "InitExpired",
        Pass {
            comment: Some(
                "A TTL cleanup: everything the ledger records for the namespace, unless a later run holds it.".into(),
            ),
            parameters: base().set("runId", Json::Null).path("generation", "$.generation"),
            result_path: None,
            next: "AcquireLease".into(),
        },
    );
    states.add(
        "InitNamespace",
        Pass {
            comment: Some(
                "Everything the ledger records for the namespace (the reason stays in the execution input).".into(),
            ),
            parameters: base().set("runId", Json::Null).set("generation", Json::Null),
            result_path: None,
            next: "AcquireLease".into(),
        },
    );
}

/// One writer per namespace: waits while a running provisioning run (or cleanup) holds the lease.
fn add_lease(states: &mut States, policy: &RetryPolicy) {
    let call = LambdaTask::invoke(
        Function::Cleanup,
        Obj::new()
            .set("action", "lease")
            .path("clusterName", "$.clusterName")
            .path("namespace", "$.namespace")
            .path("executionArn", "$$.Execution.Id"),
    )
    .comment("Takes the namespace's lease, or reports the running execution that holds it ($.lease.detail).")
    .catch_all("$.error", "CleanupFailed");
    states.extend(
        PollLoop {
            task: ("AcquireLease".into(), call),
            result_path: "$.lease".into(),
            before_ready: vec![],
            check: "IsLeaseHeld".into(),
            wait: "WaitForLease".into(),
            on_ready: STEPS[0].delete(),
            cap: LEASE_POLL_CAP,
            cap_state: "LeaseTimeout".into(),
            on_cap: CapReached::Fail {
                error: MachineError::CleanupTimeout,
                what: "Another execution kept the namespace's lease; nothing was deleted. The lease",
            },
        }
        .states(policy),
    );
}

/// Releases the lease and reports, or fails with `CleanupIncomplete` listing what is left.
fn add_finish(states: &mut States, policy: &RetryPolicy) {
    let mut outcomes = Obj::new();
    for step in &STEPS {
        outcomes = outcomes.path(step.key, &format!("$.{}", step.key));
    }
    states.add(
        "Finish",
        LambdaTask::invoke(
            Function::Cleanup,
            Obj::new()
                .set("action", "finish")
                .path("clusterName", "$.clusterName")
                .path("namespace", "$.namespace")
                .path("runId", "$.runId")
                .path("generation", "$.generation")
                .path("executionArn", "$$.Execution.Id")
                .set("outcomes", outcomes),
        )
        .comment("Releases the lease; the summary of every step, or CleanupIncomplete naming each step that did not finish and why.")
        .result(Obj::new().path("actions", "$.Payload.actions"), "$.summary")
        .catch_all("$.error", "CleanupFailed")
        .build(policy, "Summarize"),
    );
    states.add(
        "Summarize",
        Pass {
            comment: Some("Per action: what it removed and what it kept, with the reason.".into()),
            parameters: Obj::new()
                .path("clusterName", "$.clusterName")
                .path("namespace", "$.namespace")
                .path("runId", "$.runId")
                .path("input", "$$.Execution.Input")
                .path("actions", "$.summary.actions"),
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
            comment: Some("Every action was attempted; start the cleanup again once the cause is fixed (every action is idempotent).".into()),
            reason: FailReason::RECORDED,
        },
    );
}
