//! The local gateway against moto: Lambda invokes served in-process, proxying, fault and latency
//! injection, and moto's Step Functions engine calling the handlers through the gateway. One test
//! binary, so one shared moto server (`workflow_tests::moto()` serialises the tests that use it).

mod faults;
mod invoke;
mod latency;
mod proxy;
mod step_functions;
mod support;
