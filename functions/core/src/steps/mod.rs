//! One module per workflow step; each exposes async functions that take their clients as arguments.

pub mod bootstrap;
pub mod cleanup;
pub mod cluster_lease;
pub mod doctor;
pub mod efs;
pub mod expiry;
pub mod fargate;
pub mod k8s;
pub mod network;
pub mod plan;
pub mod prepare;
pub mod profile_lease;
pub mod reaper;
pub mod rollback;
pub mod run_lease;
pub mod storage_class;
