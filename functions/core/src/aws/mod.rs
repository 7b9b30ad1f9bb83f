//! The AWS calls the steps make, one small function each: listings collected across pages, the
//! service's "not found" answer turned into `None` (or `false`), and service errors classified into
//! [`WorkflowError`] once. The steps above hold only the workflow's decisions.

pub mod cloudwatch;
pub mod ec2;
pub mod efs;
pub mod eks;
pub mod iam;
pub mod kms;

use crate::error::{Result, WorkflowError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;

/// `Ok(None)` when the service answers that the resource does not exist.
pub(crate) fn found<T, E, R>(
    result: std::result::Result<T, SdkError<E, R>>,
    operation: &str,
    is_not_found: impl FnOnce(&E) -> bool,
) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.as_service_error().is_some_and(is_not_found) => Ok(None),
        Err(e) => Err(WorkflowError::from_sdk(operation, e)),
    }
}

/// Every item of a paginated listing (`client.list_x().into_paginator().items().send().collect()`).
pub(crate) async fn all<T, E, R>(
    pages: impl Future<Output = std::result::Result<Vec<T>, SdkError<E, R>>>,
    operation: &str,
) -> Result<Vec<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    pages.await.map_err(|e| WorkflowError::from_sdk(operation, e))
}

/// The error code of a service error (EC2 and EKS signal several conditions only by code).
pub(crate) fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error.as_service_error().and_then(|e| e.code())
}

/// The service's message, for errors that quote it.
pub(crate) fn message<'a, E: ProvideErrorMetadata, R>(error: &'a SdkError<E, R>, default: &'a str) -> String {
    error
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or(default)
        .to_string()
}
