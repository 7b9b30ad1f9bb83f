//! `list`: a cluster's (or a namespace's) latest executions of both state machines, newest first,
//! read from Step Functions: each execution's input says which cluster and namespace it is for.

use crate::args::{ListArgs, Output};
use crate::aws_error::caller_error;
use crate::error::CliError;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionListItem;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use serde::Serialize;
use serde_json::Value;

/// One execution, as `list` shows it.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// `provision` or `cleanup`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub status: String,
    pub started: String,
    pub execution_arn: String,
}

/// The executions of `machines` (kind and ARN) for the cluster (and namespace) `args` name.
pub async fn list(sfn: &Client, machines: &[(&'static str, String)], args: &ListArgs) -> Result<Vec<Listed>, CliError> {
    let mut listed = Vec::new();
    for (kind, machine) in machines {
        let executions = sfn
            .list_executions()
            .state_machine_arn(machine)
            .max_results(args.limit)
            .send()
            .await
            .map_err(|e| caller_error("states:ListExecutions", e))?;
        for execution in executions.executions() {
            let described = sfn
                .describe_execution()
                .execution_arn(execution.execution_arn())
                .send()
                .await
                .map_err(|e| caller_error("states:DescribeExecution", e))?;
            let input = described
                .input()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .unwrap_or_default();
            if let Some(item) = matching(kind, execution, &input, args) {
                listed.push(item);
            }
        }
    }
    // RFC 3339 in UTC: newest first by text.
    listed.sort_by(|a, b| b.started.cmp(&a.started));
    Ok(listed)
}

/// The execution as listed when its input is for the cluster (and namespace) asked for.
fn matching(kind: &'static str, execution: &ExecutionListItem, input: &Value, args: &ListArgs) -> Option<Listed> {
    if input["clusterName"].as_str() != Some(args.cluster.as_str()) {
        return None;
    }
    let namespace = input["namespace"].as_str().unwrap_or(DEFAULT_NAMESPACE).to_string();
    if args.namespace.as_ref().is_some_and(|wanted| *wanted != namespace) {
        return None;
    }
    Some(Listed {
        kind,
        namespace,
        name: execution.name().to_string(),
        status: execution.status().as_str().to_string(),
        started: jiff::Timestamp::from_second(execution.start_date().secs())
            .map(|t| t.to_string())
            .unwrap_or_default(),
        execution_arn: execution.execution_arn().to_string(),
    })
}

pub fn print(listed: &[Listed], output: Output) {
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(listed).expect("JSON serializes"));
        return;
    }
    if listed.is_empty() {
        println!("no executions");
        return;
    }
    println!(
        "{:<20}  {:<9}  {:<10}  {:<24}  NAME",
        "STARTED", "KIND", "STATUS", "NAMESPACE"
    );
    for item in listed {
        println!(
            "{:<20}  {:<9}  {:<10}  {:<24}  {}",
            item.started, item.kind, item.status, item.namespace, item.name
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::ExecutionStatus;
    use aws_smithy_types::DateTime;
    use serde_json::json;

    fn execution(name: &str) -> ExecutionListItem {
        ExecutionListItem::builder()
            .execution_arn(format!("arn:aws:states:us-east-1:1:execution:m:{name}"))
            .state_machine_arn("arn:aws:states:us-east-1:1:stateMachine:m")
            .name(name)
            .status(ExecutionStatus::Succeeded)
            .start_date(DateTime::from_secs(1_800_000_000))
            .build()
            .expect("an execution")
    }

    fn args(namespace: Option<&str>) -> ListArgs {
        ListArgs {
            cluster: "prod".into(),
            namespace: namespace.map(str::to_string),
            limit: 50,
        }
    }

    #[test]
    fn executions_are_matched_by_their_inputs_cluster_and_namespace() {
        let run = execution("run");
        let team_a = json!({"clusterName": "prod", "namespace": "team-a"});
        let listed = matching("provision", &run, &team_a, &args(None)).expect("the cluster's");
        assert_eq!(
            (listed.namespace.as_str(), listed.status.as_str()),
            ("team-a", "SUCCEEDED")
        );
        assert_eq!(listed.started, "2027-01-15T08:00:00Z");
        assert!(matching("provision", &run, &team_a, &args(Some("team-a"))).is_some());
        assert!(matching("provision", &run, &team_a, &args(Some("team-b"))).is_none());
        assert!(
            matching(
                "provision",
                &run,
                &json!({"clusterName": "dev", "namespace": "team-a"}),
                &args(None)
            )
            .is_none()
        );
        // No namespace in the input: the default one.
        let default = matching(
            "provision",
            &run,
            &json!({"clusterName": "prod"}),
            &args(Some(DEFAULT_NAMESPACE)),
        );
        assert!(default.is_some());
        // An unreadable input is nobody's.
        assert!(matching("cleanup", &run, &Value::Null, &args(None)).is_none());
    }
}
