//! `efs` (epic02): `create` finds or creates the KMS key, file system, security group and mount
//! targets; `status` converges and reports when every mount target is available.

use efs_fargate_core::handler;
use efs_fargate_core::run::StepEvent;
use efs_fargate_core::steps::efs::{EfsAction, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler::run(|context, event: StepEvent<EfsAction>| async move {
        handle(&context.clients, &context.settings, event).await
    })
    .await
}
