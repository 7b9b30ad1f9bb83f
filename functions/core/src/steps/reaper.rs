//! The TTL reaper: finds runs whose `expires-at` tag has passed and starts the cleanup state machine
//! for each, under an execution name derived from the run, so a second sweep never starts a second
//! cleanup for the same run.

use crate::error::{Result, WorkflowError};
use crate::ownership::{CLUSTER_KEY, EXPIRES_AT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY, Owner};
use crate::steps::tagged::{Tags, file_system_and_profile_tags};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// One run's identity as its tags tell it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredRun {
    pub cluster_name: String,
    pub namespace: String,
    pub expires_at: String,
    pub execution_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Cleanups this sweep started.
    pub started: Vec<ExpiredRun>,
    /// Expired runs whose cleanup an earlier sweep already started.
    pub already_started: Vec<ExpiredRun>,
    /// Runs with a TTL that has not passed yet.
    pub not_expired: usize,
}

/// Expired runs among the tag sets of owned resources (several resources of one run count once).
pub fn expired_runs(tagged: &[Tags], now: Timestamp) -> (BTreeSet<ExpiredRun>, usize) {
    let mut expired = BTreeSet::new();
    let mut not_expired = BTreeSet::new();
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
        if deadline <= now {
            expired.insert(ExpiredRun {
                cluster_name: cluster.to_string(),
                namespace: namespace.to_string(),
                expires_at: expires_at.to_string(),
                execution_name: execution_name(cluster, namespace, expires_at),
            });
        } else {
            not_expired.insert((cluster, namespace));
        }
    }
    (expired, not_expired.len())
}

/// `ttl-<hash>-<namespace>`, at most 80 characters: deterministic per run and expiry.
pub fn execution_name(cluster: &str, namespace: &str, expires_at: &str) -> String {
    let hash = Owner::new(cluster, format!("{namespace}@{expires_at}")).short_hash();
    format!("ttl-{hash}-{namespace}").chars().take(80).collect()
}

pub enum Started {
    New,
    /// An execution of that name exists already (an earlier sweep or rollback started it).
    AlreadyExisted,
}

/// Starts the cleanup state machine for one cluster namespace under a deterministic name, so a
/// repeated call never starts a second cleanup.
pub async fn start_cleanup(
    sfn: &aws_sdk_sfn::Client,
    cleanup_state_machine_arn: &str,
    execution_name: &str,
    cluster: &str,
    namespace: &str,
    reason: &str,
) -> Result<Started> {
    let input = json!({"clusterName": cluster, "namespace": namespace, "reason": reason});
    let started = sfn
        .start_execution()
        .state_machine_arn(cleanup_state_machine_arn)
        .name(execution_name)
        .input(input.to_string())
        .send()
        .await;
    match started {
        Ok(_) => Ok(Started::New),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_already_exists()) => Ok(Started::AlreadyExisted),
        Err(e) => Err(WorkflowError::from_sdk("states:StartExecution", e)),
    }
}

/// The `ttl-reaper` function, run on a schedule (its event carries nothing it needs).
pub async fn handle(clients: &crate::clients::AwsClients, settings: &crate::settings::Settings) -> Result<SweepReport> {
    let arn = settings.cleanup_state_machine_arn.as_deref().ok_or_else(|| {
        WorkflowError::invalid(
            "CLEANUP_STATE_MACHINE_ARN",
            "must be set to the cleanup state machine's ARN",
        )
    })?;
    sweep(&clients.efs, &clients.eks, &clients.sfn, arn, Timestamp::now()).await
}

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
    for run in expired {
        let reason = format!("ttl expired at {}", run.expires_at);
        match start_cleanup(
            sfn,
            cleanup_state_machine_arn,
            &run.execution_name,
            &run.cluster_name,
            &run.namespace,
            &reason,
        )
        .await?
        {
            Started::New => {
                tracing::info!(cluster = %run.cluster_name, namespace = %run.namespace, "cleanup started");
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
        let name = execution_name("demo", &"n".repeat(63), "2026-11-25T11:00:00Z");
        assert_eq!(name, execution_name("demo", &"n".repeat(63), "2026-11-25T11:00:00Z"));
        assert!(name.len() <= 80 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert_ne!(name, execution_name("demo", &"n".repeat(63), "2026-11-26T11:00:00Z"));
    }
}
