//! Counters that tests read to check what the gateway did.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use efs_fargate_core::functions::Function;

use crate::config::FaultKind;

/// What the gateway has done since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lambda invocations served, by function name.
    pub invocations: BTreeMap<&'static str, u64>,
    /// Real time spent in the handlers (Lambda's billed duration, before any time scale).
    pub handler_time: Duration,
    /// AWS API requests received (every request but Lambda invokes), however answered: moto,
    /// the emulated access entries, an injected fault or a refusal.
    pub aws_calls: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<FaultKind, u64>,
    /// Requests forwarded to moto, by signing service (`-` for unsigned requests).
    pub proxied: BTreeMap<String, u64>,
    /// Fargate profile creates and deletes refused with `ResourceInUseException` (EKS's one
    /// change per cluster, emulated with latency on).
    pub profile_busy: u64,
    /// The functions' calls IAM evaluated against their role's policies (see `crate::iam`).
    pub iam_evaluated: u64,
    /// Of those, the calls IAM denied.
    pub iam_denied: u64,
}

impl Stats {
    pub fn invocations_of(&self, function: Function) -> u64 {
        self.invocations.get(function.name()).copied().unwrap_or(0)
    }

    pub fn faults_of(&self, kind: FaultKind) -> u64 {
        self.faults.get(&kind).copied().unwrap_or(0)
    }

    pub fn faults_total(&self) -> u64 {
        self.faults.values().sum()
    }

    pub fn proxied_to(&self, service: &str) -> u64 {
        self.proxied.get(service).copied().unwrap_or(0)
    }

    pub fn invocations_total(&self) -> u64 {
        self.invocations.values().sum()
    }
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters(Mutex<Stats>);

impl Counters {
    pub(crate) fn invoked(&self, function: Function) {
        *self.lock().invocations.entry(function.name()).or_default() += 1;
    }

    pub(crate) fn aws_call(&self) {
        self.lock().aws_calls += 1;
    }

    pub(crate) fn handled_for(&self, elapsed: Duration) {
        self.lock().handler_time += elapsed;
    }

    pub(crate) fn faulted(&self, kind: FaultKind) {
        *self.lock().faults.entry(kind).or_default() += 1;
    }

    pub(crate) fn profile_busy(&self) {
        self.lock().profile_busy += 1;
    }

    pub(crate) fn iam_evaluated(&self) {
        self.lock().iam_evaluated += 1;
    }

    pub(crate) fn iam_denied(&self) {
        self.lock().iam_denied += 1;
    }

    pub(crate) fn proxied(&self, service: Option<&str>) {
        *self
            .lock()
            .proxied
            .entry(service.unwrap_or("-").to_string())
            .or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        // Counters stay meaningful after a panic elsewhere: every update is a single increment.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
