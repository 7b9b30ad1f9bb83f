//! Serving a function in Lambda: logging set-up, clients and settings built once per cold start.

use crate::clients::AwsClients;
use crate::error::WorkflowError;
use crate::settings::Settings;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;

/// State built once per cold start and shared by every invocation.
pub struct Context {
    pub clients: AwsClients,
    pub settings: Settings,
}

/// Serves one of the workflow's functions as a Lambda function: JSON logs when
/// `AWS_LAMBDA_LOG_FORMAT=JSON`, clients and settings from the environment once per cold start,
/// errors reported with their stable name.
pub async fn serve(function: crate::functions::Function) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let context = Arc::new(Context::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<serde_json::Value>| {
            let context = context.clone();
            async move { function.invoke(&context, event.payload).await }
        },
    ))
    .await
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
