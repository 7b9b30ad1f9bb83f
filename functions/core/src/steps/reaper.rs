//! The TTL reaper: finds namespaces whose expiry, as the ledger records it, has passed, and starts
//! the cleanup state machine for each, under an execution name derived from the namespace, its
//! expiry and the attempt, so a second sweep never starts a second cleanup for the same expiry,
//! while a failed cleanup is started again (with backoff, a bounded number of times, then the
//! alarm). Each cleanup carries the generation it expires, so a run that re-provisioned the
//! namespace in the meantime (and set its own expiry) supersedes it. Tags are never read: a forged
//! `expires-at` tag starts nothing. The sweep also revokes bootstrap grants left standing.

use crate::error::{Result, WorkflowError};
use crate::ledger::{Header, Ledger};
use crate::ownership::Owner;
use crate::resources::bootstrap_grant;
use crate::steps::cleanup::{CleanupRequest, Started, start_cleanup};
use crate::steps::rollback::execution_arn;
use aws_sdk_sfn::types::ExecutionStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One expired namespace, as the ledger tells it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredRun {
    pub cluster_name: String,
    pub namespace: String,
    pub expires_at: String,
    /// The namespace's generation when it expired.
    pub generation: u64,
    pub execution_name: String,
    /// Which cleanup attempt the execution name stands for (1 = the first).
    pub attempt: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Cleanups this sweep started.
    pub started: Vec<ExpiredRun>,
    /// Expired namespaces whose cleanup an earlier sweep already started.
    pub already_started: Vec<ExpiredRun>,
    /// Expired namespaces whose last cleanup failed, waiting for the backoff before the next attempt.
    pub waiting_to_retry: Vec<ExpiredRun>,
    /// Expired namespaces whose every cleanup attempt failed: a person must look.
    pub gave_up: Vec<ExpiredRun>,
    /// Bootstrap grants left standing by runs that ended (or outlived a run's lifetime), revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_grants: Vec<String>,
}

/// The expired namespaces among the ledger's headers.
pub fn expired_runs(headers: &[Header], now: Timestamp) -> Result<Vec<ExpiredRun>> {
    let mut expired = Vec::new();
    for header in headers {
        let (Some(deadline), Some(expires_at)) = (header.expiry()?, &header.expires_at) else {
            continue;
        };
        if deadline > now {
            continue;
        }
        expired.push(ExpiredRun {
            cluster_name: header.cluster.clone(),
            namespace: header.namespace.clone(),
            expires_at: expires_at.clone(),
            generation: header.generation,
            execution_name: execution_name(&header.cluster, &header.namespace, expires_at, 1),
            attempt: 1,
        });
    }
    expired.sort();
    Ok(expired)
}

/// How many cleanups the reaper starts for one expired run before it gives up and raises the alarm.
pub const MAX_CLEANUP_ATTEMPTS: u32 = 5;
/// The wait after a failed cleanup before the next attempt, doubled per attempt (15 min, 30 min, ...).
const FIRST_RETRY_DELAY_SECONDS: i64 = 15 * 60;
const MAX_RETRY_DELAY_SECONDS: i64 = 4 * 60 * 60;

/// `ttl-<hash>-<namespace>` for the first attempt, `...-a<n>` for later ones, at most 80
/// characters: deterministic per run, expiry and attempt, so a sweep never starts one twice.
pub fn execution_name(cluster: &str, namespace: &str, expires_at: &str, attempt: u32) -> String {
    let hash = Owner::new(cluster, format!("{namespace}@{expires_at}")).short_hash();
    let suffix = if attempt <= 1 {
        String::new()
    } else {
        format!("-a{attempt}")
    };
    let base: String = format!("ttl-{hash}-{namespace}")
        .chars()
        .take(80 - suffix.len())
        .collect();
    base + &suffix
}

/// How long to wait after the failed attempt `attempt - 1` before starting `attempt`.
fn retry_delay_seconds(attempt: u32) -> i64 {
    let doublings = attempt.saturating_sub(2).min(16);
    (FIRST_RETRY_DELAY_SECONDS << doublings).min(MAX_RETRY_DELAY_SECONDS)
}

/// Where a run's cleanup attempts stand.
enum Attempts {
    /// Attempt `n` may start now.
    Start(u32),
    /// An attempt is running or has succeeded.
    InHand,
    /// Attempt `n` failed at this instant; the next one waits for its backoff.
    Backoff { failed_at: Timestamp, next: u32 },
    /// Every attempt failed.
    Exhausted,
}

async fn attempts(sfn: &aws_sdk_sfn::Client, arn: &str, run: &ExpiredRun, now: Timestamp) -> Result<Attempts> {
    let mut failed_at: Option<Timestamp> = None;
    for attempt in 1..=MAX_CLEANUP_ATTEMPTS {
        let name = execution_name(&run.cluster_name, &run.namespace, &run.expires_at, attempt);
        let described = sfn
            .describe_execution()
            .execution_arn(execution_arn(arn, &name))
            .send()
            .await;
        let execution = match described {
            Ok(execution) => execution,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_does_not_exist()) => {
                return Ok(match failed_at {
                    Some(failed_at) if now.as_second() - failed_at.as_second() < retry_delay_seconds(attempt) => {
                        Attempts::Backoff {
                            failed_at,
                            next: attempt,
                        }
                    }
                    _ => Attempts::Start(attempt),
                });
            }
            Err(e) => return Err(WorkflowError::from_sdk("states:DescribeExecution", e)),
        };
        match execution.status() {
            ExecutionStatus::Failed | ExecutionStatus::TimedOut | ExecutionStatus::Aborted => {
                failed_at = Some(
                    execution
                        .stop_date()
                        .and_then(|d| Timestamp::from_second(d.secs()).ok())
                        .unwrap_or(now),
                );
            }
            _ => return Ok(Attempts::InHand),
        }
    }
    Ok(Attempts::Exhausted)
}

/// The `ttl-reaper` function, run on a schedule (its event carries nothing it needs).
pub async fn handle(
    clients: &crate::clients::AwsClients,
    settings: &crate::settings::Settings,
    _scheduled: serde_json::Value,
) -> Result<SweepReport> {
    let arn = settings.cleanup_state_machine_arn.as_deref().ok_or_else(|| {
        WorkflowError::invalid(
            "CLEANUP_STATE_MACHINE_ARN",
            "must be set to the cleanup state machine's ARN",
        )
    })?;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let report = sweep(&ledger, &clients.eks, &clients.sfn, arn, Timestamp::now()).await?;
    if report.gave_up.is_empty() {
        return Ok(report);
    }
    // An error, after every other run was handled: the function's Errors alarm tells a person.
    Err(WorkflowError::CleanupAbandoned {
        runs: report
            .gave_up
            .iter()
            .map(|r| format!("{}/{}", r.cluster_name, r.namespace))
            .collect::<Vec<_>>()
            .join(", "),
        attempts: MAX_CLEANUP_ATTEMPTS,
    })
}

/// Starts the next cleanup of every expired namespace that has none running or succeeded: the
/// first, or after a failed one (and its backoff) the next numbered attempt, up to
/// [`MAX_CLEANUP_ATTEMPTS`]; then revokes the bootstrap grants left standing.
pub async fn sweep(
    ledger: &Ledger,
    eks: &aws_sdk_eks::Client,
    sfn: &aws_sdk_sfn::Client,
    cleanup_state_machine_arn: &str,
    now: Timestamp,
) -> Result<SweepReport> {
    let expired = expired_runs(&ledger.expired(now).await?, now)?;
    let mut report = SweepReport {
        revoked_grants: bootstrap_grant::sweep(eks, sfn, ledger, now).await?,
        ..Default::default()
    };
    for mut run in expired {
        let attempt = match attempts(sfn, cleanup_state_machine_arn, &run, now).await? {
            Attempts::Start(attempt) => attempt,
            Attempts::InHand => {
                report.already_started.push(run);
                continue;
            }
            Attempts::Backoff { failed_at, next } => {
                tracing::info!(cluster = %run.cluster_name, namespace = %run.namespace, %failed_at, next, "cleanup failed; retrying after backoff");
                run.attempt = next;
                report.waiting_to_retry.push(run);
                continue;
            }
            Attempts::Exhausted => {
                tracing::error!(cluster = %run.cluster_name, namespace = %run.namespace, attempts = MAX_CLEANUP_ATTEMPTS, "every cleanup attempt failed; giving up");
                report.gave_up.push(run);
                continue;
            }
        };
        run.attempt = attempt;
        run.execution_name = execution_name(&run.cluster_name, &run.namespace, &run.expires_at, attempt);
        let request = CleanupRequest {
            cluster_name: run.cluster_name.clone(),
            namespace: run.namespace.clone(),
            run_id: None,
            generation: Some(run.generation),
            reason: format!("ttl expired at {} (attempt {attempt})", run.expires_at),
        };
        match start_cleanup(sfn, cleanup_state_machine_arn, &run.execution_name, &request).await? {
            Started::New => {
                tracing::info!(cluster = %run.cluster_name, namespace = %run.namespace, attempt, "cleanup started");
                report.started.push(run);
            }
            Started::AlreadyExisted => report.already_started.push(run),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(namespace: &str, generation: u64, expires_at: Option<&str>) -> Header {
        Header {
            cluster: "demo".into(),
            namespace: namespace.into(),
            generation,
            run: "run".into(),
            execution_arn: None,
            in_flight: false,
            expires_at: expires_at.map(str::to_string),
        }
    }

    #[test]
    fn only_passed_expiries_count_with_their_generation() {
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let headers = vec![
            header("a", 3, Some("2026-11-25T11:00:00Z")),
            header("b", 1, Some("2026-11-25T13:00:00Z")),
            header("c", 1, None),
        ];
        let expired = expired_runs(&headers, now).unwrap();
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].namespace, "a");
        assert_eq!(expired[0].generation, 3);
        assert_eq!(expired[0].attempt, 1);
        let unreadable = [header("d", 1, Some("tomorrow"))];
        assert!(expired_runs(&unreadable, now).is_err());
    }

    #[test]
    fn execution_names_are_deterministic_and_valid() {
        let name = execution_name("demo", &"n".repeat(63), "2026-11-25T11:00:00Z", 1);
        assert_eq!(name, execution_name("demo", &"n".repeat(63), "2026-11-25T11:00:00Z", 1));
        assert!(name.len() <= 80 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert_ne!(name, execution_name("demo", &"n".repeat(63), "2026-11-26T11:00:00Z", 1));
        let retry = execution_name("demo", &"n".repeat(63), "2026-11-25T11:00:00Z", 3);
        assert!(retry.len() <= 80 && retry.ends_with("-a3"), "{retry}");
    }

    #[test]
    fn retries_back_off_up_to_a_cap() {
        assert_eq!(retry_delay_seconds(2), 15 * 60);
        assert_eq!(retry_delay_seconds(3), 30 * 60);
        assert_eq!(retry_delay_seconds(5), 2 * 60 * 60);
        assert_eq!(retry_delay_seconds(40), MAX_RETRY_DELAY_SECONDS);
        assert_eq!(
            execution_arn("arn:aws:states:us-east-1:123456789012:stateMachine:cleanup", "ttl-x"),
            "arn:aws:states:us-east-1:123456789012:execution:cleanup:ttl-x"
        );
    }
}
