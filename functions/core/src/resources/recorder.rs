//! How a run records what it makes: intent before the create call, confirmation with the id after.

use std::collections::BTreeMap;

use super::Kind;
use crate::error::Result;
use crate::ledger::{Creator, Ledger, Place, Record};
use crate::ownership::Owner;

/// The ledger, the namespace and the run that creates.
#[derive(Clone, Copy)]
pub struct Recorder<'a> {
    pub ledger: &'a Ledger,
    pub owner: &'a Owner,
    pub creator: &'a Creator,
}

impl<'a> Recorder<'a> {
    /// The namespace's part of the ledger.
    pub fn namespace(&self) -> Place<'a> {
        self.owner.place()
    }

    /// The cluster's shared part.
    pub fn cluster(&self) -> Place<'a> {
        Place::Cluster(&self.owner.cluster)
    }

    /// Records the intent to create `kind` `key` in `place`, which the caller found missing; the
    /// record that stands (an earlier attempt's, or another run's intent). A confirmed record of the
    /// missing resource is stale (it was deleted by hand, or with its cluster) and is renewed.
    pub async fn intend(&self, place: Place<'_>, kind: Kind, key: &str) -> Result<Record> {
        let record = self.ledger.intend(place, kind, key, self.creator).await?;
        if record.is_created() {
            tracing::info!(
                kind = kind.as_str(),
                key,
                "the recorded resource is gone: recorded anew"
            );
            return self.ledger.renew(&record, self.creator).await;
        }
        Ok(record)
    }

    /// Confirms that `kind` `key` is `id`: a new intent of this run, or one an interrupted attempt
    /// left (confirmed as its own run's). A confirmed record stays as it is.
    pub async fn settle(
        &self,
        place: Place<'_>,
        kind: Kind,
        key: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<()> {
        let by = match self.ledger.get(place, kind, key).await? {
            Some(record) if record.is_created() => return Ok(()),
            Some(record) => Creator {
                run_id: record.run,
                generation: record.generation,
            },
            None => self.creator.clone(),
        };
        if by.run_id != self.creator.run_id {
            tracing::info!(
                kind = kind.as_str(),
                key,
                run = by.run_id,
                "confirming an interrupted run's intent"
            );
        }
        self.ledger
            .confirm(place, kind, key, &by, id, &attributes)
            .await
            .map(|_| ())
    }
}
