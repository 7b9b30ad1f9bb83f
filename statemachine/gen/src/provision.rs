//! The provisioning state machine (`statemachine/provision.asl.json`): prepare, then the Fargate
//! profile and EFS in parallel, the storage class, the optional PoC app and its validation; any
//! failure after prepare goes through the rollback function before failing with the original error.

use crate::asl::{
    Branch, Choice, Condition, Fail, FailReason, Parallel, Pass, State, StateMachine, States, Succeed, Wait,
};
use crate::json::Obj;
use crate::machine_errors::MachineError;
use crate::poll::{CapReached, Flag, PollLoop};
use crate::retry::RetryPolicy;
use crate::task::LambdaTask;
use efs_fargate_core::functions::Function;

/// Polls of `prepare` while the cluster is still CREATING.
const CLUSTER_POLL_CAP: u32 = 60;
/// Longer than every poll cap and retry budget added up (see the `timeouts` test). A run that
/// still times out is rolled back through EventBridge's status-change rule (template.yaml).
pub const TIMEOUT_SECONDS: u32 = 4 * 60 * 60;

pub fn provision() -> StateMachine {
    let policy = RetryPolicy::default();
    let mut states = States::default();
    states.add(
        "Init",
        Pass {
            comment: Some(
                "Drops the raw input from the state (prepare reads $$.Execution.Input) and seeds the poll counter."
                    .into(),
            ),
            parameters: Obj::new().set("prepare", Obj::new().set("attempt", 0)),
            result_path: None,
            next: "Prepare".into(),
        },
    );
    add_prepare(&mut states, &policy);
    states.add(
        "StartRun",
        Pass {
            comment: Some(
                "From here on the state is the run plus each step's result under its own key; seeds the validation poll counters."
                    .into(),
            ),
            parameters: Obj::new().path("run", "$.prepare.run").set(
                "validation",
                Obj::new()
                    .set("crossRead", Obj::new().set("attempt", 0))
                    .set("report", Obj::new().set("attempt", 0)),
            ),
            result_path: None,
            next: "CreateNamespace".into(),
        },
    );
    states.add(
        "CreateNamespace",
        rolls_back(
            LambdaTask::invoke(Function::FargateProfile, run_payload("namespace"))
                .comment("epic01 (Kubernetes): the namespace, created or found as ours (or adopted), before any AWS resource: a cluster that refuses the workflow, or a namespace someone else owns, fails the run having created nothing.")
                .result(output(), "$.kubernetesNamespace"),
        )
        .build(&policy, "ProvisionInParallel"),
    );
    states.add(
        "ProvisionInParallel",
        Parallel {
            comment: "epic01 and epic02 are independent. A failing branch (its poll-cap Fail included) fails this state with that error; the Catch records it and rolls back.".into(),
            branches: vec![fargate_branch(&policy), efs_branch(&policy)],
            result_selector: Obj::new().path("fargateProfile", "$[0]").path("efs", "$[1]"),
            result_path: "$.infra".into(),
            catch: crate::asl::Catcher::all("$.error", "Rollback"),
            next: "CreateStorageClass".into(),
        },
    );
    states.add(
        "CreateStorageClass",
        rolls_back(
            LambdaTask::invoke(Function::StorageClass, file_system_payload("create"))
                .comment("epic03: CSIDriver efs.csi.aws.com (only if missing) and StorageClass efs-sc.")
                .result(output(), "$.storageClass"),
        )
        .build(&policy, "ShouldDeployPocApp"),
    );
    states.add(
        "ShouldDeployPocApp",
        Choice {
            choices: vec![Condition::is_true("$.run.deployPocApp").then("CreatePocApp")],
            default: "EndRun".into(),
        },
    );
    add_poc_app_and_validation(&mut states, &policy);
    states.add(
        "EndRun",
        LambdaTask::invoke(Function::Rollback, run_end("succeeded").path("run", "$.run"))
        .comment("Stamps this run's expiry when it has a ttl (a re-run extends the namespace's life), then releases the namespace's lease. Should that fail, the run has still succeeded: a lease whose holder has ended is taken over by the next run.")
        .result(output(), "$.runEnd")
        .catch_all("$.runEndError", "WhichSummary")
        .build(&policy, "WhichSummary"),
    );
    states.add(
        "WhichSummary",
        Choice {
            choices: vec![Condition::is_true("$.run.deployPocApp").then("SummarizeWithPocApp")],
            default: "SummarizeWithoutPocApp".into(),
        },
    );
    states.add("SummarizeWithoutPocApp", summary(false));
    states.add("SummarizeWithPocApp", summary(true));
    states.add(
        "Provisioned",
        Succeed {
            comment: None,
            output_path: None,
        },
    );
    states.add(
        "Rollback",
        LambdaTask::invoke(Function::Rollback, run_end("failed").path("error", "$.error"))
        .comment("onFailure=rollback: starts the cleanup state machine for this run only (execution rollback-<runId>-<hash>) and hands it the namespace's lease; retain: keeps everything for inspection and releases the lease. Either way the execution then fails with the original error.")
        .result(output(), "$.rollback")
        .catch_all("$.rollbackError", "ProvisionFailed")
        .build(&policy, "ProvisionFailed"),
    );
    states.add(
        "ProvisionFailed",
        Fail {
            comment: Some("The original error and cause, after the rollback.".into()),
            reason: FailReason::RECORDED,
        },
    );
    StateMachine {
        comment: "efs-fargate-workflow provisioning: encrypted EFS storage for one EKS-on-Fargate namespace (prepare -> Fargate profile || EFS -> storage class -> PoC app -> validation). Every task invokes a Lambda function; a failure after prepare starts the cleanup state machine through the rollback function, then fails with the original error.".into(),
        start_at: "Init".into(),
        timeout_seconds: TIMEOUT_SECONDS,
        states,
    }
}

/// `prepare` polls itself: `waiting` while the cluster is CREATING, `skipped` for a cluster that
/// did not opt in, `ready` with the run.
fn add_prepare(states: &mut States, policy: &RetryPolicy) {
    states.add(
        "Prepare",
        LambdaTask::invoke(
            Function::Prepare,
            Obj::new()
                .path("runId", "$$.Execution.Name")
                .path("startedAt", "$$.Execution.StartTime")
                .path("input", "$$.Execution.Input")
                .path("executionArn", "$$.Execution.Id")
                .path("attempt", "$.prepare.attempt"),
        )
        .comment("Normalises and validates the input, waits for the cluster, discovers the network, refuses look-alikes under our names, takes the namespace's lease (RunInProgress when another run holds it), grants cluster access. ResultPath $ on purpose: until the run exists the state holds nothing else.")
        .result(Obj::new().path("prepare", "$.Payload"), "$")
        .catch_all("$.error", "PrepareFailed")
        .build(policy, "IsClusterReady"),
    );
    let status = "$.prepare.status";
    states.add(
        "IsClusterReady",
        Choice {
            choices: vec![
                Condition::string_equals(status, "ready").then("StartRun"),
                Condition::string_equals(status, "skipped").then("Skipped"),
                Condition::all([
                    Condition::string_equals(status, "waiting"),
                    Condition::at_least("$.prepare.attempt", CLUSTER_POLL_CAP),
                ])
                .then("ClusterNotReadyTimeout"),
                Condition::string_equals(status, "waiting").then("WaitForCluster"),
            ],
            default: "PrepareUnexpectedOutput".into(),
        },
    );
    states.add(
        "WaitForCluster",
        Wait {
            seconds_path: "$.prepare.nextPollSeconds".into(),
            next: "Prepare".into(),
        },
    );
    states.add(
        "Skipped",
        Succeed {
            comment: Some("Nothing to provision (e.g. a cluster that did not opt in): {status, reason}.".into()),
            output_path: Some("$.prepare".into()),
        },
    );
    states.add(
        "ClusterNotReadyTimeout",
        Fail {
            comment: None,
            reason: FailReason::Named {
                error: MachineError::ClusterNotReadyTimeout.as_str(),
                cause: format!(
                    "The EKS cluster did not become ACTIVE within {CLUSTER_POLL_CAP} polls; nothing was created."
                ),
            },
        },
    );
    states.add(
        "PrepareUnexpectedOutput",
        Fail {
            comment: None,
            reason: FailReason::Named {
                error: MachineError::UnexpectedOutput.as_str(),
                cause: "prepare returned a status other than ready, waiting or skipped.".into(),
            },
        },
    );
    states.add(
        "PrepareFailed",
        Fail {
            comment: Some("Failed before a run existed (e.g. InvalidInput): nothing to roll back.".into()),
            reason: FailReason::RECORDED,
        },
    );
}

/// Polls of the Fargate profile: queued behind other profile changes of the cluster (30 s polls,
/// at most ~5 min each) and then its own creation (15 s polls): room for eight queued changes.
const FARGATE_POLL_CAP: u32 = 100;

/// epic01. Its errors fail the branch, and the Parallel state's Catch rolls back.
fn fargate_branch(policy: &RetryPolicy) -> Branch {
    let mut states = States::default();
    states.add(
        "CreateFargateProfile",
        LambdaTask::invoke(Function::FargateProfile, fargate_payload("create").set("attempt", 0))
            .comment(
                "epic01: namespace and Fargate profile fp-<namespace>, found, or created under the cluster's profile lease (status QUEUED while another execution changes a profile of the cluster). Also seeds the poll counter.",
            )
            .result(output_and_poll_counter(), "$.fargate")
            .build(policy, "IsFargateProfileActive"),
    );
    states.add(
        "IsFargateProfileActive",
        Choice {
            choices: vec![Condition::string_equals("$.fargate.output.status", "ACTIVE").then("FargateProfileDone")],
            default: "FargateProfileStatus".into(),
        },
    );
    states.extend(
        PollLoop {
            status: (
                "FargateProfileStatus".into(),
                LambdaTask::invoke(Function::FargateProfile, fargate_payload("status")).comment(
                    "Converges (creates the profile once this execution gets the cluster's profile lease) and polls.",
                ),
            ),
            result_path: "$.fargate.poll".into(),
            flag: Flag::Ready,
            keep: detail(),
            check: "IsFargateProfileReady".into(),
            wait: "WaitForFargateProfile".into(),
            on_ready: "DescribeFargateProfile".into(),
            cap: FARGATE_POLL_CAP,
            cap_state: "FargateProfileTimeout".into(),
            on_cap: CapReached::Fail {
                error: MachineError::FargateProfileTimeout,
                what: "The Fargate profile did not become ACTIVE",
            },
        }
        .states(policy),
    );
    states.add(
        "DescribeFargateProfile",
        LambdaTask::invoke(Function::FargateProfile, fargate_payload("create").set("attempt", 0))
            .comment("`create` again (idempotent: creates nothing now) to record the ACTIVE profile and its ARN.")
            .result(output(), "$.fargate")
            .build(policy, "FargateProfileDone"),
    );
    states.add("FargateProfileDone", branch_output("$.fargate.output"));
    Branch {
        start_at: "CreateFargateProfile".into(),
        states,
    }
}

/// epic02. Its errors fail the branch, and the Parallel state's Catch rolls back.
fn efs_branch(policy: &RetryPolicy) -> Branch {
    let mut states = States::default();
    states.add(
        "CreateEfs",
        LambdaTask::invoke(Function::Efs, run_payload("create").set("attempt", 0))
            .comment("epic02: KMS key (only with kmsKeyAlias), encrypted file system, NFS security group, mount targets; found or created.")
            .result(output_and_poll_counter(), "$.efs")
            .build(policy, "IsEfsReady"),
    );
    states.add(
        "IsEfsReady",
        Choice {
            choices: vec![Condition::is_true("$.efs.output.ready").then("EfsDone")],
            default: "EfsStatus".into(),
        },
    );
    states.extend(
        PollLoop {
            status: (
                "EfsStatus".into(),
                LambdaTask::invoke(Function::Efs, run_payload("status"))
                    .comment("Converges (creates the mount targets once the file system is available) and polls."),
            ),
            result_path: "$.efs.poll".into(),
            flag: Flag::Ready,
            keep: detail(),
            check: "AreMountTargetsAvailable".into(),
            wait: "WaitForMountTargets".into(),
            on_ready: "DescribeEfs".into(),
            cap: 30,
            cap_state: "MountTargetsTimeout".into(),
            on_cap: CapReached::Fail {
                error: MachineError::MountTargetsTimeout,
                what: "The EFS file system or its mount targets did not become available",
            },
        }
        .states(policy),
    );
    states.add(
        "DescribeEfs",
        LambdaTask::invoke(Function::Efs, run_payload("create").set("attempt", 0))
            .comment(
                "`create` again (idempotent: creates nothing now) to record the final mount target ids and states.",
            )
            .result(output(), "$.efs")
            .build(policy, "EfsDone"),
    );
    states.add("EfsDone", branch_output("$.efs.output"));
    Branch {
        start_at: "CreateEfs".into(),
        states,
    }
}

/// epic04 and epic05, only with `deployPocApp`.
fn add_poc_app_and_validation(states: &mut States, policy: &RetryPolicy) {
    states.add(
        "CreatePocApp",
        rolls_back(
            LambdaTask::invoke(Function::PocApp, file_system_payload("create").set("attempt", 0))
                .comment("epic04: static PV, PVC, pods poc-app1/poc-app2. Also seeds the poll counter.")
                .result(output_and_poll_counter(), "$.app"),
        )
        .build(policy, "PocAppStatus"),
    );
    states.extend(
        PollLoop {
            status: (
                "PocAppStatus".into(),
                rolls_back(LambdaTask::invoke(Function::PocApp, file_system_payload("status"))),
            ),
            result_path: "$.app.poll".into(),
            flag: Flag::Ready,
            keep: detail(),
            check: "ArePodsRunning".into(),
            wait: "WaitForPods".into(),
            on_ready: "ValidateCrossRead".into(),
            cap: 40,
            cap_state: "PodsNotRunningTimeout".into(),
            on_cap: record_and_roll_back(
                MachineError::PodsNotRunningTimeout,
                "States.Format('PoC pods not Running after {} polls: {}', $.app.poll.attempt, $.app.poll.detail)",
            ),
        }
        .states(policy),
    );
    states.extend(
        PollLoop {
            status: (
                "ValidateCrossRead".into(),
                rolls_back(
                    LambdaTask::invoke(Function::Validate, file_system_payload("cross-read"))
                        .comment("epic05: each workload reads the other's file."),
                ),
            ),
            result_path: "$.validation.crossRead".into(),
            flag: Flag::Ready,
            keep: output(),
            check: "IsCrossReadDone".into(),
            wait: "WaitForCrossRead".into(),
            on_ready: "ValidatePersistence".into(),
            cap: 30,
            cap_state: "CrossReadTimeout".into(),
            on_cap: record_and_roll_back(
                MachineError::ValidationTimeout,
                "States.Format('cross-read validation not done after {} polls', $.validation.crossRead.attempt)",
            ),
        }
        .states(policy),
    );
    states.add(
        "ValidatePersistence",
        rolls_back(
            LambdaTask::invoke(Function::Validate, file_system_payload("persistence").set("attempt", 0))
                .comment("epic05: deletes the app objects (the PV is Retain) and starts a reader on a fresh PV/PVC.")
                .result(output(), "$.validation.persistence"),
        )
        .build(policy, "ValidateReport"),
    );
    states.extend(
        PollLoop {
            status: (
                "ValidateReport".into(),
                rolls_back(
                    LambdaTask::invoke(Function::Validate, file_system_payload("report"))
                        .comment("epic05: the fresh reader lists /data; the final output carries the report."),
                ),
            ),
            result_path: "$.validation.report".into(),
            flag: Flag::Ready,
            keep: output(),
            check: "IsReportReady".into(),
            wait: "WaitForReport".into(),
            on_ready: "EndRun".into(),
            cap: 30,
            cap_state: "ReportTimeout".into(),
            on_cap: record_and_roll_back(
                MachineError::ValidationTimeout,
                "States.Format('validation report not ready after {} polls', $.validation.report.attempt)",
            ),
        }
        .states(policy),
    );
}

/// The execution output: every resource id, and with the PoC app its objects and the validation.
fn summary(with_poc_app: bool) -> Pass {
    let resources = Obj::new()
        .path("fargateProfileName", "$.infra.fargateProfile.profileName")
        .path("fargateProfileArn", "$.infra.fargateProfile.profileArn")
        .path("fileSystemId", "$.infra.efs.fileSystemId")
        .path("fileSystemArn", "$.infra.efs.fileSystemArn")
        .path("mountTargetIds", "$.infra.efs.mountTargets[*].mountTargetId")
        .path("securityGroupId", "$.infra.efs.securityGroupId");
    let mut parameters = Obj::new()
        .set("status", "provisioned")
        .path("runId", "$$.Execution.Name")
        .path("clusterName", "$.run.clusterName")
        .path("namespace", "$.run.namespace")
        .set("pocAppDeployed", with_poc_app)
        .set("resources", resources)
        .path("run", "$.run")
        .path("fargateProfile", "$.infra.fargateProfile")
        .path("efs", "$.infra.efs")
        .path("storageClass", "$.storageClass.output");
    let comment = if with_poc_app {
        parameters = parameters.path("pocApp", "$.app.output").set(
            "validation",
            Obj::new()
                .path("crossRead", "$.validation.crossRead.output")
                .path("persistence", "$.validation.persistence.output")
                .path("report", "$.validation.report.output"),
        );
        "The execution output: every resource id (efs.kmsKey when a customer key is used; the storage class and PV/PVC names in storageClass/pocApp) and the validation report."
    } else {
        "The execution output: every resource id (efs.kmsKey when a customer key is used; the storage class and PV/PVC names in storageClass)."
    };
    Pass {
        comment: Some(comment.into()),
        parameters,
        result_path: None,
        next: "Provisioned".into(),
    }
}

/// After prepare every failure is recorded at `$.error` and rolled back.
fn rolls_back(task: LambdaTask) -> LambdaTask {
    task.catch_all("$.error", "Rollback")
}

fn record_and_roll_back(error: MachineError, cause: &str) -> CapReached {
    CapReached::Record {
        error,
        comment: format!(
            "Poll cap reached: record {} as the error, then roll back and fail with it.",
            error.as_str()
        ),
        cause: cause.into(),
        result_path: "$.error".into(),
        next: "Rollback".into(),
    }
}

/// The `rollback` function's event: how the run ended, and what it needs to release or hand over
/// the namespace's lease.
fn run_end(outcome: &str) -> Obj {
    Obj::new()
        .path("runId", "$$.Execution.Name")
        .path("clusterName", "$.run.clusterName")
        .path("namespace", "$.run.namespace")
        .path("onFailure", "$.run.onFailure")
        .path("executionArn", "$$.Execution.Id")
        .set("outcome", outcome)
}

fn run_payload(action: &str) -> Obj {
    Obj::new().set("action", action).path("run", "$.run")
}

/// The Fargate profile's actions take the cluster's profile lease as this execution.
fn fargate_payload(action: &str) -> Obj {
    run_payload(action).path("executionArn", "$$.Execution.Id")
}

fn file_system_payload(action: &str) -> Obj {
    run_payload(action).path("fileSystemId", "$.infra.efs.fileSystemId")
}

fn output() -> Obj {
    Obj::new().path("output", "$.Payload")
}

/// The first call's output, and the counter its status polls start from.
fn output_and_poll_counter() -> Obj {
    output().set("poll", Obj::new().set("attempt", 0))
}

fn detail() -> Obj {
    Obj::new().path("detail", "$.Payload.detail")
}

fn branch_output(path: &str) -> State {
    Succeed {
        comment: None,
        output_path: Some(path.into()),
    }
    .into()
}
