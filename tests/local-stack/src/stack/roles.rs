//! The functions' roles on the stack: their policies from the template, resolved against the
//! stack's names for its resources, and each function's clients signed with its role's key.

use super::{STATE_MACHINES, StackError, StackOptions, state_machine_arn};
use crate::RoleKeys;
use crate::template::Template;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::functions::Function;
use efs_fargate_core::handler::Context;
use efs_fargate_core::settings::Settings;
use std::sync::Arc;
use workflow_tests::{ACCOUNT_ID, LEASE_TABLE, LEDGER_TABLE, POD_ROLE, REGION};

/// The template's function roles as the stack enforces them: their policies resolved against the
/// stack's names for the template's resources, less the statements `options` revokes.
pub(super) fn function_roles(template: &Template, options: &StackOptions) -> Result<RoleKeys, StackError> {
    let table_arn = |name: &str| format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}");
    let mut names: crate::template::Names = [
        ("AWS::Partition", "aws".to_string()),
        ("AWS::Region", REGION.to_string()),
        ("AWS::AccountId", ACCOUNT_ID.to_string()),
        ("AWS::StackName", "efs-fargate-workflow".to_string()),
        ("PodExecutionRole.Arn", POD_ROLE.to_string()),
        (
            "ContainerInsightsBoundary",
            workflow_tests::INSIGHTS_BOUNDARY.to_string(),
        ),
        ("LedgerTable", LEDGER_TABLE.to_string()),
        ("LedgerTable.Arn", table_arn(LEDGER_TABLE)),
        ("LeaseTable", LEASE_TABLE.to_string()),
        ("LeaseTable.Arn", table_arn(LEASE_TABLE)),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    for (logical_id, name) in STATE_MACHINES {
        names.insert(logical_id.to_string(), state_machine_arn(name));
        names.insert(format!("{logical_id}.Arn"), state_machine_arn(name));
        names.insert(format!("{logical_id}.Name"), name.to_string());
    }
    let mut roles = RoleKeys::from_template(template, names)?;
    for (role, sid) in &options.revoked_statements {
        roles = roles.without_statement(role, sid);
    }
    for (role, statement) in &options.granted_statements {
        roles = roles.with_statement(role, statement.clone());
    }
    Ok(roles)
}

/// Each function's context: the stack's settings, and clients signed with its role's key.
pub(super) fn function_contexts(
    roles: &RoleKeys,
    gateway_config: &aws_config::SdkConfig,
    settings: &Settings,
) -> Vec<(Function, Arc<Context>)> {
    let mut contexts = Vec::new();
    for role in roles.roles() {
        let credentials = aws_sdk_sfn::config::Credentials::new(
            &role.access_key_id,
            &role.secret_access_key,
            None,
            None,
            "local-stack-role",
        );
        let config = gateway_config
            .to_builder()
            .credentials_provider(aws_sdk_sfn::config::SharedCredentialsProvider::new(credentials))
            .build();
        let context = Arc::new(Context {
            clients: AwsClients::new(&config),
            settings: settings.clone(),
        });
        for function in role.functions.iter().filter_map(|name| Function::from_name(name)) {
            contexts.push((function, context.clone()));
        }
    }
    contexts
}
