//! Each AWS-side step against moto: what exists afterwards, and that running it again creates
//! nothing new and returns the same ids.

mod access_point;
mod alarms;
mod doctor;
mod efs;
mod fargate;
mod file_system_options;
mod plan;
mod prepare;

use efs_fargate_core::run::Run;

/// The ids of the private subnets `prepare` found for `run`, sorted.
fn private_subnet_ids(run: &Run) -> Vec<String> {
    let mut ids: Vec<String> = run
        .network
        .private_subnets
        .iter()
        .map(|s| s.subnet_id.clone())
        .collect();
    ids.sort();
    ids
}
