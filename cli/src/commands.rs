//! The subcommands, over the Step Functions API.

use crate::args::{CleanupArgs, Output, StartArgs, WatchArgs};
use crate::aws_error::caller_error;
use crate::error::CliError;
use crate::input::execution_input;
use crate::progress::{Outcome, Progress};
use crate::render::{Display, summary};
use aws_sdk_sfn::Client;
use efs_fargate_core::ownership::Owner;
use efs_fargate_core::steps::cleanup::CleanupRequest;
use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

pub async fn start(sfn: &Client, state_machine: &str, args: &StartArgs, output: Output) -> Result<String, CliError> {
    let input = execution_input(args)?;
    let name = args.name.clone().unwrap_or_else(|| {
        let cluster = input["clusterName"].as_str().unwrap_or("cluster");
        let namespace = input["namespace"]
            .as_str()
            .unwrap_or(efs_fargate_core::input::DEFAULT_NAMESPACE);
        execution_name("provision", cluster, namespace)
    });
    start_execution(sfn, state_machine, &name, &input, output).await
}

/// Asks before a cleanup deletes anything, unless `--yes`: the person types the namespace.
pub fn confirm_cleanup(args: &CleanupArgs) -> Result<(), CliError> {
    use std::io::{BufRead, IsTerminal, Write};
    if args.yes {
        return Ok(());
    }
    let (cluster, namespace) = (args.cluster.clone(), args.namespace.clone());
    if !std::io::stdin().is_terminal() {
        return Err(CliError::ConfirmationRequired { cluster, namespace });
    }
    eprint!(
        "Cleanup deletes what efs-fargate-workflow created for {cluster}/{namespace} (its ledger decides; \
         a file system with retention: retain is kept).\nType the namespace to confirm: "
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).ok();
    if answer.trim() == namespace {
        Ok(())
    } else {
        Err(CliError::NotConfirmed { cluster, namespace })
    }
}

pub async fn cleanup(
    sfn: &Client,
    state_machine: &str,
    args: &CleanupArgs,
    output: Output,
) -> Result<String, CliError> {
    let request = CleanupRequest {
        cluster_name: args.cluster.clone(),
        namespace: args.namespace.clone(),
        run_id: None,
        generation: None,
        reason: "requested from the command line".into(),
    };
    let input = serde_json::to_value(&request).expect("a cleanup request serializes");
    start_execution(
        sfn,
        state_machine,
        &execution_name("cleanup", &args.cluster, &args.namespace),
        &input,
        output,
    )
    .await
}

/// `<kind>-<hash>-<namespace>-<utc time>`: readable, unique per start, at most 80 characters.
pub fn execution_name(kind: &str, cluster: &str, namespace: &str) -> String {
    let hash = Owner::new(cluster, namespace).short_hash();
    let time = Timestamp::now().strftime("%Y%m%dT%H%M%S");
    format!("{kind}-{hash}-{namespace}")
        .chars()
        .take(63)
        .collect::<String>()
        + &format!("-{time}")
}

/// Starts an execution; says so to a person (a script reads the ARN its command prints).
pub async fn start_execution(
    sfn: &Client,
    state_machine: &str,
    name: &str,
    input: &Value,
    output: Output,
) -> Result<String, CliError> {
    let started = sfn
        .start_execution()
        .state_machine_arn(state_machine)
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .map_err(|e| caller_error("states:StartExecution", e))?;
    if output == Output::Text {
        println!("started {}", started.execution_arn());
    }
    Ok(started.execution_arn().to_string())
}

/// Follows the history until the execution ends; prints the summary and the output (as JSON: the
/// execution, as `status` prints it).
pub async fn watch(sfn: &Client, args: &WatchArgs, output: Output) -> Result<Progress, CliError> {
    let display = (output == Output::Text).then(Display::new);
    let mut progress = Progress::default();
    loop {
        let events = sfn
            .get_execution_history()
            .execution_arn(&args.execution_arn)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| caller_error("states:GetExecutionHistory", e))?;
        let lines = progress.apply(&events);
        if let Some(display) = &display {
            display.show(&lines, &progress);
        }
        if progress.outcome.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(args.interval)).await;
    }
    match display {
        Some(display) => {
            display.finish();
            println!("\n{}", summary(&progress));
        }
        None => status(sfn, &args.execution_arn, output).await?,
    }
    match progress.outcome.clone() {
        Some(Outcome::Succeeded { output: result }) => {
            if let (Some(result), Output::Text) = (result, output) {
                println!("{}", pretty(&result));
            }
            Ok(progress)
        }
        Some(Outcome::Failed { status, error, cause }) => Err(CliError::ExecutionFailed {
            status,
            detail: format!("{error}: {}", pretty(&cause)),
        }),
        None => unreachable!("the loop ends only with an outcome"),
    }
}

pub async fn status(sfn: &Client, execution_arn: &str, output: Output) -> Result<(), CliError> {
    let execution = sfn
        .describe_execution()
        .execution_arn(execution_arn)
        .send()
        .await
        .map_err(|e| caller_error("states:DescribeExecution", e))?;
    if output == Output::Json {
        let json = |text: Option<&str>| text.map(|t| serde_json::from_str::<Value>(t).unwrap_or_else(|_| t.into()));
        let document = serde_json::json!({
            "executionArn": execution.execution_arn(),
            "name": execution.name(),
            "status": execution.status().as_str(),
            "input": json(execution.input()),
            "output": json(execution.output()),
            "error": execution.error(),
            "cause": json(execution.cause()),
        });
        println!("{}", serde_json::to_string_pretty(&document).expect("JSON serializes"));
        return Ok(());
    }
    println!(
        "{}  {}",
        execution.name().unwrap_or_default(),
        execution.status().as_str()
    );
    for text in [execution.output(), execution.error(), execution.cause()]
        .into_iter()
        .flatten()
    {
        println!("{}", pretty(text));
    }
    Ok(())
}

fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| text.to_string())
}
