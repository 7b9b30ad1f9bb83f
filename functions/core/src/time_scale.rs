//! How fast time runs for the workflow.

use jiff::Timestamp;
use std::time::Duration;

/// How fast time runs for the workflow: real seconds per simulated second. 1 on AWS; the local
/// stack replays AWS's latencies at e.g. a tenth (`TIME_SCALE`), and every in-function sleep and
/// every elapsed time read from a resource's timestamp is scaled with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeScale {
    /// What one simulated second lasts.
    real_second: Duration,
}

impl Default for TimeScale {
    fn default() -> Self {
        Self {
            real_second: Duration::from_secs(1),
        }
    }
}

impl TimeScale {
    /// `None` unless `scale` is in (0, 1].
    pub fn new(scale: f64) -> Option<Self> {
        (scale.is_finite() && scale > 0.0 && scale <= 1.0).then(|| Self {
            real_second: Duration::from_secs_f64(scale),
        })
    }

    pub fn scale(&self) -> f64 {
        self.real_second.as_secs_f64()
    }

    /// The real duration of `seconds` simulated seconds.
    pub fn real(&self, seconds: f64) -> Duration {
        self.real_second.mul_f64(seconds)
    }

    /// Simulated whole seconds in a real duration.
    pub fn simulated(&self, real: Duration) -> u32 {
        (real.as_secs_f64() / self.scale()) as u32
    }

    /// Simulated whole seconds since `start` (0 if it is in the future: clocks differ).
    pub fn since(&self, start: Timestamp) -> u32 {
        let real = Timestamp::now().duration_since(start);
        Duration::try_from(real).map_or(0, |real| self.simulated(real))
    }

    /// [`Self::since`] for an AWS SDK timestamp (EKS `createdAt`, EFS `CreationTime`).
    pub fn since_smithy(&self, start: &aws_smithy_types::DateTime) -> u32 {
        let nanos = i32::try_from(start.subsec_nanos()).unwrap_or(0);
        Timestamp::new(start.secs(), nanos).map_or(0, |start| self.since(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_scale_converts_both_ways() {
        let tenth = TimeScale::new(0.1).unwrap();
        assert_eq!(tenth.real(150.0), Duration::from_secs(15));
        assert_eq!(tenth.simulated(Duration::from_millis(1_500)), 15);
        assert!(TimeScale::new(0.0).is_none() && TimeScale::new(2.0).is_none());
    }
}
