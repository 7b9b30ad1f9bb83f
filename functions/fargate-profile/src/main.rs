//! `fargate-profile` (epic01, AWS part): `create` finds or creates `fp-<namespace>`, `status` polls it.

use efs_fargate_core::handler;
use efs_fargate_core::run::StepEvent;
use efs_fargate_core::steps::fargate::{FargateAction, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler::run(|context, event: StepEvent<FargateAction>| async move {
        handle(&context.clients, &context.settings, event).await
    })
    .await
}
