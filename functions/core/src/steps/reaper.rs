//! The TTL reaper: finds runs whose `expires-at` tag has passed and starts the cleanup state machine
//! for each, under an execution name derived from the run and the attempt, so a second sweep never
//! starts a second cleanup for the same run, while a failed cleanup is started again (with backoff,
//! a bounded number of times, then the alarm).

use crate::error::{Result, WorkflowError};
use crate::ownership::Tags;
use crate::ownership::{CLUSTER_KEY, EXPIRES_AT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY, Owner};
use crate::steps::cleanup::{CleanupRequest, Started, start_cleanup};
use crate::steps::rollback::execution_arn;
use crate::steps::tagged::file_system_and_profile_tags;
use aws_sdk_sfn::types::ExecutionStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One run's identity as its tags tell it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredRun {
    pub cluster_name: String,
    pub namespace: String,
    pub expires_at: String,
    pub execution_name: String,
    /// Which cleanup attempt the execution name stands for (1 = the first).
    pub attempt: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Cleanups this sweep started.
    pub started: Vec<ExpiredRun>,
    /// Expired runs whose cleanup an earlier sweep already started.
    pub already_started: Vec<ExpiredRun>,
    /// Expired runs whose last cleanup failed, waiting for the backoff before the next attempt.
    pub waiting_to_retry: Vec<ExpiredRun>,
    /// Expired runs whose every cleanup attempt failed: a person must look.
    pub gave_up: Vec<ExpiredRun>,
    /// Runs with a TTL that has not passed yet.
    pub not_expired: usize,
}

/// Expired runs among the tag sets of owned resources. A namespace's resources may carry different
/// expiries (a re-run with a `ttl` re-stamps its file system): the latest one counts.
pub fn expired_runs(tagged: &[Tags], now: Timestamp) -> (BTreeSet<ExpiredRun>, usize) {
    let mut latest: BTreeMap<(&str, &str), (Timestamp, &str)> = BTreeMap::new();
    for tags in tagged {
        let get = |key: &str| tags.get(key).map(String::as_str);
        let (Some(MANAGED_BY_VALUE), Some(cluster), Some(namespace), Some(expires_at)) = (
            get(MANAGED_BY_KEY),
            get(CLUSTER_KEY),
            get(NAMESPACE_KEY),
            get(EXPIRES_AT_KEY),
        ) else {
            continue;
        };
        let Ok(deadline) = expires_at.parse::<Timestamp>() else {
            tracing::warn!(cluster, namespace, expires_at, "unreadable expires-at tag ignored");
            continue;
        };
        let entry = latest.entry((cluster, namespace)).or_insert((deadline, expires_at));
        if deadline > entry.0 {
            *entry = (deadline, expires_at);
        }
    }
    let (expired, not_expired): (Vec<_>, Vec<_>) = latest.into_iter().partition(|(_, (deadline, _))| *deadline <= now);
    let expired = expired
        .into_iter()
        .map(|((cluster, namespace), (_, expires_at))| ExpiredRun {
            cluster_name: cluster.to_string(),
            namespace: namespace.to_string(),
            expires_at: expires_at.to_string(),
            execution_name: execution_name(cluster, namespace, expires_at, 1),
            attempt: 1,
        })
        .collect();
    (expired, not_expired.len())
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
    let report = sweep(&clients.efs, &clients.eks, &clients.sfn, arn, Timestamp::now()).await?;
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

/// Starts the next cleanup of every expired run that has none running or succeeded: the first,
/// or after a failed one (and its backoff) the next numbered attempt, up to
/// [`MAX_CLEANUP_ATTEMPTS`].
pub async fn sweep(
    efs: &aws_sdk_efs::Client,
    eks: &aws_sdk_eks::Client,
    sfn: &aws_sdk_sfn::Client,
    cleanup_state_machine_arn: &str,
    now: Timestamp,
) -> Result<SweepReport> {
    let (expired, not_expired) = expired_runs(&file_system_and_profile_tags(efs, eks, None).await?, now);
    let mut report = SweepReport {
        not_expired,
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

    fn tags(cluster: &str, namespace: &str, expires_at: Option<&str>) -> Tags {
        let owner = Owner::new(cluster, namespace);
        owner.tags("x", "run", expires_at).into_iter().collect()
    }

    #[test]
    fn the_latest_expiry_of_a_namespace_counts() {
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let tagged = vec![
            tags("demo", "a", Some("2026-11-25T11:00:00Z")),
            tags("demo", "a", Some("2026-11-26T11:00:00Z")),
        ];
        let (expired, not_expired) = expired_runs(&tagged, now);
        assert!(expired.is_empty());
        assert_eq!(not_expired, 1);
    }

    #[test]
    fn only_passed_deadlines_of_owned_runs_count_once() {
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let tagged = vec![
            tags("demo", "a", Some("2026-11-25T11:00:00Z")),
            tags("demo", "a", Some("2026-11-25T11:00:00Z")),
            tags("demo", "b", Some("2026-11-25T13:00:00Z")),
            tags("demo", "c", None),
            [("expires-at".to_string(), "2020-01-01T00:00:00Z".to_string())]
                .into_iter()
                .collect(),
        ];
        let (expired, not_expired) = expired_runs(&tagged, now);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired.first().unwrap().namespace, "a");
        assert_eq!(not_expired, 1);
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
