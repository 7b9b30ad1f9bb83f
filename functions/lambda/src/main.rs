//! The workflow's one Lambda binary. Every function in `template.yaml` runs this artifact and names
//! its step in `EFS_WORKFLOW_FUNCTION`, so the release build compiles the workflow once instead of
//! once per function, and every function ships the same zip.

use efs_fargate_core::functions::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Checked before anything else: a misnamed function stops at init with the allowed names in
    // its log, instead of failing every invocation.
    let function = Function::from_env().unwrap_or_else(|error| {
        eprintln!("{error}");
        std::process::exit(2)
    });
    efs_fargate_core::functions::serve(function).await
}
