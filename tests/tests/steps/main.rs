//! Every step against moto and the fake Kubernetes API server, one module per subject. One test
//! binary, so the workflow is linked once for all of them (not once per file) and they share one
//! moto server (`workflow_tests::moto()` serialises the tests that use it).

mod bad_inputs;
mod cleanup_aws;
mod harness;
mod kube_auth;
mod kube_cleanup;
mod kube_insights;
mod kube_plan;
mod kube_provision;
mod kube_storage;
mod kube_validate;
mod lease;
mod ledger;
mod provision_aws;
mod reaper;
mod rollback;
