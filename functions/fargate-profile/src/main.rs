//! `fargate-profile` (epic01): `create` ensures the namespace and finds or creates `fp-<namespace>`;
//! `status` polls the profile.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::FargateProfile).await
}
