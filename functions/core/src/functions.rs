//! The workflow's Lambda functions by name: what the one Lambda binary serves (chosen by
//! [`FUNCTION_ENV`]), and what the local gateway invokes in-process for moto's Step Functions
//! engine. One table, so both run the same code.

use crate::handler::{Context, invoke};
use crate::steps::k8s::{poc_app, validate};
use crate::steps::{cleanup, efs, fargate, prepare, reaper, rollback, storage_class};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

/// The workflow's one Lambda binary (`functions/lambda`): what every function in `template.yaml`
/// runs (`Metadata.BuildProperties.Binary`).
pub const LAMBDA_BINARY: &str = "efs-workflow-lambda";

/// The environment variable that names the function the Lambda binary serves: every function in
/// `template.yaml` runs the same artifact and sets it to its [`Function::name`].
pub const FUNCTION_ENV: &str = "EFS_WORKFLOW_FUNCTION";

/// Why the Lambda binary cannot tell which function to serve (a deployment error: the process
/// stops before it polls the Runtime API).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FunctionSelectError {
    #[error("{env} is not set: set it to one of {allowed} (template.yaml sets it on every function)", env = FUNCTION_ENV, allowed = allowed_names())]
    Missing,
    #[error("{env}={0:?} names no function of the workflow: set it to one of {allowed}", env = FUNCTION_ENV, allowed = allowed_names())]
    Unknown(String),
}

fn allowed_names() -> String {
    Function::ALL.map(Function::name).join(", ")
}

/// Serves one of the workflow's functions as a Lambda function: JSON logs when
/// `AWS_LAMBDA_LOG_FORMAT=JSON`, clients and settings from the environment once per cold start,
/// errors reported with their stable name.
pub async fn serve(function: Function) -> Result<(), lambda_runtime::Error> {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Prepare,
    FargateProfile,
    Efs,
    StorageClass,
    PocApp,
    Validate,
    Cleanup,
    Rollback,
    TtlReaper,
}

impl Function {
    pub const ALL: [Function; 9] = [
        Function::Prepare,
        Function::FargateProfile,
        Function::Efs,
        Function::StorageClass,
        Function::PocApp,
        Function::Validate,
        Function::Cleanup,
        Function::Rollback,
        Function::TtlReaper,
    ];

    /// The function's name: the value of [`FUNCTION_ENV`] that selects it, and what the local
    /// gateway's Invoke API answers to.
    pub fn name(self) -> &'static str {
        match self {
            Function::Prepare => "prepare",
            Function::FargateProfile => "fargate-profile",
            Function::Efs => "efs",
            Function::StorageClass => "storage-class",
            Function::PocApp => "poc-app",
            Function::Validate => "validate",
            Function::Cleanup => "cleanup",
            Function::Rollback => "rollback",
            Function::TtlReaper => "ttl-reaper",
        }
    }

    /// The `${XxxFunctionArn}` placeholder the state machine definitions use for this function,
    /// filled by `DefinitionSubstitutions` in `template.yaml` and by the local stack.
    pub fn arn_placeholder(self) -> String {
        let pascal_case: String = self
            .name()
            .split('-')
            .map(|part| part[..1].to_uppercase() + &part[1..])
            .collect();
        format!("${{{pascal_case}FunctionArn}}")
    }

    /// Accepts a plain name, or a function ARN (optionally qualified), as Lambda Invoke does.
    pub fn from_name(name_or_arn: &str) -> Option<Self> {
        let name = match name_or_arn.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or_default(),
            None => name_or_arn,
        };
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The function [`FUNCTION_ENV`] names (a plain name, exactly as [`Function::name`] spells it).
    pub fn from_env() -> Result<Self, FunctionSelectError> {
        Self::select(std::env::var_os(FUNCTION_ENV).map(|v| v.to_string_lossy().into_owned()))
    }

    fn select(value: Option<String>) -> Result<Self, FunctionSelectError> {
        let value = value.ok_or(FunctionSelectError::Missing)?;
        Self::ALL
            .into_iter()
            .find(|f| f.name() == value)
            .ok_or(FunctionSelectError::Unknown(value))
    }

    /// Runs the function on one event.
    pub async fn invoke(self, context: &Arc<Context>, payload: Value) -> Result<Value, Diagnostic> {
        /// Every step is `handle(&clients, &settings, event)`: one arm per function, same body.
        macro_rules! dispatch {
            ($($function:ident => $handle:path),* $(,)?) => {
                match self {
                    $(Function::$function => {
                        invoke(context, &|c: Arc<Context>, e| async move { $handle(&c.clients, &c.settings, e).await }, payload).await
                    })*
                }
            };
        }
        dispatch!(
            Prepare => prepare::handle,
            FargateProfile => fargate::handle,
            Efs => efs::handle,
            StorageClass => storage_class::handle,
            PocApp => poc_app::handle,
            Validate => validate::handle,
            Cleanup => cleanup::handle,
            Rollback => rollback::handle,
            TtlReaper => reaper::handle,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_resolve() {
        for function in Function::ALL {
            assert_eq!(Function::from_name(function.name()), Some(function));
        }
        assert_eq!(
            Function::from_name("arn:aws:lambda:us-east-1:123456789012:function:efs"),
            Some(Function::Efs)
        );
        assert_eq!(
            Function::from_name("arn:aws:lambda:us-east-1:123456789012:function:prepare:live"),
            Some(Function::Prepare)
        );
        assert_eq!(Function::from_name("unknown"), None);
    }

    #[test]
    fn the_environment_selects_a_function_by_its_plain_name() {
        for function in Function::ALL {
            assert_eq!(Function::select(Some(function.name().into())), Ok(function));
        }
        assert_eq!(Function::select(None), Err(FunctionSelectError::Missing));
        // An ARN is what Invoke accepts, not what the deployment sets.
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:efs".to_string();
        assert_eq!(
            Function::select(Some(arn.clone())),
            Err(FunctionSelectError::Unknown(arn))
        );
        let message = Function::select(Some("Prepare".into())).unwrap_err().to_string();
        assert_eq!(
            message,
            "EFS_WORKFLOW_FUNCTION=\"Prepare\" names no function of the workflow: set it to one of prepare, \
             fargate-profile, efs, storage-class, poc-app, validate, cleanup, rollback, ttl-reaper"
        );
        assert!(
            FunctionSelectError::Missing
                .to_string()
                .starts_with("EFS_WORKFLOW_FUNCTION is not set: set it to one of prepare, ")
        );
    }

    #[test]
    fn placeholders_are_the_template_substitution_names() {
        assert_eq!(
            Function::FargateProfile.arn_placeholder(),
            "${FargateProfileFunctionArn}"
        );
        assert_eq!(Function::TtlReaper.arn_placeholder(), "${TtlReaperFunctionArn}");
    }
}
