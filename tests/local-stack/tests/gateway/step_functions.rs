//! End to end: a moto started with `MOTO_PORT` = the gateway's port runs a state machine whose
//! `lambda:invoke` task reaches the real handler through the gateway, and whose `Catch` sees the
//! handler's error name.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sfn::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::clients::https_client;
use efs_fargate_core::functions::Function;
use local_stack::Gateway;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use workflow_tests::http::{self, Response};
use workflow_tests::settings;

use crate::support::via;

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/local-stack-states";
const CLEANUP_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cleanup";

/// A moto server of this test's own, whose Step Functions engine calls the gateway.
struct EngineMoto {
    addr: SocketAddr,
    log: PathBuf,
    process: Child,
}

impl EngineMoto {
    async fn start(gateway_port: u16) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let log = std::env::temp_dir().join(format!("local-stack-engine-moto-{}.log", std::process::id()));
        let out = File::create(&log).expect("create the moto log");
        let process = Command::new(workflow_tests::server::moto_server_path())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_PORT", gateway_port.to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log handle"))
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .expect("start moto_server (scripts/venv.sh installs it)");
        let moto = Self { addr, log, process };
        let began = Instant::now();
        while !matches!(moto.api("GET", "/moto-api/", "").await, Ok(ref r) if r.status == 200) {
            assert!(
                began.elapsed() < Duration::from_secs(20),
                "moto did not start: {}",
                moto.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        moto
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn api(&self, method: &'static str, path: &'static str, body: &'static str) -> std::io::Result<Response> {
        let addr = self.addr;
        tokio::task::spawn_blocking(move || http::request(addr, method, path, body, Duration::from_secs(10)))
            .await
            .expect("the request task")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn stop(mut self) {
        self.process.kill().await.expect("stop moto");
        let _ = std::fs::remove_file(&self.log);
    }
}

fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        )))
        .http_client(https_client())
        .build()
}

/// Creates the state machine, runs it once and returns the finished execution's status and output.
async fn run(sfn: &aws_sdk_sfn::Client, name: &str, definition: Value) -> (ExecutionStatus, Value) {
    let machine = sfn
        .create_state_machine()
        .name(name)
        .role_arn(ROLE_ARN)
        .definition(definition.to_string())
        .send()
        .await
        .expect("create the state machine");
    let execution = sfn
        .start_execution()
        .state_machine_arn(machine.state_machine_arn())
        .input("{}")
        .send()
        .await
        .expect("start the execution");
    let began = Instant::now();
    loop {
        let described = sfn
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .expect("describe the execution");
        if described.status() != &ExecutionStatus::Running {
            let output = described
                .output()
                .map_or(Value::Null, |o| serde_json::from_str(o).unwrap());
            return (described.status().clone(), output);
        }
        assert!(began.elapsed() < Duration::from_secs(20), "{name} still running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn cleanup_task(payload: Value, rest: Value) -> Value {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": { "FunctionName": CLEANUP_ARN, "Payload": payload },
        "OutputPath": "$.Payload",
    });
    task.as_object_mut().unwrap().extend(rest.as_object().unwrap().clone());
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_step_functions_engine_invokes_the_handlers_through_the_gateway() {
    let gateway = Gateway::bind(([127, 0, 0, 1], 0)).expect("bind the gateway");
    let moto = EngineMoto::start(gateway.local_addr().port()).await;
    // Before any state machine exists: moto keeps executable machines in a separate store.
    let config = moto
        .api(
            "POST",
            "/moto-api/config",
            r#"{"stepfunctions":{"execute_state_machine":true}}"#,
        )
        .await
        .expect("configure moto");
    assert!((200..300).contains(&config.status), "{config:?}");
    let clients = efs_fargate_core::clients::AwsClients::new(&via(&sdk_config(), &gateway.endpoint(), 3));
    let context = std::sync::Arc::new(efs_fargate_core::handler::Context {
        clients: clients.clone(),
        settings: settings(),
    });
    let gateway = gateway
        .serve(local_stack::GatewayConfig::new(moto.endpoint(), context))
        .expect("serve");
    workflow_tests::create_ledger_table(&clients.dynamodb, workflow_tests::LEDGER_TABLE).await;

    let payload = json!({ "action": "fargate-profile", "clusterName": "demo", "namespace": "ns" });
    let definition = json!({
        "StartAt": "Cleanup",
        "States": { "Cleanup": cleanup_task(payload, json!({ "End": true })) },
    });
    let (status, output) = run(&clients.sfn, "cleanup-ok", definition).await;
    assert_eq!(status, ExecutionStatus::Succeeded, "{output}\n{}", moto.log_text());
    assert_eq!(output["ready"], true, "{output}");

    let bad = json!({ "action": "fargate-profile", "clusterName": "not a cluster name!", "namespace": "ns" });
    let definition = json!({
        "StartAt": "Cleanup",
        "States": {
            "Cleanup": cleanup_task(bad, json!({
                "Catch": [{ "ErrorEquals": ["InvalidInput"], "ResultPath": "$.error", "Next": "Caught" }],
                "End": true,
            })),
            "Caught": { "Type": "Pass", "End": true },
        },
    });
    let (status, output) = run(&clients.sfn, "cleanup-caught", definition).await;
    assert_eq!(status, ExecutionStatus::Succeeded, "{output}\n{}", moto.log_text());
    assert_eq!(output["error"]["Error"], "InvalidInput", "{output}");

    let stats = gateway.stats();
    assert_eq!(stats.invocations_of(Function::Cleanup), 2, "{stats:?}");
    assert!(stats.proxied_to("states") >= 4, "{stats:?}");
    gateway.shutdown().await;
    moto.stop().await;
}
