//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Start and follow efs-fargate-workflow executions. The same commands work against AWS and the
/// local stack; only `AWS_ENDPOINT_URL` differs.
#[derive(Debug, Parser)]
#[command(name = "efs-workflow", version, after_help = crate::error::EXIT_CODES)]
pub struct Cli {
    /// ARN of the provisioning state machine (stack output `ProvisionStateMachineArn`).
    #[arg(long, env = "EFS_WORKFLOW_PROVISION_ARN", global = true)]
    pub provision_state_machine: Option<String>,
    /// ARN of the cleanup state machine (stack output `CleanupStateMachineArn`).
    #[arg(long, env = "EFS_WORKFLOW_CLEANUP_ARN", global = true)]
    pub cleanup_state_machine: Option<String>,
    /// The AWS region of the deployment (default: the SDK's, from AWS_REGION or the profile).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// A named profile of the AWS config files (default: AWS_PROFILE, else `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// `text` for people; `json` for scripts: one JSON document on stdout, no progress display.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start provisioning EFS storage for a cluster namespace.
    Start(StartArgs),
    /// Follow an execution live until it ends, then print a summary.
    Watch(WatchArgs),
    /// Print an execution's status and output.
    Status { execution_arn: String },
    /// Start the cleanup of a cluster namespace.
    Cleanup(CleanupArgs),
    /// What a run with this input would create, reuse, adopt or refuse, changing nothing (a
    /// dry-run execution: `dryRun: true`). Takes the same flags as `start`.
    Plan(StartArgs),
    /// Check a cluster for everything that would make a run fail (a dry-run execution); exits
    /// non-zero when a check fails. Takes the same flags as `start`.
    Doctor(StartArgs),
    /// The latest executions (provisioning and cleanup) of a cluster, or of one of its namespaces.
    List(ListArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The EKS cluster.
    #[arg(long)]
    pub cluster: String,
    /// Only this namespace's executions.
    #[arg(long)]
    pub namespace: Option<String>,
    /// How many of each state machine's latest executions to look at.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub limit: i32,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// A JSON execution input file (see events/console/); the input flags below are refused with it.
    #[arg(long, conflicts_with_all = ["cluster", "namespace", "ttl", "retention", "kms_key_alias", "no_poc_app", "retain_on_failure", "pod_execution_role_arn", "container_insights"])]
    pub input: Option<PathBuf>,
    /// The EKS cluster.
    #[arg(long, required_unless_present = "input")]
    pub cluster: Option<String>,
    #[arg(long)]
    pub namespace: Option<String>,
    /// ISO-8601 duration after which the TTL reaper cleans up, e.g. PT8H. With the default
    /// retention (`delete`) that cleanup deletes the file system and its data: see --retention.
    #[arg(long)]
    pub ttl: Option<String>,
    /// What cleanups do with the file system and its data (`fileSystem.retention`): `delete` (the
    /// default) or `retain` (kept and reported, for a person to delete).
    #[arg(long, value_parser = ["delete", "retain"])]
    pub retention: Option<String>,
    /// Encrypt with this customer-managed key (created when missing) instead of the AWS-managed one.
    #[arg(long)]
    pub kms_key_alias: Option<String>,
    #[arg(long)]
    pub pod_execution_role_arn: Option<String>,
    /// Do not deploy and validate the proof-of-concept workloads.
    #[arg(long)]
    pub no_poc_app: bool,
    /// Keep what was created when a step fails, instead of rolling back.
    #[arg(long)]
    pub retain_on_failure: bool,
    /// Run a Container Insights collector in the namespace (`monitoring.containerInsights`).
    #[arg(long)]
    pub container_insights: bool,
    /// Execution name (default: provision-<hash of cluster and namespace>-<namespace>-<UTC time>).
    #[arg(long)]
    pub name: Option<String>,
    /// Follow the execution after starting it.
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    pub execution_arn: String,
    /// Seconds between history polls.
    #[arg(long, default_value_t = 2)]
    pub interval: u64,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The EKS cluster.
    #[arg(long)]
    pub cluster: String,
    /// The namespace to clean up: always named, never a default, since cleanup deletes.
    #[arg(long)]
    pub namespace: String,
    /// Confirm without asking: what the workflow recorded for this namespace is deleted (a file
    /// system with `retention: retain` is kept). Needed when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Follow the execution after starting it.
    #[arg(long)]
    pub watch: bool,
}
