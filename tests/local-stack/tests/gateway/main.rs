//! The local gateway against moto: Lambda invokes served in-process, proxying, fault and latency
//! injection, the emulated EKS access entries, moto's Step Functions engine calling the handlers
//! through the gateway, the event bus invoking functions through it, and the status-change events
//! the stack emits for moto's executions. One test binary, so one shared moto server
//! (`workflow_tests::moto()` serialises the tests that use it).

mod access_config;
mod access_entries;
mod access_errors;
mod access_pagination;
mod access_support;
mod doctor;
mod event_delivery;
mod faults;
mod invoke;
mod latency;
mod proxy;
mod status_changes;
mod step_functions;
mod support;
