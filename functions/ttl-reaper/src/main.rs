//! `ttl-reaper`: on a schedule, starts the cleanup state machine for every run whose TTL has passed.

use efs_fargate_core::handler;
use efs_fargate_core::steps::reaper::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler::run(|context, _scheduled_event: serde_json::Value| async move {
        handle(&context.clients, &context.settings).await
    })
    .await
}
