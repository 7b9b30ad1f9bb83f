//! The `Retry` list of every Task: Lambda's own transient errors first, then one retrier per retry
//! class of our errors. The names come from `ErrorName::retry_class` in the core crate; the backoff
//! of each class is defined here, once.

use crate::asl::Retrier;
use efs_fargate_core::error::{ErrorName, RetryClass};
use strum::IntoEnumIterator;

/// Errors of the Lambda service itself (not of our code) that a new invocation usually survives,
/// and a function that ran out of time (`Sandbox.Timedout`; `Lambda.Unknown` on older runtimes):
/// every step is idempotent, so running it again is safe.
const LAMBDA_TRANSIENT: [&str; 7] = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
];

/// Exponential backoff (rate 2, full jitter) from `interval_seconds`, capped at `max_delay_seconds`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub interval_seconds: u32,
    pub max_attempts: u32,
    pub max_delay_seconds: u32,
}

const LAMBDA_BACKOFF: Backoff = Backoff {
    interval_seconds: 1,
    max_attempts: 3,
    max_delay_seconds: 10,
};

fn class_backoff(class: RetryClass) -> Backoff {
    match class {
        RetryClass::Transient => Backoff {
            interval_seconds: 2,
            max_attempts: 5,
            max_delay_seconds: 30,
        },
        RetryClass::Busy => Backoff {
            interval_seconds: 5,
            max_attempts: 10,
            max_delay_seconds: 60,
        },
        // Two slow tries give a just-created access entry about half a minute to propagate.
        RetryClass::AccessPropagation => Backoff {
            interval_seconds: 10,
            max_attempts: 2,
            max_delay_seconds: 30,
        },
    }
}

/// What a Task's call talks to: only calls that reach the Kubernetes API can meet an access entry
/// that has not propagated yet, so only they retry `AccessPropagation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Aws,
    Kubernetes,
}

/// One machine's retry policy: the class backoffs, except for names given a retrier of their own.
#[derive(Default)]
pub struct RetryPolicy {
    own: Vec<(ErrorName, Backoff)>,
}

impl RetryPolicy {
    /// `name` gets its own retrier with `backoff`, placed right after its class's retrier.
    pub fn with_own_retrier(mut self, name: ErrorName, backoff: Backoff) -> Self {
        self.own.push((name, backoff));
        self
    }

    pub fn retriers(&self, reach: Reach) -> Vec<Retrier> {
        let mut retriers = vec![retrier(LAMBDA_TRANSIENT.to_vec(), LAMBDA_BACKOFF)];
        for class in RetryClass::iter() {
            if class == RetryClass::AccessPropagation && reach == Reach::Aws {
                continue;
            }
            let shared: Vec<&'static str> = ErrorName::iter()
                .filter(|name| name.retry_class() == Some(class) && !self.has_own(*name))
                .map(ErrorName::as_str)
                .collect();
            if !shared.is_empty() {
                retriers.push(retrier(shared, class_backoff(class)));
            }
            for (name, backoff) in self.own.iter().filter(|(name, _)| name.retry_class() == Some(class)) {
                retriers.push(retrier(vec![name.as_str()], *backoff));
            }
        }
        retriers
    }

    fn has_own(&self, name: ErrorName) -> bool {
        self.own.iter().any(|(own, _)| *own == name)
    }
}

fn retrier(error_equals: Vec<&'static str>, backoff: Backoff) -> Retrier {
    Retrier {
        error_equals,
        interval_seconds: backoff.interval_seconds,
        max_attempts: backoff.max_attempts,
        backoff_rate: 2,
        max_delay_seconds: backoff.max_delay_seconds,
        jitter_strategy: "FULL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(retriers: &[Retrier]) -> Vec<Vec<&'static str>> {
        retriers.iter().map(|r| r.error_equals.clone()).collect()
    }

    #[test]
    fn access_propagation_is_retried_only_where_kubernetes_is_reached() {
        let policy = RetryPolicy::default();
        let aws = names(&policy.retriers(Reach::Aws));
        let kubernetes = names(&policy.retriers(Reach::Kubernetes));
        assert!(!aws.concat().contains(&"ClusterAuthFailed"));
        assert_eq!(kubernetes.last().unwrap(), &vec!["ClusterAuthFailed"]);
    }

    #[test]
    fn an_own_retrier_follows_its_class_and_leaves_it() {
        let slow = Backoff {
            interval_seconds: 10,
            max_attempts: 20,
            max_delay_seconds: 60,
        };
        let policy = RetryPolicy::default().with_own_retrier(ErrorName::DependencyNotReady, slow);
        let retriers = policy.retriers(Reach::Aws);
        assert_eq!(
            names(&retriers)[2..],
            [vec!["FargateProfileBusy"], vec!["DependencyNotReady"]]
        );
        assert_eq!(retriers[3].max_attempts, 20);
    }
}
