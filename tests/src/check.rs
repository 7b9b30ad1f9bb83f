//! Unwrapping results in tests: SDK errors into panics that say which call failed and why, and
//! workflow errors into the Step Functions error names the tests compare.

use std::error::Error;

use aws_sdk_sts::error::DisplayErrorContext;
use efs_fargate_core::WorkflowError;

/// `result.or_panic("ec2 create_vpc")`: unwraps, or panics with the call's name and the full error
/// chain (the SDK's `Display` alone only says "service error").
pub trait OrPanic<T> {
    fn or_panic(self, call: &str) -> T;
}

impl<T, E: Error> OrPanic<T> for Result<T, E> {
    #[track_caller]
    fn or_panic(self, call: &str) -> T {
        match self {
            Ok(value) => value,
            Err(error) => panic!("{call} failed: {}", DisplayErrorContext(&error)),
        }
    }
}

/// The error a step must have failed with, and its name (`errorType`), which `Retry` and `Catch`
/// match on.
#[track_caller]
pub fn error_name(result: efs_fargate_core::Result<impl std::fmt::Debug>) -> (String, WorkflowError) {
    let err = result.expect_err("expected an error");
    (err.error_type().to_string(), err)
}
