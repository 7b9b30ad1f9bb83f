//! `posixUser` in the execution input: the identity the namespace's EFS access point enforces and
//! the PoC and validation pods run as.

use crate::error::{Result, WorkflowError};
use serde::{Deserialize, Serialize};

/// The default uid and gid: the first regular user of most base images, and not root.
pub const DEFAULT_ID: u32 = 1000;
/// The largest id EFS and Kubernetes both accept; 4294967295 is `(uid_t)-1`, "no id".
pub const MAX_ID: u32 = 4_294_967_294;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PosixUser {
    #[serde(default = "default_id")]
    pub uid: u32,
    #[serde(default = "default_id")]
    pub gid: u32,
}

fn default_id() -> u32 {
    DEFAULT_ID
}

impl Default for PosixUser {
    fn default() -> Self {
        Self {
            uid: DEFAULT_ID,
            gid: DEFAULT_ID,
        }
    }
}

impl PosixUser {
    /// Root is refused: the pods run with `runAsNonRoot`, and a root access point would give every
    /// pod that mounts it root on the namespace's directory.
    pub fn validate(&self, prefix: &str) -> Result<()> {
        for (name, id) in [("uid", self.uid), ("gid", self.gid)] {
            if id == 0 || id > MAX_ID {
                return Err(WorkflowError::invalid(
                    format!("{prefix}.{name}"),
                    format!(
                        "must be between 1 and {MAX_ID} (0 is root, which the access point and the pods refuse), got {id}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_no_id_are_refused() {
        assert!(PosixUser::default().validate("posixUser").is_ok());
        let err = PosixUser { uid: 0, gid: 1000 }.validate("posixUser").unwrap_err();
        assert!(
            matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "posixUser.uid"),
            "{err}"
        );
        let err = PosixUser {
            uid: 1000,
            gid: u32::MAX,
        }
        .validate("posixUser")
        .unwrap_err();
        assert!(
            matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "posixUser.gid"),
            "{err}"
        );
    }
}
