//! End to end through moto's Step Functions engine: the real ASL files, the real handlers behind the
//! local gateway, the fake Kubernetes API server. One stack per test, one test at a time (the
//! engine's waits are real time, so parallel stacks would only fight over two cores).

mod bootstrap_grant;
mod cluster_rights;
mod data_safety;
mod dry_run;
mod failures;
mod happy_path;
mod iam;
mod iam_roles;
mod least_privilege;
mod paced;
mod resilience;
mod serialised;
mod shared_cluster;
mod stopped_run;
mod support;
mod triggers;
