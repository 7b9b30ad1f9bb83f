//! `cleanup` (epic06, AWS part): one action per resource kind, called until `done`.

use efs_fargate_core::handler;
use efs_fargate_core::steps::cleanup::{CleanupEvent, cleanup};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler::run(
        |context, event: CleanupEvent| async move { cleanup(&context.clients, &context.settings, event).await },
    )
    .await
}
