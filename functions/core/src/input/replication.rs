//! `fileSystem.replication`: an EFS replica of the file system in another (or the same) region,
//! created by EFS as a new read-only file system. Only a new destination is offered: replicating
//! into an existing file system would overwrite its data, so the workflow never does it.

use crate::error::{Result, WorkflowError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replication {
    /// The region EFS creates the replica in (e.g. `us-west-2`).
    pub region: String,
}

impl Replication {
    pub fn validate(&self, field: &str) -> Result<()> {
        // `<area>-<direction>-<number>`, with optional partition parts (`us-gov-west-1`).
        let parts: Vec<&str> = self.region.split('-').collect();
        let valid = parts.len() >= 3
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
            && parts[parts.len() - 1].parse::<u8>().is_ok();
        if !valid {
            return Err(WorkflowError::invalid(
                format!("{field}.region"),
                format!("must be an AWS region name such as us-west-2, got {:?}", self.region),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked() {
        for ok in ["us-west-2", "eu-central-1", "us-gov-west-1", "ap-southeast-4"] {
            Replication { region: ok.into() }
                .validate("fileSystem.replication")
                .unwrap();
        }
        for bad in ["", "us-west", "US-WEST-2", "us-west-2a", "uswest2", "us--2"] {
            let err = Replication { region: bad.into() }
                .validate("fileSystem.replication")
                .unwrap_err();
            assert!(
                matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "fileSystem.replication.region"),
                "{bad}: {err}"
            );
        }
    }
}
