//! The efs-fargate-workflow library: everything the Lambda functions do, behind small functions
//! that take their AWS clients as arguments. The binaries under `functions/` only parse their event
//! and call one function of this crate.

pub mod clients;
pub mod error;
pub mod handler;
pub mod input;
pub mod ownership;
pub mod run;
pub mod settings;
pub mod steps;

pub use error::{Result, WorkflowError};
