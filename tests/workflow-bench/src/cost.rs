//! What a run costs on AWS at list prices (us-east-1): Step Functions Standard bills state
//! transitions, Lambda requests and GB-seconds (arm64).

use serde::Serialize;

/// Step Functions Standard, per state transition.
const PER_TRANSITION: f64 = 0.000_025;
/// Lambda, per request.
const PER_REQUEST: f64 = 0.000_000_2;
/// Lambda arm64, per GB-second.
const PER_GB_SECOND: f64 = 0.000_013_333_4;
/// `MemorySize` of the functions in template.yaml's Globals.
pub const MEMORY_GB: f64 = 0.25;

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub step_functions_usd: f64,
    pub lambda_usd: f64,
}

impl Cost {
    pub fn of(transitions: usize, invocations: u64, lambda_seconds: f64) -> Self {
        Self {
            step_functions_usd: transitions as f64 * PER_TRANSITION,
            lambda_usd: invocations as f64 * PER_REQUEST + lambda_seconds * MEMORY_GB * PER_GB_SECOND,
        }
    }

    pub fn total(&self) -> f64 {
        self.step_functions_usd + self.lambda_usd
    }
}
