//! `validate` (epic05): `cross-read`, `persistence` and `report`, each polled until ready.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::Validate).await
}
