//! What every function shares in Lambda: clients and settings built once per cold start, and the
//! parsing of its event.

use crate::clients::AwsClients;
use crate::error::WorkflowError;
use crate::settings::Settings;
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;

/// State built once per cold start and shared by every invocation.
pub struct Context {
    pub clients: AwsClients,
    pub settings: Settings,
}

impl Context {
    /// Clients and settings from the environment, once per cold start.
    pub async fn from_env() -> Result<Self, WorkflowError> {
        Ok(Self {
            clients: AwsClients::from_env().await,
            settings: Settings::from_env()?,
        })
    }
}

/// Parses the payload (a malformed event is `InvalidInput`, naming the field) and runs the step.
pub async fn invoke<E, O, F, Fut>(
    context: &Arc<Context>,
    step: &F,
    payload: serde_json::Value,
) -> Result<serde_json::Value, Diagnostic>
where
    E: DeserializeOwned,
    O: Serialize,
    F: Fn(Arc<Context>, E) -> Fut,
    Fut: Future<Output = Result<O, WorkflowError>>,
{
    let event: E = serde_path_to_error::deserialize(payload).map_err(|e| {
        let field = e.path().to_string();
        WorkflowError::invalid(
            if field == "." { "(event)".into() } else { field },
            e.into_inner().to_string(),
        )
    })?;
    // Boxed: the SDK futures nest deeply enough to overflow rustc's layout recursion limit otherwise.
    let output = Box::pin(step(context.clone(), event)).await.inspect_err(|e| {
        tracing::error!(error_type = e.error_type(), error = %e, "step failed");
    })?;
    Ok(serde_json::to_value(output).expect("step outputs serialize to JSON"))
}
