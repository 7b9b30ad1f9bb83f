//! `poc-app` (epic04): `create` and `status` converge the static PV, its claim and pods
//! `poc-app1`/`poc-app2`, and report when both pods are Running or why not.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::PocApp).await
}
