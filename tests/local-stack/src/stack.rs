//! The whole local stack in one process (DESIGN.md §3): moto with its Step Functions engine, the
//! gateway running the real handlers, the fake Kubernetes API server, a seeded EKS cluster, both
//! state machines created from the ASL files `template.yaml` names, with the same substitutions,
//! the lease table, and the template's triggers: its EventBridge rules (a cluster created through
//! the gateway starts the provisioning machine when the rule's pattern matches; a provisioning run
//! that times out or is stopped invokes the rollback function, from the status-change events the
//! stack emits for its state machines' executions) and its schedules (the TTL reaper), read from
//! `template.yaml` itself. Used by `make demo` and the end-to-end tests.
//!
//! The cluster is `API_AND_CONFIG_MAP` without a creator entry ([`workflow_tests::SeededAccess`]),
//! and its CreateCluster goes through the gateway, which keeps the access entries moto lacks. It is
//! seeded before the rules are put, as a cluster that existed before the stack was deployed: its
//! CreateCluster starts nothing.

mod clusters;
mod definitions;
mod roles;
mod triggers;

pub use definitions::{function_arn, state_machine_arn, substitute};
pub use triggers::Scheduled;

use crate::events::{PatternError, StatusWatch, status_change};
use crate::template::{Template, TemplateError};
use crate::{
    AccessEntries, EventBus, FaultConfig, Gateway, GatewayConfig, GatewayError, KubeApis, LatencyConfig, RoleKeys,
    RunningGateway, kube_access,
};
use aws_sdk_sfn::config::retry::RetryConfig;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::functions::Function;
use efs_fargate_core::handler::Context;
use efs_fargate_core::settings::Settings;
use efs_fargate_core::time_scale::TimeScale;
use fake_kube_apiserver::FakeKube;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use workflow_tests::{
    ACCOUNT_ID, LEASE_TABLE, LEDGER_TABLE, REGION, SeededCluster, create_lease_table, create_ledger_table, seed_network,
};

pub use workflow_tests::CLUSTER;
use workflow_tests::POD_ROLE;
/// The workflow's Kubernetes identity (`ClusterAccessRole` in template.yaml): the Kubernetes steps assume it for their tokens.
pub const CLUSTER_ACCESS_ROLE: &str = "arn:aws:iam::123456789012:role/efs-workflow-cluster-access";
pub const PROVISION_MACHINE: &str = "efs-workflow-provision";
pub const CLEANUP_MACHINE: &str = "efs-workflow-cleanup";
/// The state machines' logical ids in `template.yaml`, with the names the stack gives them.
const STATE_MACHINES: [(&str, &str); 2] = [
    ("ProvisionStateMachine", PROVISION_MACHINE),
    ("CleanupStateMachine", CLEANUP_MACHINE),
];
/// How often the stack asks moto which executions have ended, to emit their status changes.
const STATUS_POLL: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("moto: {0}")]
    Moto(String),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error("fake Kubernetes API server: {0}")]
    Kube(#[from] fake_kube_apiserver::StartError),
    #[error("{path}: {message}")]
    Definition { path: PathBuf, message: String },
    #[error("Step Functions: {0}")]
    StepFunctions(String),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template.yaml: {0}")]
    Pattern(#[from] PatternError),
    #[error("time_scale {0} must be above 0 and at most 1 to simulate AWS's time")]
    TimeScale(f64),
    #[error("template.yaml schedules `{0}`, which is none of the workflow's functions")]
    UnknownFunction(String),
    #[error("template.yaml's IAM: {0}")]
    Iam(#[from] crate::iam::IamError),
}

/// How the stack behaves; the defaults suit the demo.
#[derive(Clone, Debug)]
pub struct StackOptions {
    /// Real seconds per simulated second in the fake cluster (pod start, `sleep 5` in workloads).
    pub time_scale: f64,
    /// Simulated time a Fargate pod takes to start.
    pub pod_start_delay: Duration,
    pub faults: Option<FaultConfig>,
    pub latency: LatencyConfig,
    /// The handlers run on the fake cluster's clock too: their own poll plans (no 1 s polls),
    /// in-function waits and the Wait states scaled by `time_scale` (the gateway), so that AWS's
    /// latencies, set in `latency` and `pod_start_delay`, are replayed faithfully
    /// (`workflow-bench`). Off by default: the tests' 1 s polls.
    pub simulated_time: bool,
    /// Runs the template's schedules (the TTL reaper every `ReaperRate` × `time_scale`). Off for
    /// tests that count invocations or must not have a sweep in the middle.
    pub schedules: bool,
    /// Announces every ended execution on the bus (the status-change events the template's rules
    /// match). Off for tests that deliver an execution's event themselves, late
    /// ([`LocalStack::status_change`]).
    pub status_changes: bool,
    /// See [`GatewayConfig::fractional_wait_of`].
    pub fractional_wait_of: Option<Function>,
    /// Statements taken out of the template's roles, as `(role logical id, Sid)`: the stack then
    /// enforces what a template without them would allow (see [`crate::iam`]).
    pub revoked_statements: Vec<(String, String)>,
    /// Statements added to the template's roles, as `(role logical id, statement)`: for a test's
    /// stand-ins that the template cannot name.
    pub granted_statements: Vec<(String, Value)>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            time_scale: 0.1,
            pod_start_delay: Duration::from_secs(10),
            faults: None,
            latency: LatencyConfig::default(),
            simulated_time: false,
            schedules: true,
            status_changes: true,
            fractional_wait_of: None,
            revoked_statements: Vec::new(),
            granted_statements: Vec::new(),
        }
    }
}

pub struct LocalStack {
    pub cluster: SeededCluster,
    /// Clients straight to moto, for seeding and inspection (never faulted).
    pub moto_clients: AwsClients,
    pub kube: FakeKube,
    /// The gateway's EKS access entries.
    pub access_entries: AccessEntries,
    pub provision_arn: String,
    pub cleanup_arn: String,
    /// The event bus the gateway announces created clusters on, with the template's rules.
    pub events: EventBus,
    /// The rules put on [`Self::events`], by logical id.
    pub rules: Vec<String>,
    /// The template's schedules, running (none when [`StackOptions::schedules`] is off).
    pub schedules: Vec<Scheduled>,
    /// Puts the state machines' execution status changes on [`Self::events`].
    status_changes: Option<StatusWatch>,
    /// Every cluster's API server, as the gateway's cluster answers give it.
    kube_apis: KubeApis,
    /// The functions' roles, whose policies the gateway enforces.
    pub roles: RoleKeys,
    options: StackOptions,
    gateway: RunningGateway,
    moto: workflow_tests::server::Server,
}

impl LocalStack {
    pub async fn start(options: StackOptions) -> Result<Self, StackError> {
        // The gateway binds first: moto's engine must know where to send Lambda invokes.
        let gateway = Gateway::bind(([127, 0, 0, 1], 0))?;
        let gateway_port = gateway.local_addr().port().to_string();
        let moto = tokio::task::spawn_blocking(move || workflow_tests::server::spawn(&[("MOTO_PORT", gateway_port)]))
            .await
            .map_err(|e| StackError::Moto(e.to_string()))?
            .map_err(StackError::Moto)?;
        enable_step_functions_engine(&moto).await?;
        let moto_clients = AwsClients::new(&workflow_tests::sdk_config(&moto.endpoint()));

        let template = Template::load_repo()?;
        let roles = roles::function_roles(&template, &options)?;
        let access_entries = AccessEntries::new();
        let kube_apis = KubeApis::default();
        let kube = clusters::start_kube(CLUSTER, &options, &moto_clients, &access_entries, &kube_apis, &roles).await?;

        let cleanup_arn = state_machine_arn(CLEANUP_MACHINE);
        let settings = Settings {
            pod_execution_role_arn: Some(POD_ROLE.into()),
            // As deployed: prepare grants this role access through the (emulated) access-entry API.
            cluster_access_role_arn: Some(CLUSTER_ACCESS_ROLE.into()),
            poll_seconds_override: (!options.simulated_time).then_some(1),
            time_scale: if options.simulated_time {
                TimeScale::new(options.time_scale).ok_or(StackError::TimeScale(options.time_scale))?
            } else {
                TimeScale::default()
            },
            cleanup_state_machine_arn: Some(cleanup_arn.clone()),
            // No override: the gateway's DescribeCluster gives each cluster's API server and CA.
            lease_table_name: Some(LEASE_TABLE.into()),
            ledger_table_name: Some(LEDGER_TABLE.into()),
            insights: workflow_tests::insights_settings(),
            ..Settings::default()
        };
        // The handlers' own AWS calls come back through the gateway, where faults and latency apply.
        let gateway_config = workflow_tests::sdk_config(&gateway.endpoint());
        let clients = AwsClients::new(&gateway_config);
        let function_contexts = roles::function_contexts(&roles, &gateway_config, &settings);
        let events = EventBus::new(moto_clients.sfn.clone(), ACCOUNT_ID, REGION);
        let mut config = GatewayConfig::new(moto.endpoint(), Arc::new(Context { clients, settings }))
            .with_roles(roles.clone(), function_contexts)
            .with_latency(options.latency)
            .with_access_entries(access_entries.clone())
            .with_kube_apis(kube_apis.clone())
            .with_events(events.clone())
            .with_fractional_wait_of(options.fractional_wait_of);
        if let Some(faults) = options.faults.clone() {
            config = config.with_faults(faults);
        }
        let gateway = gateway.serve(config)?;

        // The cluster is created through the gateway so that it records its access configuration;
        // the retries get it past any injected fault (a faulted request never reaches moto).
        let through_gateway = gateway_config
            .to_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(10))
            .build();
        let seeding = AwsClients {
            eks: AwsClients::new(&through_gateway).eks,
            ..moto_clients.clone()
        };
        let cluster = seed_network(&seeding, CLUSTER).await;
        kube_access::grant_operator_admin(&seeding.eks, CLUSTER)
            .await
            .map_err(|e| StackError::Moto(format!("operator access entry: {e}")))?;
        create_lease_table(&moto_clients.dynamodb, LEASE_TABLE).await;
        create_ledger_table(&moto_clients.dynamodb, LEDGER_TABLE).await;

        let mut state_machines = BTreeMap::new();
        for (logical_id, name) in STATE_MACHINES {
            let arn = create_state_machine(&moto_clients.sfn, &template, logical_id, name).await?;
            state_machines.insert(logical_id.to_string(), arn);
        }
        let rules = triggers::put_rules(&template, &events, &state_machines)?;
        let status_changes = options.status_changes.then(|| {
            StatusWatch::start(
                moto_clients.sfn.clone(),
                state_machines.values().cloned().collect(),
                &events,
                STATUS_POLL,
            )
        });
        let schedules = if options.schedules {
            triggers::start_schedules(&template, &gateway.functions(), &events, options.time_scale)?
        } else {
            Vec::new()
        };
        Ok(Self {
            cluster,
            moto_clients,
            kube,
            access_entries,
            provision_arn: state_machines["ProvisionStateMachine"].clone(),
            cleanup_arn,
            events,
            rules,
            schedules,
            status_changes,
            kube_apis,
            roles,
            options,
            gateway,
            moto,
        })
    }

    /// The status-change event of an execution as it stands now, as the template's rules see it:
    /// to deliver one late (with [`StackOptions::status_changes`] off).
    pub async fn status_change(&self, execution_arn: &str) -> Result<serde_json::Value, StackError> {
        status_change(&self.moto_clients.sfn, execution_arn, &self.events)
            .await
            .map_err(StackError::Moto)
    }

    /// The gateway's functions, to invoke one as EventBridge would.
    pub fn functions(&self) -> crate::Functions {
        self.gateway.functions()
    }

    pub fn gateway_endpoint(&self) -> &str {
        self.gateway.endpoint()
    }

    pub fn gateway_stats(&self) -> crate::Stats {
        self.gateway.stats()
    }

    pub fn moto_endpoint(&self) -> String {
        self.moto.endpoint()
    }

    /// The environment for `efs-workflow` (or any AWS tool) to use this stack.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.gateway_endpoint().to_string()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", workflow_tests::ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", workflow_tests::SECRET_ACCESS_KEY.into()),
            ("EFS_WORKFLOW_PROVISION_ARN", self.provision_arn.clone()),
            ("EFS_WORKFLOW_CLEANUP_ARN", self.cleanup_arn.clone()),
        ]
    }

    /// Starts an execution and waits for it to end; returns its status and output (or error).
    pub async fn run(
        &self,
        state_machine_arn: &str,
        name: &str,
        input: &Value,
        timeout: Duration,
    ) -> Result<Execution, StackError> {
        let sfn = &self.moto_clients.sfn;
        let started = sfn
            .start_execution()
            .state_machine_arn(state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| StackError::StepFunctions(aws_sdk_sfn::error::DisplayErrorContext(e).to_string()))?;
        self.wait(started.execution_arn(), timeout).await
    }

    /// Waits until the execution is no longer running.
    pub async fn wait(&self, execution_arn: &str, timeout: Duration) -> Result<Execution, StackError> {
        let began = Instant::now();
        loop {
            let execution = self
                .moto_clients
                .sfn
                .describe_execution()
                .execution_arn(execution_arn)
                .send()
                .await
                .map_err(|e| StackError::StepFunctions(aws_sdk_sfn::error::DisplayErrorContext(e).to_string()))?;
            if *execution.status() != ExecutionStatus::Running {
                let parse = |text: Option<&str>| text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
                return Ok(Execution {
                    execution_arn: execution_arn.to_string(),
                    status: execution.status().clone(),
                    output: parse(execution.output()),
                    error: execution.error().map(str::to_string),
                    cause: execution.cause().map(str::to_string),
                });
            }
            if began.elapsed() > timeout {
                return Err(StackError::StepFunctions(format!(
                    "{execution_arn} still running after {timeout:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Every execution of a state machine (the reaper and rollback start cleanups on their own).
    pub async fn executions(
        &self,
        state_machine_arn: &str,
    ) -> Result<Vec<aws_sdk_sfn::types::ExecutionListItem>, StackError> {
        self.moto_clients
            .sfn
            .list_executions()
            .state_machine_arn(state_machine_arn)
            .send()
            .await
            .map(|out| out.executions().to_vec())
            .map_err(|e| StackError::StepFunctions(aws_sdk_sfn::error::DisplayErrorContext(e).to_string()))
    }

    /// The cluster's API server goes away: the Kubernetes steps get connections refused.
    pub async fn stop_kubernetes(&mut self) {
        self.kube.stop_listening().await;
    }

    pub async fn shutdown(self) {
        // No sweep or status change may start anything while the gateway is going away.
        drop(self.schedules);
        drop(self.status_changes);
        self.gateway.shutdown().await;
        self.kube.shutdown().await;
        drop(self.moto);
    }
}

#[derive(Clone, Debug)]
pub struct Execution {
    pub execution_arn: String,
    pub status: ExecutionStatus,
    pub output: Value,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Creates the state machine `logical_id` of the template as `name`, from its `DefinitionUri`.
async fn create_state_machine(
    sfn: &aws_sdk_sfn::Client,
    template: &Template,
    logical_id: &str,
    name: &str,
) -> Result<String, StackError> {
    let path = workflow_tests::server::repo_root().join(template.definition_uri(logical_id)?);
    let created = sfn
        .create_state_machine()
        .name(name)
        .definition(substitute(&path)?)
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}"))
        .send()
        .await
        .map_err(|e| StackError::StepFunctions(aws_sdk_sfn::error::DisplayErrorContext(e).to_string()))?;
    Ok(created.state_machine_arn().to_string())
}

async fn enable_step_functions_engine(moto: &workflow_tests::server::Server) -> Result<(), StackError> {
    // Must precede creating any state machine: the engine keeps a separate store.
    let addr = moto.addr;
    let response = tokio::task::spawn_blocking(move || {
        workflow_tests::http::request(
            addr,
            "POST",
            "/moto-api/config",
            r#"{"stepfunctions":{"execute_state_machine":true}}"#,
            Duration::from_secs(10),
        )
    })
    .await
    .map_err(|e| StackError::Moto(e.to_string()))?
    .map_err(|e| StackError::Moto(e.to_string()))?;
    if (200..300).contains(&response.status) {
        Ok(())
    } else {
        Err(StackError::Moto(format!(
            "enabling the Step Functions engine answered {}: {}",
            response.status, response.body
        )))
    }
}
