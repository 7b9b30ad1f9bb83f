//! Workflow-level helpers shared by the integration tests: the steps run in the order the state
//! machine runs them, against the moto server of `workflow_tests::moto()`.

#![allow(dead_code)] // each test binary uses its own subset

use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::run::{Poll, Run, StepEvent};
use efs_fargate_core::settings::{AccessEntryMode, KubeApiOverride, Settings};
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupEvent, CleanupProgress, cleanup};
use efs_fargate_core::steps::efs::{self, EfsOutput};
use efs_fargate_core::steps::fargate::{self, ProfileOutput};
use efs_fargate_core::steps::k8s::poc_app::{self, PocAppAction, PocAppStatus};
use efs_fargate_core::steps::k8s::storage::{self, StorageAction, StorageOutput};
use efs_fargate_core::steps::k8s::validate::{self, ValidateAction, ValidateOutput};
use efs_fargate_core::steps::k8s::{Kube, KubeStepEvent, namespace};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use efs_fargate_core::{Result, WorkflowError};
use fake_kube_apiserver::FakeKube;
use serde_json::Value;
use std::time::Duration;

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
        execution_arn: None,
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
        execution_arn: None,
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

/// The AWS cleanup actions, in the state machine's order (everything after `kubernetes`).
pub const CLEANUP_ORDER: &[CleanupAction] = CleanupAction::ALL.split_at(1).1;

/// Every cleanup action in order, each called again until done (as the cleanup state machine does).
pub async fn clean_up(clients: &AwsClients, cluster: &str, namespace: &str) -> Vec<(CleanupAction, CleanupProgress)> {
    let mut log = Vec::new();
    for &action in CLEANUP_ORDER {
        let mut attempt = 0;
        loop {
            let event = CleanupEvent {
                action,
                cluster_name: cluster.into(),
                namespace: namespace.into(),
                run_id: None,
                execution_arn: None,
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

/// A fake API server for `cluster` that accepts tokens signed with moto's credentials and runs a
/// namespace's pods only once moto has an ACTIVE Fargate profile for it; time runs 20x faster.
pub async fn fake_kube(clients: &AwsClients, cluster: &str) -> FakeKube {
    start_fake_kube(fake_kube_config(clients, cluster)).await
}

pub fn fake_kube_config(clients: &AwsClients, cluster: &str) -> fake_kube_apiserver::Config {
    fake_kube_apiserver::Config {
        credentials: vec![(
            workflow_tests::ACCESS_KEY_ID.into(),
            workflow_tests::SECRET_ACCESS_KEY.into(),
        )],
        eks: Some(clients.eks.clone()),
        pod_start_delay: Duration::from_secs(10),
        time_scale: 0.05,
        ..fake_kube_apiserver::Config::new(cluster, workflow_tests::REGION)
    }
}

pub async fn start_fake_kube(config: fake_kube_apiserver::Config) -> FakeKube {
    FakeKube::start(config).await.expect("the fake API server starts")
}

/// The local stack's settings, with the fake API server's endpoint and CA.
pub fn kube_settings(fake: &FakeKube) -> Settings {
    Settings {
        kube_api_override: Some(KubeApiOverride {
            endpoint: fake.endpoint(),
            ca_pem: fake.ca_pem().to_string(),
        }),
        ..settings()
    }
}

pub async fn kube(clients: &AwsClients, settings: &Settings, cluster: &str) -> Kube {
    Kube::connect(clients, settings, cluster)
        .await
        .expect("connect to the fake API server")
}

pub fn kube_step<A>(action: A, run: &Run, file_system_id: &str, attempt: u32) -> KubeStepEvent<A> {
    KubeStepEvent {
        action,
        run: run.clone(),
        file_system_id: file_system_id.into(),
        attempt,
    }
}

/// Calls a poll action until it is ready, passing the last `attempt` as the state machine does;
/// polls every 100 ms (the fake's time runs fast) and gives up after `max` attempts.
pub async fn until_ready<T>(
    what: &str,
    max: u32,
    mut step: impl AsyncFnMut(u32) -> Result<T>,
    poll: fn(&T) -> &Poll,
) -> T {
    let mut attempt = 0;
    loop {
        let output = step(attempt).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let state = poll(&output);
        if state.ready {
            return output;
        }
        assert!(
            state.attempt < max,
            "{what} not ready after {max} polls: {}",
            state.detail
        );
        attempt = state.attempt;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn storage_created(clients: &AwsClients, settings: &Settings, run: &Run, fs: &str) -> StorageOutput {
    storage::handle(clients, settings, kube_step(StorageAction::Create, run, fs, 0))
        .await
        .expect("storage-class create")
}

pub async fn poc_app_running(clients: &AwsClients, settings: &Settings, run: &Run, fs: &str) -> PocAppStatus {
    until_ready(
        "poc-app",
        200,
        async |attempt| {
            let action = if attempt == 0 {
                PocAppAction::Create
            } else {
                PocAppAction::Status
            };
            poc_app::handle(clients, settings, kube_step(action, run, fs, attempt)).await
        },
        |s| &s.poll,
    )
    .await
}

pub async fn validated(
    clients: &AwsClients,
    settings: &Settings,
    run: &Run,
    fs: &str,
    action: ValidateAction,
) -> ValidateOutput {
    until_ready(
        &format!("validate {action:?}"),
        200,
        async |attempt| validate::handle(clients, settings, kube_step(action, run, fs, attempt)).await,
        |o| &o.poll,
    )
    .await
}

/// Everything up to a running PoC app in `namespace`: prepare, the Fargate profile and EFS (moto),
/// the namespace, the storage objects and the app. Returns the run and its file system id.
pub async fn app_running(clients: &AwsClients, settings: &Settings, namespace: &str) -> (Run, String) {
    app_running_for(
        clients,
        settings,
        serde_json::json!({"clusterName": CLUSTER, "namespace": namespace}),
    )
    .await
}

/// [`app_running`] for any execution input (e.g. one that adopts an existing namespace).
pub async fn app_running_for(clients: &AwsClients, settings: &Settings, input: Value) -> (Run, String) {
    let run = prepared(clients, input).await;
    let kube = kube(clients, settings, CLUSTER).await;
    namespace::ensure_namespace(&kube, &run).await.expect("namespace");
    let (_, storage) = provision(clients, &run).await;
    storage_created(clients, settings, &run, &storage.file_system_id).await;
    poc_app_running(clients, settings, &run, &storage.file_system_id).await;
    (run, storage.file_system_id)
}

/// The `kubernetes` cleanup action, called until done.
pub async fn clean_up_kubernetes(
    clients: &AwsClients,
    settings: &Settings,
    cluster: &str,
    namespace: &str,
) -> Vec<CleanupProgress> {
    let mut log = Vec::new();
    let mut attempt = 0;
    loop {
        let event = CleanupEvent {
            action: CleanupAction::Kubernetes,
            cluster_name: cluster.into(),
            namespace: namespace.into(),
            run_id: None,
            execution_arn: None,
            attempt,
        };
        let progress = cleanup(clients, settings, event).await.expect("kubernetes cleanup");
        attempt = progress.attempt;
        let finished = progress.done;
        log.push(progress);
        if finished {
            return log;
        }
        assert!(attempt < 100, "kubernetes cleanup never finished: {log:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A cleanup state machine that only records its executions (moto runs none without its engine):
/// where the reaper and rollback tests look for the cleanups they started.
pub async fn stand_in_cleanup_state_machine(clients: &AwsClients) -> String {
    let created = clients
        .sfn
        .create_state_machine()
        .name("cleanup")
        .definition(r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#)
        .role_arn("arn:aws:iam::123456789012:role/states")
        .send()
        .await
        .expect("sfn create_state_machine");
    created.state_machine_arn().to_string()
}

/// The one execution of `state_machine` (fails on none or several): its name and input.
pub async fn only_execution(clients: &AwsClients, state_machine: &str) -> (String, Value) {
    let listed = clients
        .sfn
        .list_executions()
        .state_machine_arn(state_machine)
        .send()
        .await
        .expect("sfn list_executions");
    let [execution] = listed.executions() else {
        panic!(
            "expected exactly one execution of {state_machine}: {:?}",
            listed.executions()
        );
    };
    let described = clients
        .sfn
        .describe_execution()
        .execution_arn(execution.execution_arn())
        .send()
        .await
        .expect("sfn describe_execution");
    let input = serde_json::from_str(described.input().expect("an input")).expect("JSON input");
    (execution.name().to_string(), input)
}

/// A Fargate profile under the name the workflow uses for `NAMESPACE`, without our tags: someone
/// else's.
pub async fn foreign_profile(clients: &AwsClients, pod_role: &str, subnets: Vec<String>) {
    clients
        .eks
        .create_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(format!("fp-{NAMESPACE}"))
        .pod_execution_role_arn(pod_role)
        .set_subnets(Some(subnets).filter(|s: &Vec<String>| !s.is_empty()))
        .selectors(
            aws_sdk_eks::types::FargateProfileSelector::builder()
                .namespace(NAMESPACE)
                .build(),
        )
        .send()
        .await
        .expect("eks create_fargate_profile");
}
