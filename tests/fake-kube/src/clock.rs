//! The cluster's simulated clock: it starts at the real time and runs `1 / time_scale` times as
//! fast, so with `time_scale = 0.05` a container's `sleep 5` takes 250 ms of real time and
//! `$(date -u)` moves on by 5 s.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct SimClock {
    started_real: Instant,
    started_simulated: Timestamp,
    time_scale: f64,
}

impl SimClock {
    /// `time_scale` is real seconds per simulated second (checked positive and finite by the config).
    pub fn new(time_scale: f64) -> Self {
        Self {
            started_real: Instant::now(),
            started_simulated: Timestamp::now(),
            time_scale,
        }
    }

    /// The simulated now.
    pub fn now(&self) -> Timestamp {
        let simulated = self.started_real.elapsed().div_f64(self.time_scale);
        let simulated = SignedDuration::try_from(simulated).unwrap_or(SignedDuration::MAX);
        self.started_simulated
            .saturating_add(simulated)
            .unwrap_or(Timestamp::MAX)
    }

    /// Waits `simulated` of simulated time.
    pub async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.real_duration(simulated)).await;
    }

    /// How long `simulated` lasts in real time.
    pub fn real_duration(&self, simulated: Duration) -> Duration {
        simulated.mul_f64(self.time_scale)
    }

    /// Like busybox `date -u`: `Wed Nov 25 10:00:00 UTC 2026`.
    pub fn date_u(&self) -> String {
        self.now().strftime("%a %b %e %H:%M:%S UTC %Y").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn simulated_time_runs_faster_by_the_time_scale() {
        let clock = SimClock::new(0.01);
        let before = clock.now();
        let real = std::time::Instant::now();
        clock.sleep(Duration::from_secs(2)).await;
        assert!(
            real.elapsed() < Duration::from_millis(500),
            "2 s simulated took {:?}",
            real.elapsed()
        );
        assert!(clock.now().duration_since(before) >= SignedDuration::from_secs(2));
    }

    #[test]
    fn date_looks_like_busybox() {
        let date = SimClock::new(1.0).date_u();
        let words: Vec<&str> = date.split_whitespace().collect();
        assert_eq!(words.len(), 6, "{date}");
        assert_eq!(words[4], "UTC");
    }
}
