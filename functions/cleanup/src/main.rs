//! `cleanup` (epic06): one action per resource kind (`kubernetes` first), called until `done`.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    efs_fargate_core::handler::serve(Function::Cleanup).await
}
