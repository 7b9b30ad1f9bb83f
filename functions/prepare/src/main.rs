//! `prepare`: validates the execution input, waits for the cluster, discovers its private subnets
//! and grants the workflow access to the Kubernetes API.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::Prepare).await
}
