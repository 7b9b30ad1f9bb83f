//! The `insights-role` cleanup action: the namespace's Container Insights collector role (found by
//! its name, deleted only when its tags say it is ours and, in a rollback, this run's). It runs
//! after the Kubernetes objects, so the collector is gone before its credentials; and apart from
//! them, so a cluster that no longer answers does not keep an IAM role alive.

use super::{CleanupProgress, done};
use crate::error::Result;
use crate::ownership::{Owner, Scope};
use crate::steps::insights::role;

pub async fn remove(iam: &aws_sdk_iam::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    Ok(match role::remove_role(iam, owner, scope).await? {
        None => done(vec![], vec![]),
        Some(Ok(removed)) => done(vec![removed], vec![]),
        Some(Err(kept)) => done(vec![], vec![kept]),
    })
}
