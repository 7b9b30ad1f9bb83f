//! `plan` and `doctor`: a dry-run execution (`dryRun: true`) of the provisioning state machine,
//! which runs `prepare` and the doctor with the functions' own roles and settings and changes
//! nothing, then its output as tables.

use crate::args::{Output, StartArgs};
use crate::aws_error::caller_error;
use crate::commands::start_execution;
use crate::error::CliError;
use crate::input::execution_input;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::steps::doctor::{CheckStatus, DoctorReport};
use efs_fargate_core::steps::plan::Plan;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// The dry run's output (`Planned` in the state machine).
#[derive(Debug, Deserialize, Serialize)]
pub struct DryRun {
    pub doctor: DoctorReport,
    pub plan: Plan,
}

/// Starts the dry run of the input `args` describe and waits for its output.
pub async fn dry_run(
    sfn: &Client,
    state_machine: &str,
    args: &StartArgs,
    kind: &str,
    output: Output,
) -> Result<DryRun, CliError> {
    let mut input = execution_input(args)?;
    input["dryRun"] = json!(true);
    let name = args.name.clone().unwrap_or_else(|| {
        let cluster = input["clusterName"].as_str().unwrap_or("cluster");
        let namespace = input["namespace"]
            .as_str()
            .unwrap_or(efs_fargate_core::input::DEFAULT_NAMESPACE);
        crate::commands::execution_name(kind, cluster, namespace)
    });
    let execution_arn = start_execution(sfn, state_machine, &name, &input, output).await?;
    loop {
        let execution = sfn
            .describe_execution()
            .execution_arn(&execution_arn)
            .send()
            .await
            .map_err(|e| caller_error("states:DescribeExecution", e))?;
        match execution.status() {
            ExecutionStatus::Running => tokio::time::sleep(Duration::from_secs(1)).await,
            ExecutionStatus::Succeeded => {
                let output: Value = serde_json::from_str(execution.output().unwrap_or("null"))
                    .map_err(|e| CliError::Input(format!("the dry run's output: {e}")))?;
                return serde_json::from_value(output.clone())
                    .map_err(|_| CliError::Input(format!("the dry run planned nothing: {output}")));
            }
            other => {
                return Err(CliError::ExecutionFailed {
                    status: other.as_str().to_string(),
                    detail: format!(
                        "{}: {}",
                        execution.error().unwrap_or_default(),
                        execution.cause().unwrap_or_default()
                    ),
                });
            }
        }
    }
}

/// The doctor's checks, one line each, the explanation indented below failures.
pub fn render_doctor(report: &DoctorReport) -> String {
    let width = report.checks.iter().map(|c| c.name.len()).max().unwrap_or(5);
    let mut text = format!(
        "doctor: cluster {} namespace {}\n",
        report.cluster_name, report.namespace
    );
    for check in &report.checks {
        let status = match check.status {
            CheckStatus::Ok => "ok",
            CheckStatus::Failed => "FAILED",
            CheckStatus::Skipped => "skipped",
        };
        let error = check.error.as_deref().map(|e| format!(" [{e}]")).unwrap_or_default();
        text.push_str(&format!(
            "  {:<width$}  {status:<7}{error}  {}\n",
            check.name, check.explanation
        ));
    }
    text.push_str(if report.healthy {
        "healthy: a run would pass every check\n"
    } else {
        "NOT healthy: a run would fail before creating anything\n"
    });
    text
}

/// The plan as a table: action, kind, name, id, and the settings on the line below.
pub fn render_plan(plan: &Plan) -> String {
    let kind = |p: &efs_fargate_core::steps::plan::Planned| {
        serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let action = |p: &efs_fargate_core::steps::plan::Planned| {
        serde_json::to_value(p.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let kind_width = plan.resources.iter().map(|p| kind(p).len()).max().unwrap_or(4);
    let mut text = format!("plan: cluster {} namespace {}\n", plan.cluster_name, plan.namespace);
    for item in &plan.resources {
        text.push_str(&format!(
            "  {:<7} {:<kind_width$}  {}{}\n",
            action(item),
            kind(item),
            item.name,
            item.id.as_deref().map(|id| format!("  ({id})")).unwrap_or_default()
        ));
        if !item.settings.is_null() {
            text.push_str(&format!("          {}\n", item.settings));
        }
        if let Some(reason) = &item.reason {
            text.push_str(&format!("          {reason}\n"));
        }
    }
    if let Some(error) = &plan.would_fail_with {
        text.push_str(&format!(
            "the run would fail with {error} before creating anything (see the doctor)\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dry_runs_output_renders_as_tables() {
        let output = json!({
            "status": "planned",
            "doctor": {"clusterName": "demo", "namespace": "team-a", "healthy": false, "checks": [
                {"name": "clusterStatus", "status": "ok", "explanation": "cluster is ACTIVE"},
                {"name": "vpcDns", "status": "failed", "explanation": "turn it on", "error": "VpcDnsDisabled"},
            ]},
            "plan": {"clusterName": "demo", "namespace": "team-a", "wouldFailWith": "VpcDnsDisabled", "resources": [
                {"kind": "fargateProfile", "name": "fp-team-a", "action": "create", "settings": {"subnets": ["subnet-1"]}},
                {"kind": "fileSystem", "name": "efw-x", "id": "fs-1", "action": "reuse"},
            ]},
        });
        let dry_run: DryRun = serde_json::from_value(output).expect("the Planned output");
        let doctor = render_doctor(&dry_run.doctor);
        assert!(
            doctor.contains("vpcDns         FAILED  [VpcDnsDisabled]  turn it on"),
            "{doctor}"
        );
        assert!(doctor.contains("NOT healthy"), "{doctor}");
        let plan = render_plan(&dry_run.plan);
        assert!(plan.contains("create  fargateProfile  fp-team-a\n"), "{plan}");
        assert!(plan.contains(r#"{"subnets":["subnet-1"]}"#), "{plan}");
        assert!(plan.contains("reuse   fileSystem      efw-x  (fs-1)"), "{plan}");
        assert!(plan.contains("would fail with VpcDnsDisabled"), "{plan}");
    }
}
