//! `prepare`: validates the execution input, waits for the cluster, discovers its private subnets
//! and grants the workflow access to the Kubernetes API.

use efs_fargate_core::handler;
use efs_fargate_core::steps::prepare::{PrepareEvent, prepare};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler::run(
        |context, event: PrepareEvent| async move { prepare(&context.clients, &context.settings, event).await },
    )
    .await
}
