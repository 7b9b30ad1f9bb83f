//! The TTL rule for re-runs. `expires-at` is stamped at creation from the creating run's `ttl`; a
//! later successful run with a `ttl` stamps its own expiry on the namespace's file system, and the
//! reaper goes by the latest expiry among a namespace's resources, so a re-run extends the
//! namespace's life. A successful re-run without a `ttl` keeps the expiry an earlier run set, and
//! says so in its output and log rather than inheriting it silently.

use crate::aws;
use crate::clients::AwsClients;
use crate::error::Result;
use crate::ownership::{EXPIRES_AT_KEY, Owner};
use crate::run::Run;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expiry {
    /// When the reaper will clean the namespace up, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// True when this run moved the expiry (its own `ttl`).
    pub restamped: bool,
}

/// Applies the rule to the namespace's file system (when it is ours).
pub async fn apply(clients: &AwsClients, run: &Run) -> Result<Expiry> {
    let owner = run.owner();
    let stamped = stamped_expiry(clients, &owner).await?;
    let Some(wanted) = &run.expires_at else {
        if let Some(kept) = &stamped {
            tracing::warn!(expires_at = %kept, "this run has no ttl: the namespace keeps the expiry an earlier run set");
        }
        return Ok(Expiry {
            expires_at: stamped,
            restamped: false,
        });
    };
    if stamped.as_deref() == Some(wanted.as_str()) {
        return Ok(Expiry {
            expires_at: stamped,
            restamped: false,
        });
    }
    if let Some(fs) = aws::efs::file_system_by_token(&clients.efs, &owner.creation_token()).await?
        && owner.owns(fs.tags().iter().map(|t| (t.key(), t.value())))
    {
        aws::efs::tag_file_system(&clients.efs, fs.file_system_id(), EXPIRES_AT_KEY, wanted).await?;
    }
    tracing::info!(expires_at = %wanted, "expiry stamped by this run");
    Ok(Expiry {
        expires_at: Some(wanted.clone()),
        restamped: true,
    })
}

/// The expiry on the namespace's file system (the resource the reaper reads first).
async fn stamped_expiry(clients: &AwsClients, owner: &Owner) -> Result<Option<String>> {
    Ok(aws::efs::file_system_by_token(&clients.efs, &owner.creation_token())
        .await?
        .and_then(|fs| {
            fs.tags()
                .iter()
                .find(|t| t.key() == EXPIRES_AT_KEY)
                .map(|t| t.value().to_string())
        }))
}
