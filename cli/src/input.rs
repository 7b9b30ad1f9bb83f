//! The execution input a `start` sends, checked with the workflow's own rules before anything starts.

use crate::args::StartArgs;
use crate::error::CliError;
use efs_fargate_core::input::{Trigger, parse_execution_input};
use efs_fargate_core::settings::{InsightsSettings, Settings};
use serde_json::{Map, Value, json};

pub fn execution_input(args: &StartArgs) -> Result<Value, CliError> {
    let input = match &args.input {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?;
            serde_json::from_str(&text).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?
        }
        None => from_flags(args),
    };
    check(&input)?;
    if let Some(warning) = ttl_deletes_data(&input) {
        eprintln!("warning: {warning}");
    }
    Ok(input)
}

/// A TTL whose cleanup would delete the file system with its data, said before the run starts.
fn ttl_deletes_data(input: &Value) -> Option<String> {
    let ttl = input.get("ttl")?.as_str()?;
    let retention = input.pointer("/fileSystem/retention").and_then(Value::as_str);
    (retention != Some("retain")).then(|| {
        format!(
            "after the TTL ({ttl}) the cleanup deletes the file system and its data; pass --retention retain \
             (fileSystem.retention) to keep them"
        )
    })
}

fn from_flags(args: &StartArgs) -> Value {
    let mut input = Map::new();
    input.insert("clusterName".into(), json!(args.cluster));
    let optional = [
        ("namespace", &args.namespace),
        ("ttl", &args.ttl),
        ("podExecutionRoleArn", &args.pod_execution_role_arn),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            input.insert(key.into(), json!(value));
        }
    }
    if let Some(retention) = &args.retention {
        input.insert("fileSystem".into(), json!({"retention": retention}));
    }
    if let Some(alias) = &args.kms_key_alias {
        input.insert("encryption".into(), json!({"kmsKeyAlias": alias}));
    }
    if args.no_poc_app {
        input.insert("deployPocApp".into(), json!(false));
    }
    if args.retain_on_failure {
        input.insert("onFailure".into(), json!("retain"));
    }
    if args.container_insights {
        input.insert("monitoring".into(), json!({"containerInsights": true}));
    }
    Value::Object(input)
}

/// The deployment supplies the pod execution role and the collectors' permissions boundary, so
/// placeholders stand in for them here; every other rule is the one `prepare` applies.
fn check(input: &Value) -> Result<(), CliError> {
    let settings = Settings {
        pod_execution_role_arn: Some("arn:aws:iam::000000000000:role/deployment-default".into()),
        insights: InsightsSettings {
            boundary_arn: Some("arn:aws:iam::000000000000:policy/deployment-boundary".into()),
            ..InsightsSettings::default()
        },
        ..Settings::default()
    };
    match parse_execution_input(input, &settings)? {
        Trigger::Provision(_) | Trigger::Plan(_) => Ok(()),
        Trigger::Skip { reason } => Err(CliError::Input(format!("this input provisions nothing: {reason}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn start(flags: &[&str]) -> StartArgs {
        let mut argv = vec!["efs-workflow", "start"];
        argv.extend(flags);
        match crate::args::Cli::parse_from(argv).command {
            crate::args::Command::Start(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_become_the_console_input() {
        let args = start(&[
            "--cluster",
            "demo",
            "--ttl",
            "PT8H",
            "--retention",
            "retain",
            "--kms-key-alias",
            "alias/efs",
            "--no-poc-app",
            "--retain-on-failure",
            "--container-insights",
        ]);
        assert_eq!(
            execution_input(&args).unwrap(),
            json!({"clusterName": "demo", "ttl": "PT8H", "fileSystem": {"retention": "retain"},
                   "encryption": {"kmsKeyAlias": "alias/efs"},
                   "deployPocApp": false, "onFailure": "retain", "monitoring": {"containerInsights": true}})
        );
    }

    #[test]
    fn a_ttl_that_would_delete_the_data_is_warned_about() {
        assert!(ttl_deletes_data(&json!({"clusterName": "c", "ttl": "PT8H"})).is_some());
        let kept = json!({"clusterName": "c", "ttl": "PT8H", "fileSystem": {"retention": "retain"}});
        assert_eq!(ttl_deletes_data(&kept), None);
        assert_eq!(ttl_deletes_data(&json!({"clusterName": "c"})), None);
    }

    #[test]
    fn bad_input_is_refused_before_starting() {
        let err = execution_input(&start(&["--cluster", "demo", "--ttl", "8h"])).unwrap_err();
        assert!(err.to_string().contains("ttl"), "{err}");
    }
}
