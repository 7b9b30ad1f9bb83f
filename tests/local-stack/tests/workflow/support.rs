//! Shared set-up: a few local stacks at a time, inputs, and inventory checks.

use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, Execution, LocalStack, StackOptions};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Stacks running at once. Each has its own moto, gateway and fake cluster, so they share nothing
/// but the machine, and a run mostly waits (1 s polls, the fake cluster's scaled clock). Measured
/// on 2 cores: one stack at a time, these tests took 314 s for 16 s of CPU; three at a time
/// (`--test-threads=3`, as `scripts/test.sh` runs them), 123 s.
const STACKS_AT_ONCE: usize = 3;
static TURNS: Semaphore = Semaphore::const_new(STACKS_AT_ONCE);

pub struct Stack {
    pub stack: LocalStack,
    _turn: SemaphorePermit<'static>,
}

pub async fn stack(options: StackOptions) -> Stack {
    stack_at(0.05, options).await
}

/// A stack whose clock runs at `time_scale` (the fake cluster's, and the template's schedules).
pub async fn stack_at(time_scale: f64, options: StackOptions) -> Stack {
    let turn = TURNS.acquire().await.expect("the semaphore is never closed");
    let stack = LocalStack::start(StackOptions { time_scale, ..options })
        .await
        .expect("the local stack starts");
    Stack { stack, _turn: turn }
}

impl Stack {
    pub async fn provision(&self, name: &str, input: Value) -> Execution {
        self.stack
            .run(&self.stack.provision_arn, name, &input, TIMEOUT)
            .await
            .expect("the execution ends")
    }

    /// Starts a provisioning run without waiting for it; its ARN.
    pub async fn start(&self, name: &str, input: Value) -> String {
        self.stack
            .moto_clients
            .sfn
            .start_execution()
            .state_machine_arn(&self.stack.provision_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .expect("start")
            .execution_arn()
            .to_string()
    }

    /// Returns once the execution has entered `state`.
    pub async fn reached(&self, execution_arn: &str, state: &str) {
        let began = std::time::Instant::now();
        while self.entries(execution_arn, state).await == 0 {
            assert!(began.elapsed() < TIMEOUT, "{execution_arn} never entered {state}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn cleanup(&self, name: &str, namespace: &str) -> Execution {
        let input = serde_json::json!({"clusterName": CLUSTER, "namespace": namespace});
        let execution = self
            .stack
            .run(&self.stack.cleanup_arn, name, &input, TIMEOUT)
            .await
            .expect("cleanup ends");
        assert_eq!(execution.status, ExecutionStatus::Succeeded, "{execution:?}");
        execution
    }

    /// The workflow's AWS resources still in moto and its access entry in the gateway (the fake
    /// cluster is checked separately).
    pub async fn ours_left(&self) -> Vec<String> {
        let entry = self
            .stack
            .access_entries
            .resolve(CLUSTER, CLUSTER_ACCESS_ROLE)
            .map(|_| format!("access entry {CLUSTER_ACCESS_ROLE}"));
        let inventory = workflow_tests::inventory(&self.stack.moto_clients, CLUSTER).await;
        let resources = (inventory
            .fargate_profiles
            .iter()
            .map(|p| (&p.tags, format!("profile {}", p.name))))
        .chain(
            inventory
                .file_systems
                .iter()
                .map(|f| (&f.tags, format!("file system {}", f.id))),
        )
        .chain(
            inventory
                .security_groups
                .iter()
                .map(|g| (&g.tags, format!("security group {}", g.id))),
        )
        .chain(
            inventory
                .kms_keys
                .iter()
                .map(|k| (&k.tags, format!("kms key {}", k.id))),
        )
        .chain(
            inventory
                .roles
                .iter()
                .map(|r| (&r.tags, format!("IAM role {}", r.name))),
        );
        resources
            .filter(|(tags, _)| tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE))
            .map(|(_, resource)| resource)
            .chain(entry)
            .collect()
    }

    /// Starts provisioning `run` and stops it once it waits for its Fargate profile (the stack needs
    /// create latency for that); returns the execution's ARN once it has ended ABORTED.
    pub async fn provision_stopped_while_waiting(&self, run: &str) -> String {
        let sfn = &self.stack.moto_clients.sfn;
        let arn = sfn
            .start_execution()
            .state_machine_arn(&self.stack.provision_arn)
            .name(run)
            .input(serde_json::json!({"clusterName": CLUSTER, "deployPocApp": false}).to_string())
            .send()
            .await
            .expect("start")
            .execution_arn()
            .to_string();
        let began = std::time::Instant::now();
        while self.entries(&arn, "WaitForFargateProfile").await == 0 {
            assert!(
                began.elapsed() < TIMEOUT,
                "the run never waited for its Fargate profile"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        sfn.stop_execution().execution_arn(&arn).send().await.expect("stop");
        let stopped = self.stack.wait(&arn, TIMEOUT).await.expect("the run ends");
        assert_eq!(stopped.status, ExecutionStatus::Aborted, "{stopped:?}");
        arn
    }

    /// The seeded cluster's ARN, as moto has it.
    pub async fn cluster_arn(&self) -> String {
        self.stack
            .moto_clients
            .eks
            .describe_cluster()
            .name(CLUSTER)
            .send()
            .await
            .expect("the cluster")
            .cluster()
            .and_then(|c| c.arn())
            .expect("its ARN")
            .to_string()
    }

    /// An EKS client that goes through the gateway, as a person creating clusters would.
    pub fn eks(&self) -> aws_sdk_eks::Client {
        aws_sdk_eks::Client::new(&workflow_tests::sdk_config(self.stack.gateway_endpoint()))
    }

    /// The executions of `state_machine_arn` once there are `count` of them (oldest first); fails
    /// after `within`.
    pub async fn executions_when(
        &self,
        state_machine_arn: &str,
        count: usize,
        within: Duration,
    ) -> Vec<aws_sdk_sfn::types::ExecutionListItem> {
        let began = std::time::Instant::now();
        loop {
            let mut executions = self.stack.executions(state_machine_arn).await.expect("list executions");
            if executions.len() >= count || began.elapsed() > within {
                executions.sort_by_key(|e| (e.start_date().secs(), e.start_date().subsec_nanos()));
                assert_eq!(executions.len(), count, "executions after {within:?}: {executions:?}");
                return executions;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The input an execution was started with.
    pub async fn input_of(&self, execution_arn: &str) -> Value {
        let described = self
            .stack
            .moto_clients
            .sfn
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .expect("describe the execution");
        serde_json::from_str(described.input().unwrap_or("null")).expect("JSON input")
    }

    /// The states an execution entered, in order (one per state transition).
    pub async fn entered_states(&self, execution_arn: &str) -> Vec<String> {
        let history = self
            .stack
            .moto_clients
            .sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .max_results(1000)
            .send()
            .await
            .expect("history");
        history
            .events()
            .iter()
            .filter_map(|e| e.state_entered_event_details())
            .map(|d| d.name().to_string())
            .collect()
    }

    /// How often each state was entered in an execution.
    pub async fn entries(&self, execution_arn: &str, state: &str) -> usize {
        self.entered_states(execution_arn)
            .await
            .iter()
            .filter(|name| *name == state)
            .count()
    }

    /// A client of the fake cluster as its operator (cluster-admin through an access entry).
    pub fn kube_client(&self) -> kube::Client {
        self.kube_client_as(
            local_stack::kube_access::OPERATOR_ACCESS_KEY_ID,
            local_stack::kube_access::OPERATOR_SECRET_ACCESS_KEY,
        )
    }

    /// A client of the fake cluster signed with these credentials (the workflow's own are
    /// `workflow_tests::ACCESS_KEY_ID`).
    pub fn kube_client_as(&self, access_key_id: &str, secret_access_key: &str) -> kube::Client {
        let kube = &self.stack.kube;
        let credentials = aws_sdk_sts::config::Credentials::new(access_key_id, secret_access_key, None, None, "test");
        let token = efs_fargate_core::eks_token::presign(
            &credentials,
            workflow_tests::REGION,
            CLUSTER,
            std::time::SystemTime::now(),
        )
        .expect("a token");
        efs_fargate_core::k8s::client::client(CLUSTER, &kube.endpoint(), kube.ca_pem().as_bytes(), token)
            .expect("a kube client")
    }

    /// A namespace someone else created (no labels of ours).
    pub async fn foreign_namespace(&self, name: &str) {
        let namespace: k8s_openapi::api::core::v1::Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).expect("a namespace");
        kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(self.kube_client())
            .create(&kube::api::PostParams::default(), &namespace)
            .await
            .expect("a foreign namespace");
    }

    /// Stops the stack, after checking that IAM denied none of the functions' calls: the
    /// template's policies allowed everything the run did (see `local_stack::iam`).
    pub async fn shutdown(self) {
        let stats = self.stack.gateway_stats();
        self.stack.shutdown().await;
        assert_eq!(
            stats.iam_denied, 0,
            "IAM denied {} of the functions' calls: the gateway's warnings name each",
            stats.iam_denied
        );
    }

    /// Stops the stack of a test that provokes IAM denials.
    pub async fn shutdown_after_denials(self) {
        self.stack.shutdown().await;
    }
}

pub fn succeeded(execution: &Execution) {
    assert_eq!(
        execution.status,
        ExecutionStatus::Succeeded,
        "{:?}: {:?} {:?}",
        execution.status,
        execution.error,
        execution.cause
    );
}
