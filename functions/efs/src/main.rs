//! `efs` (epic02): `create` finds or creates the KMS key, file system, security group and mount
//! targets; `status` converges and reports when every mount target is available.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::Efs).await
}
