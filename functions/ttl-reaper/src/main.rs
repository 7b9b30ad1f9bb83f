//! `ttl-reaper`: on a schedule, starts the cleanup state machine for every run whose TTL has passed.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::TtlReaper).await
}
