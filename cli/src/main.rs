//! `efs-workflow`: start, watch, inspect and clean up efs-fargate-workflow executions.

mod args;
mod aws_error;
mod commands;
mod dry_run;
mod error;
mod input;
mod list;
mod progress;
mod render;

use args::{Cli, Command, Output, WatchArgs};
use clap::Parser;
use error::CliError;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let mut loader = efs_fargate_core::clients::sdk_config_loader();
    if let Some(region) = &cli.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &cli.profile {
        loader = loader.profile_name(profile);
    }
    let sfn = aws_sdk_sfn::Client::new(&loader.load().await);
    let output = cli.output;
    let arn = |value: &Option<String>, flag, env| value.clone().ok_or(CliError::MissingArn { flag, env });
    let started = match &cli.command {
        Command::Start(args) => {
            let machine = arn(
                &cli.provision_state_machine,
                "provision-state-machine",
                "EFS_WORKFLOW_PROVISION_ARN",
            )?;
            let execution = commands::start(&sfn, &machine, args, output).await?;
            started(execution, args.watch, output)
        }
        Command::Cleanup(args) => {
            let machine = arn(
                &cli.cleanup_state_machine,
                "cleanup-state-machine",
                "EFS_WORKFLOW_CLEANUP_ARN",
            )?;
            commands::confirm_cleanup(args)?;
            let execution = commands::cleanup(&sfn, &machine, args, output).await?;
            started(execution, args.watch, output)
        }
        Command::Plan(args) | Command::Doctor(args) => {
            let machine = arn(
                &cli.provision_state_machine,
                "provision-state-machine",
                "EFS_WORKFLOW_PROVISION_ARN",
            )?;
            let doctor = matches!(cli.command, Command::Doctor(_));
            let planned =
                dry_run::dry_run(&sfn, &machine, args, if doctor { "doctor" } else { "plan" }, output).await?;
            match output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&planned).expect("JSON serializes")),
                Output::Text => print!("{}", dry_run::render_doctor(&planned.doctor)),
            }
            if doctor {
                return match planned.doctor.healthy {
                    true => Ok(()),
                    false => Err(CliError::Unhealthy {
                        failed: planned
                            .doctor
                            .failed()
                            .map(|c| c.name.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                };
            }
            if output == Output::Text {
                print!("\n{}", dry_run::render_plan(&planned.plan));
            }
            return Ok(());
        }
        Command::Watch(args) => return commands::watch(&sfn, args, output).await.map(|_| ()),
        Command::Status { execution_arn } => return commands::status(&sfn, execution_arn, output).await,
        Command::List(args) => {
            let machines: Vec<(&'static str, String)> = [
                ("provision", &cli.provision_state_machine),
                ("cleanup", &cli.cleanup_state_machine),
            ]
            .into_iter()
            .filter_map(|(kind, arn)| arn.clone().map(|arn| (kind, arn)))
            .collect();
            if machines.is_empty() {
                return Err(arn(&None, "provision-state-machine", "EFS_WORKFLOW_PROVISION_ARN").unwrap_err());
            }
            list::print(&list::list(&sfn, &machines, args).await?, output);
            return Ok(());
        }
    };
    if let Some(execution_arn) = started {
        commands::watch(
            &sfn,
            &WatchArgs {
                execution_arn,
                interval: 2,
            },
            output,
        )
        .await?;
    }
    Ok(())
}

/// The execution to follow (`--watch`); without it, a script's JSON names the one started.
fn started(execution_arn: String, watch: bool, output: Output) -> Option<String> {
    if !watch && output == Output::Json {
        println!("{}", serde_json::json!({ "executionArn": execution_arn }));
    }
    watch.then_some(execution_arn)
}
