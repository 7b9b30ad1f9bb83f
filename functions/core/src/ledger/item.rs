//! Reading and writing ledger items' attributes, and classifying DynamoDB's answers.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{Result, WorkflowError};

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute; `None` when absent.
pub(super) fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// A required string attribute.
pub(super) fn req_s(item: &Item, name: &str) -> Result<String> {
    get_s(item, name).ok_or_else(|| malformed(item, &format!("has no string `{name}`")))
}

/// A required number attribute.
pub(super) fn req_n(item: &Item, name: &str) -> Result<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| malformed(item, &format!("has no number `{name}`")))
}

pub(super) fn get_bool(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}

/// An item the workflow did not write as it reads it: a person edited the table, or an older
/// version wrote it. Never guessed around: the step fails and says which item.
pub(super) fn malformed(item: &Item, detail: &str) -> WorkflowError {
    WorkflowError::AwsApiError {
        operation: "ReadLedger".into(),
        code: "MalformedLedgerItem".into(),
        message: format!(
            "ledger item {} / {} {detail}; restore it from the table's point-in-time recovery or delete it by hand",
            get_s(item, "pk").unwrap_or_default(),
            get_s(item, "sk").unwrap_or_default()
        ),
    }
}

/// For a failed conditional write: `Ok(Some(item))` when the condition failed on an existing item
/// (returned with `ALL_OLD`), `Ok(None)` when it failed on a missing one, and any other error
/// mapped by [`WorkflowError::from_sdk`].
pub(super) fn condition_failed<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    check_failed: impl Fn(&E) -> Option<Option<&Item>>,
) -> Result<Option<Item>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err.as_service_error().and_then(check_failed) {
        Some(item) => Ok(item.cloned()),
        None => Err(WorkflowError::from_sdk(operation, err)),
    }
}

/// An `UpdateItem` whose condition may fail: `Ok(true)` when it wrote, `Ok(false)` when the
/// condition did not hold.
pub(super) fn updated<O>(
    result: std::result::Result<O, SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, HttpResponse>>,
) -> Result<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(WorkflowError::from_sdk("dynamodb:UpdateItem", e)),
    }
}
