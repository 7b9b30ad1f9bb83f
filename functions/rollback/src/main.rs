//! `rollback`: the provisioning state machine's `Catch` target. Starts the cleanup state machine
//! for the failed run, or keeps everything when the input said `onFailure: retain`.

use efs_fargate_core::handler;
use efs_fargate_core::steps::rollback::{RollbackEvent, rollback};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler::run(|context, event: RollbackEvent| async move {
        rollback(&context.clients.sfn, &context.settings, event).await
    })
    .await
}
