//! The efs-fargate-workflow library: everything the Lambda functions do, behind small functions
//! that take their AWS clients as arguments. The one Lambda binary (`functions/lambda`) only picks
//! the function its environment names and serves it with this crate.

pub mod aws;
pub mod ca_bundle;
pub mod clients;
pub mod eks_token;
pub mod error;
pub mod functions;
pub mod handler;
pub mod input;
pub mod k8s;
pub mod lease;
pub mod ledger;
pub mod ownership;
pub mod pacing;
pub mod poll;
pub mod resources;
pub mod rules;
pub mod run;
pub mod settings;
pub mod steps;
pub mod time_scale;

pub use error::{Result, WorkflowError};
