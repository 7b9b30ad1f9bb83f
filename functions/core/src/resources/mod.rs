//! One module per kind of resource the workflow creates: how it is found, the one pure decision
//! about it that the plan, the doctor and the step all call, how it is made and recorded in the
//! ledger, and how it is removed (only when the ledger records it as ours). The steps compose them.

pub mod access_entry;
pub mod access_point;
pub mod admission_policy;
pub mod alarms;
pub mod bootstrap_grant;
pub mod collector;
pub mod fargate_profile;
pub mod file_system;
pub mod kms_key;
pub mod kube_object;
pub mod logging;
pub mod mount_targets;
pub mod namespace;
pub mod namespace_access;
pub mod rbac;
mod recorder;
mod removal;
pub mod replication;
pub mod security_group;
pub mod shared;
pub mod storage_objects;
pub mod workload;

pub use crate::ledger::Kind;
pub use recorder::Recorder;
pub use removal::{CleanupScope, NOT_RECORDED, Removal, kept, records};
