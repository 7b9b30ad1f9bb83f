//! Turning SDK errors into panics that say which call failed and why.

use std::error::Error;

use aws_sdk_sts::error::DisplayErrorContext;

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
