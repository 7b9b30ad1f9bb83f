//! The provisioning state machine (`statemachine/provision.asl.json`): prepare, then the Fargate
//! profile and EFS in parallel, the storage class, the optional PoC app and its validation; any
//! failure after prepare goes through the rollback function before failing with the original error.

mod infra;
mod poc_app;

use crate::asl::{Condition, Fail, FailReason, Parallel, Pass, StateMachine, States, Succeed};
use crate::json::Obj;
use crate::machine_errors::MachineError;
use crate::poll::{CapReached, PollLoop, poll_selector, seed};
use crate::retry::RetryPolicy;
use crate::task::LambdaTask;
use efs_fargate_core::error::ErrorName;
use efs_fargate_core::functions::Function;

/// Bootstrap grants per run: more means other runs keep revoking them before the RBAC is installed.
const BOOTSTRAP_GRANTS: u32 = 3;
/// Polls of `prepare` while the cluster is still CREATING.
const CLUSTER_POLL_CAP: u32 = 60;
/// Longer than every poll cap and retry budget added up (see the `timeouts` test). A run that
/// still times out is rolled back through EventBridge's status-change rule (template.yaml). The
/// reaper revokes a bootstrap grant older than this, so it is defined with the run.
pub const TIMEOUT_SECONDS: u32 = efs_fargate_core::run::MAX_RUN_SECONDS as u32;

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
            parameters: Obj::new().set("prepare", seed()),
            result_path: None,
            next: "Prepare".into(),
        },
    );
    add_prepare(&mut states, &policy);
    states.add(
        "StartRun",
        Pass {
            comment: Some(
                "From here on the state is the run plus each step's poll under its own key; seeds every loop's poll counter."
                    .into(),
            ),
            parameters: Obj::new()
                .path("run", "$.prepare.output.run")
                .set("fargate", seed())
                .set("efs", seed())
                .set("app", seed())
                .set(
                    "validation",
                    Obj::new().set("crossRead", seed()).set("report", seed()),
                )
                .set("bootstrap", seed().set("output", Obj::new().set("granted", false))),
            result_path: None,
            next: "CreateNamespace".into(),
        },
    );
    states.add(
        "CreateNamespace",
        rolls_back(
            LambdaTask::invoke(Function::FargateProfile, run_payload("namespace"))
                .comment("epic01 (Kubernetes): the workflow's RBAC (output.rbac: current, installed, or bootstrapRequired, and then nothing else is done), then the namespace, created or found as ours (or adopted), before any AWS resource: a cluster that refuses the workflow, or a namespace someone else owns, fails the run having created nothing.")
                .result(poll_selector(), "$.kubernetesNamespace"),
        )
        .build(&policy, "IsClusterAccessReady"),
    );
    add_bootstrap(&mut states, &policy);
    states.add(
        "ProvisionInParallel",
        Parallel {
            comment: "epic01 and epic02 are independent. A failing branch (its poll-cap Fail included) fails this state with that error; the Catch records it and rolls back.".into(),
            branches: vec![infra::fargate_branch(&policy), infra::efs_branch(&policy)],
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
                .result(poll_selector(), "$.storageClass"),
        )
        .build(&policy, "ShouldDeployPocApp"),
    );
    states.add(
        "ShouldDeployPocApp",
        crate::asl::Choice {
            choices: vec![Condition::is_true("$.run.deployPocApp").then("PocApp")],
            default: END_RUN_WITHOUT_POC_APP.into(),
        },
    );
    poc_app::add_poc_app_and_validation(&mut states, &policy);
    add_end(&mut states, &policy);
    StateMachine {
        comment: "efs-fargate-workflow provisioning: encrypted EFS storage for one EKS-on-Fargate namespace (prepare -> Fargate profile || EFS -> storage class -> PoC app -> validation). Every task invokes a Lambda function; a failure after prepare starts the cleanup state machine through the rollback function, then fails with the original error.".into(),
        start_at: "Init".into(),
        timeout_seconds: TIMEOUT_SECONDS,
        states,
    }
}

/// `prepare` polls itself: pending while the cluster is CREATING; ready with the run, with
/// `status: skipped` for an input that asks for nothing, or with `status: planned` for a dry run.
fn add_prepare(states: &mut States, policy: &RetryPolicy) {
    let call = LambdaTask::invoke(
        Function::Prepare,
        Obj::new()
            .path("runId", "$$.Execution.Name")
            .path("startedAt", "$$.Execution.StartTime")
            .path("input", "$$.Execution.Input")
            .path("executionArn", "$$.Execution.Id"),
    )
    .comment("Normalises and validates the input, waits for the cluster, runs the doctor (network, DNS, free addresses, authentication mode, endpoint, pod execution role, look-alikes under our names), then either returns the plan of a dry run or takes the namespace's lease (RunInProgress when another run holds it) and grants cluster access.")
    .catch_all("$.error", "PrepareFailed");
    states.extend(
        PollLoop {
            task: ("Prepare".into(), call),
            result_path: "$.prepare".into(),
            before_ready: vec![
                Condition::string_equals("$.prepare.output.status", "skipped").then("Skipped"),
                Condition::string_equals("$.prepare.output.status", "planned").then("PlanKubernetes"),
            ],
            check: "IsClusterReady".into(),
            wait: "WaitForCluster".into(),
            on_ready: "StartRun".into(),
            cap: CLUSTER_POLL_CAP,
            cap_state: "ClusterNotReadyTimeout".into(),
            on_cap: CapReached::Fail {
                error: MachineError::ClusterNotReadyTimeout,
                what: "Nothing was created: the EKS cluster did not become ACTIVE",
            },
        }
        .states(policy),
    );
    states.add(
        "Skipped",
        Succeed {
            comment: Some("Nothing to provision (e.g. a cluster that did not opt in): {status, reason}.".into()),
            output_path: Some("$.prepare.output".into()),
        },
    );
    states.add(
        "PlanKubernetes",
        LambdaTask::invoke(
            Function::StorageClass,
            Obj::new().set("action", "plan").path("plan", "$.prepare.output.plan"),
        )
        .comment("A dry run: reads the plan's Kubernetes objects as the workflow's cluster role (prepare's cannot) and decides each one; changes nothing.")
        .result(poll_selector(), "$.kubernetesPlan")
        .catch_all("$.error", "PrepareFailed")
        .build(policy, "PlanOutput"),
    );
    states.add(
        "PlanOutput",
        Pass {
            comment: Some("The dry run's output: the doctor's report and the whole plan.".into()),
            parameters: Obj::new()
                .set("status", "planned")
                .path("doctor", "$.prepare.output.doctor")
                .path("plan", "$.kubernetesPlan.output"),
            result_path: None,
            next: "Planned".into(),
        },
    );
    states.add(
        "Planned",
        Succeed {
            comment: Some(
                "A dry run (dryRun: true): nothing was changed; the output is {status, doctor, plan}.".into(),
            ),
            output_path: None,
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

/// Grants a run cluster-admin only while the workflow's RBAC is missing or outdated, and revokes
/// it as soon as the RBAC is installed (or whenever a grant is found, e.g. left by a stopped run).
fn add_bootstrap(states: &mut States, policy: &RetryPolicy) {
    let rbac = "$.kubernetesNamespace.output.rbac";
    states.add(
        "IsClusterAccessReady",
        crate::asl::Choice {
            choices: vec![
                Condition::all([
                    Condition::string_equals(rbac, "bootstrapRequired"),
                    Condition::at_least("$.bootstrap.attempt", BOOTSTRAP_GRANTS),
                ])
                .then("BootstrapFailed"),
                Condition::string_equals(rbac, "bootstrapRequired").then("GrantBootstrapAccess"),
                Condition::string_equals(rbac, "installed").then("RevokeBootstrapAccess"),
                Condition::is_true("$.kubernetesNamespace.output.bootstrapGranted").then("RevokeBootstrapAccess"),
            ],
            default: "ProvisionInParallel".into(),
        },
    );
    states.add(
        "GrantBootstrapAccess",
        rolls_back(
            LambdaTask::invoke(
                Function::Prepare,
                run_payload("grant-bootstrap")
                    .path("attempt", "$.bootstrap.attempt")
                    .path("executionArn", "$$.Execution.Id"),
            )
            .comment("Associates AmazonEKSClusterAdminPolicy with the workflow's own access entry, for the next step only: it installs the workflow's RBAC (README: least privilege).")
            .result(poll_selector(), "$.bootstrap"),
        )
        .build(policy, "CreateNamespace"),
    );
    states.add(
        "RevokeBootstrapAccess",
        rolls_back(
            LambdaTask::invoke(Function::Prepare, run_payload("revoke-bootstrap"))
                .comment("Disassociates the bootstrap grant: from here on the workflow has only its own RBAC.")
                .result(poll_selector(), "$.bootstrap"),
        )
        .build(policy, "ProvisionInParallel"),
    );
    states.add(
        "BootstrapFailed",
        Pass {
            comment: Some("The RBAC was still missing after every grant: record the error, roll back and fail with it.".into()),
            parameters: Obj::new()
                .set("Error", ErrorName::ClusterAccessNotGranted.as_str())
                .set("Cause", format!("The workflow's RBAC could not be installed after {BOOTSTRAP_GRANTS} bootstrap grants (another run revoking them each time?); start the run again.")),
            result_path: Some("$.error".into()),
            next: "Rollback".into(),
        },
    );
}

/// The run's end, with or without the PoC app, reached from the last step of each.
pub(super) const END_RUN_WITH_POC_APP: &str = "EndRunWithPocApp";
const END_RUN_WITHOUT_POC_APP: &str = "EndRun";

/// The run's end: stamp its expiry and release the lease, with the execution output; or roll back
/// and fail.
fn add_end(states: &mut States, policy: &RetryPolicy) {
    for (with_poc_app, end, summarize) in [
        (false, END_RUN_WITHOUT_POC_APP, "SummarizeWithoutPocApp"),
        (true, END_RUN_WITH_POC_APP, "SummarizeWithPocApp"),
    ] {
        // The function hands the execution output back (`executionOutput`), so a run that ends
        // well needs no Pass state to compose it; the Pass is there for when the function fails.
        let payload = run_end("succeeded")
            .path("run", "$.run")
            .set("executionOutput", summary_parameters(with_poc_app));
        states.add(
            end,
            LambdaTask::invoke(Function::Rollback, payload)
            .comment("Stamps this run's expiry when it has a ttl (a re-run extends the namespace's life), then releases the namespace's lease, and ends the run with the execution output it was handed. Should that fail, the run has still succeeded: a lease whose holder has ended is taken over by the next run.")
            .result(output(), "$.runEnd")
            .output("$.runEnd.output.executionOutput")
            .catch_all("$.runEndError", summarize)
            .build(policy, "Provisioned"),
        );
        states.add(summarize, summary(with_poc_app));
    }
    states.add(
        "Provisioned",
        Succeed {
            comment: None,
            output_path: None,
        },
    );
    states.add(
        "Rollback",
        LambdaTask::invoke(
            Function::Rollback,
            run_end("failed").path("error", "$.error"),
        )
        .comment("onFailure=rollback: revokes a bootstrap grant the ledger records for this run, starts the cleanup state machine for this run and generation only (execution rollback-<runId>-<hash>) and hands it the namespace's lease; retain: keeps everything for inspection and releases the lease. Either way the execution then fails with the original error.")
        .result(output(), "$.rollback")
        .catch_all("$.rollbackError", "ProvisionFailed")
        .build(policy, "ProvisionFailed"),
    );
    states.add(
        "ProvisionFailed",
        Fail {
            comment: Some("The original error and cause, after the rollback.".into()),
            reason: FailReason::RECORDED,
        },
    );
}

/// The execution output: every resource id, and with the PoC app its objects and the validation.
/// The execution output of a run that ended well.
fn summary_parameters(with_poc_app: bool) -> Obj {
    let resources = Obj::new()
        .path("fargateProfileName", "$.infra.fargateProfile.profileName")
        .path("fargateProfileArn", "$.infra.fargateProfile.profileArn")
        .path("fileSystemId", "$.infra.efs.fileSystemId")
        .path("fileSystemArn", "$.infra.efs.fileSystemArn")
        .path("accessPointId", "$.infra.efs.accessPoint.accessPointId")
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
    if with_poc_app {
        parameters = parameters.path("pocApp", "$.app.output").set(
            "validation",
            Obj::new()
                .path("crossRead", "$.validation.crossRead.output.crossRead")
                .path("persistence", "$.validation.persistence.detail")
                .path("report", "$.validation.report.output.report"),
        );
    }
    parameters
}

/// The execution output composed in the state machine, when the end task failed.
fn summary(with_poc_app: bool) -> Pass {
    let comment = if with_poc_app {
        "The execution output: every resource id (efs.kmsKey when a customer key is used; the storage class and PV/PVC names in storageClass/pocApp) and the validation report."
    } else {
        "The execution output: every resource id (efs.kmsKey when a customer key is used; the storage class and PV/PVC names in storageClass)."
    };
    Pass {
        comment: Some(comment.into()),
        parameters: summary_parameters(with_poc_app),
        result_path: None,
        next: "Provisioned".into(),
    }
}

/// After prepare every failure is recorded at `$.error` and rolled back.
fn rolls_back(task: LambdaTask) -> LambdaTask {
    task.catch_all("$.error", "Rollback")
}

/// A poll cap after prepare: the named error is recorded, rolled back, and the machine fails with it.
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

fn file_system_payload(action: &str) -> Obj {
    run_payload(action)
        .path("fileSystemId", "$.infra.efs.fileSystemId")
        .path("accessPointId", "$.infra.efs.accessPoint.accessPointId")
}

/// The rollback function's whole answer (it is not a step: no poll shape).
fn output() -> Obj {
    Obj::new().path("output", "$.Payload")
}
