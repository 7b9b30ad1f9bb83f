//! The lease's types: what it protects ([`LeaseKey`]), who asks ([`Claim`]), who has it
//! ([`Held`]), and what each operation found.

use std::fmt;
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;
use jiff::Timestamp;

use super::Item;
use crate::error::{Result, WorkflowError};

/// What a lease protects: the table's partition key `pk`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseKey(String);

impl LeaseKey {
    /// One writer (provisioning run or cleanup) per cluster and namespace: `namespace#<cluster>#<namespace>`.
    pub fn namespace(cluster: &str, namespace: &str) -> Self {
        Self(format!("namespace#{cluster}#{namespace}"))
    }

    /// What the namespaces of a cluster share (access entry, RBAC, storage objects) is removed
    /// by the last namespace's cleanup, and joined by each provisioning run, under this lease:
    /// `cluster#<cluster>`.
    pub fn cluster(cluster: &str) -> Self {
        Self(format!("cluster#{cluster}"))
    }

    /// One Fargate profile create or delete at a time per cluster: `fargate#<cluster>`.
    pub fn fargate_profiles(cluster: &str) -> Self {
        Self(format!("fargate#{cluster}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who asks for a lease, why, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    /// A Step Functions execution ARN (checked on takeover) or another stable name.
    pub holder: &'a str,
    /// Stored for people reading the table, e.g. `provision` or `cleanup`.
    pub purpose: &'a str,
    pub duration: Duration,
}

/// The lease as another holder has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub holder: String,
    pub expires_at: Timestamp,
}

impl Held {
    /// Reads `holder` and `expiresAt` (epoch seconds) from a lease item.
    pub fn from_item(item: &Item) -> Result<Self> {
        let malformed = |detail: &str| WorkflowError::AwsApiError {
            operation: "ReadLease".into(),
            code: "MalformedLeaseItem".into(),
            message: format!("lease item {detail}: {item:?}"),
        };
        let holder = item
            .get("holder")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| malformed("has no string `holder`"))?;
        let expires_at = item
            .get("expiresAt")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|seconds| Timestamp::from_second(seconds).ok())
            .ok_or_else(|| malformed("has no epoch-seconds `expiresAt`"))?;
        Ok(Self {
            holder: holder.clone(),
            expires_at,
        })
    }
}

/// The result of asking for a lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// The claimant holds the lease until `expires_at` (new, extended or taken over).
    Acquired { expires_at: Timestamp },
    /// Someone else holds it; the caller decides whether that is `RunInProgress` or "busy, retry".
    Held(Held),
}

impl Acquire {
    /// For one-writer leases: another holder is a [`WorkflowError::RunInProgress`].
    pub fn or_run_in_progress(self, key: &LeaseKey) -> Result<Timestamp> {
        match self {
            Self::Acquired { expires_at } => Ok(expires_at),
            Self::Held(held) => Err(WorkflowError::RunInProgress {
                key: key.to_string(),
                holder: held.holder,
            }),
        }
    }
}

/// The result of [`release`]: every case is success, the variants say what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Released {
    Released,
    /// No lease under the key (released before, or never taken).
    AlreadyGone,
    /// Another holder has it (ours expired and was taken); it is left alone.
    HeldByOther(Held),
}

/// The result of [`hand_over`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandOver {
    /// The new holder has the lease until `expires_at`.
    HandedOver { expires_at: Timestamp },
    /// No lease under the key: `from` did not hold it.
    Gone,
    /// Neither `from` nor the new holder has it.
    HeldByOther(Held),
}

/// What Step Functions says about a lease holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HolderStatus {
    /// RUNNING, or PENDING_REDRIVE (a redrive is about to resume it).
    Running,
    /// SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    Ended(ExecutionStatus),
    /// `ExecutionDoesNotExist`.
    NotFound,
    /// Not a Step Functions execution ARN, so it cannot be checked: only expiry frees the lease.
    Unverifiable,
}

impl HolderStatus {
    pub fn may_be_taken_over(&self) -> bool {
        matches!(self, Self::Ended(_) | Self::NotFound)
    }
}
