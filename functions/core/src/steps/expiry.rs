//! The TTL rule for re-runs, as the ledger keeps it (`ledger::Header::expires_at`): the first run
//! of a namespace with a `ttl` sets its expiry; a later successful run with a `ttl` re-stamps it
//! (a re-run extends the namespace's life); a successful re-run without one keeps the expiry an
//! earlier run set, and says so in its output and log rather than inheriting it silently. A
//! failed run changes no expiry. Tags carry no expiry: a tag anyone may write decides nothing.

use crate::ledger::Header;
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

impl Expiry {
    /// The namespace's expiry once `run` succeeded: its own when it had a `ttl` (the ledger was
    /// re-stamped), else the one `header` held before.
    pub fn after(run: &Run, header: Option<&Header>, restamped: bool) -> Self {
        if restamped {
            tracing::info!(expires_at = ?run.expires_at, "expiry stamped by this run");
            return Self {
                expires_at: run.expires_at.clone(),
                restamped: true,
            };
        }
        let kept = header.and_then(|h| h.expires_at.clone());
        if let Some(kept) = &kept {
            tracing::warn!(expires_at = %kept, "this run has no ttl: the namespace keeps the expiry an earlier run set");
        }
        Self {
            expires_at: kept,
            restamped: false,
        }
    }
}
