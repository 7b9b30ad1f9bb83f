//! `efs-workflow`: start, watch, inspect and clean up efs-fargate-workflow executions.

mod args;
mod aws_error;
mod commands;
mod dry_run;
mod error;
mod input;
mod progress;
mod render;

use args::{Cli, Command, WatchArgs};
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
    let sfn = aws_sdk_sfn::Client::new(&efs_fargate_core::clients::load_sdk_config().await);
    let arn = |value: &Option<String>, flag, env| value.clone().ok_or(CliError::MissingArn { flag, env });
    let started = match &cli.command {
        Command::Start(args) => {
            let machine = arn(
                &cli.provision_state_machine,
                "provision-state-machine",
                "EFS_WORKFLOW_PROVISION_ARN",
            )?;
            let execution = commands::start(&sfn, &machine, args).await?;
            args.watch.then_some(execution)
        }
        Command::Cleanup(args) => {
            let machine = arn(
                &cli.cleanup_state_machine,
                "cleanup-state-machine",
                "EFS_WORKFLOW_CLEANUP_ARN",
            )?;
            commands::confirm_cleanup(args)?;
            let execution = commands::cleanup(&sfn, &machine, args).await?;
            args.watch.then_some(execution)
        }
        Command::Plan(args) | Command::Doctor(args) => {
            let machine = arn(
                &cli.provision_state_machine,
                "provision-state-machine",
                "EFS_WORKFLOW_PROVISION_ARN",
            )?;
            let doctor = matches!(cli.command, Command::Doctor(_));
            let planned = dry_run::dry_run(&sfn, &machine, args, if doctor { "doctor" } else { "plan" }).await?;
            print!("{}", dry_run::render_doctor(&planned.doctor));
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
            print!("\n{}", dry_run::render_plan(&planned.plan));
            return Ok(());
        }
        Command::Watch(args) => return commands::watch(&sfn, args).await.map(|_| ()),
        Command::Status { execution_arn } => return commands::status(&sfn, execution_arn).await,
    };
    if let Some(execution_arn) = started {
        commands::watch(
            &sfn,
            &WatchArgs {
                execution_arn,
                interval: 2,
            },
        )
        .await?;
    }
    Ok(())
}
