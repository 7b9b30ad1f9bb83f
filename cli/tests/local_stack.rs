//! The CLI as a script uses it, against the local stack: `start --output json` names the execution
//! it started, `watch --output json` prints how it ended, and `list` finds it again by its cluster
//! and namespace.

use local_stack::stack::{CLUSTER, LocalStack, StackOptions};
use serde_json::Value;
use std::process::{Output, Stdio};

async fn efs_workflow(stack: &LocalStack, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_efs-workflow"))
        .args(args)
        .envs(stack.cli_env())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("the CLI runs")
}

/// Its stdout as one JSON document, once it exited 0.
fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_starts_a_run_follows_it_and_finds_it_again_as_json() {
    let stack = LocalStack::start(StackOptions {
        schedules: false,
        ..StackOptions::default()
    })
    .await
    .expect("the local stack");
    let namespace = "team-json";
    let start = ["start", "--cluster", CLUSTER, "--namespace", namespace, "--no-poc-app"];
    let started = json(&efs_workflow(&stack, &[&start[..], &["--output", "json"]].concat()).await);
    let arn = started["executionArn"]
        .as_str()
        .expect("the execution's ARN")
        .to_string();

    let ended = json(&efs_workflow(&stack, &["watch", &arn, "--interval", "1", "--output", "json"]).await);
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
    assert_eq!(ended["executionArn"], arn.as_str());
    assert_eq!(ended["input"]["namespace"], namespace);
    assert!(ended["output"]["efs"]["fileSystemId"].is_string(), "{ended}");

    let list = |cluster: &'static str, namespace: Option<&'static str>| {
        let mut args = vec!["list", "--cluster", cluster, "--output", "json"];
        args.extend(namespace.map(|n| ["--namespace", n]).into_iter().flatten());
        let stack = &stack;
        async move { json(&efs_workflow(stack, &args).await) }
    };
    let listed = list(CLUSTER, Some(namespace)).await;
    let [only] = listed.as_array().expect("a list").as_slice() else {
        panic!("one execution: {listed}")
    };
    assert_eq!(
        (&only["kind"], &only["status"], &only["executionArn"]),
        (&"provision".into(), &"SUCCEEDED".into(), &arn.clone().into())
    );
    assert_eq!(list(CLUSTER, Some("nobody")).await, serde_json::json!([]));
    assert_eq!(list("elsewhere", None).await, serde_json::json!([]));

    // For a person: a table.
    let table = efs_workflow(&stack, &["list", "--cluster", CLUSTER]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("STARTED") && text.contains(namespace), "{text}");
    stack.shutdown().await;
}
