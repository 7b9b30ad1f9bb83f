//! `rollback`: the provisioning state machine's `Catch` target. Starts the cleanup state machine
//! for the failed run, or keeps everything when the input said `onFailure: retain`.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::Rollback).await
}
