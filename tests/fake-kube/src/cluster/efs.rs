//! What the EFS server knows about a pod's volumes, asked from EFS (moto) when the pod mounts, as
//! the NFS server enforces it: an access point's root directory, its POSIX user and the creation
//! info of that directory; and the file system policy, which decides whether the client may mount
//! at all and whether root stays root (else EFS squashes it to `nobody`), see `efs_policy.rs`.

use std::collections::{HashMap, HashSet};

use aws_sdk_efs::error::DisplayErrorContext;
use serde_json::Value;

use crate::volumes::{Identity, Ownership};

/// An access point as a mount sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPointFacts {
    pub arn: String,
    pub file_system_id: String,
    pub root_directory: String,
    pub user: Identity,
    /// The root directory's owner and mode when EFS creates it.
    pub creation: Option<Ownership>,
}

/// What EFS says about the volumes of one pod.
#[derive(Clone, Debug, Default)]
pub struct EfsFacts {
    pub access_points: HashMap<String, AccessPointFacts>,
    /// The policies of the file systems that have one.
    pub policies: HashMap<String, Value>,
}

/// Looks up every `(file system, access point)` of `handles` (ids already parsed).
pub async fn facts(efs: &aws_sdk_efs::Client, handles: &[(String, Option<String>)]) -> EfsFacts {
    let mut facts = EfsFacts::default();
    let file_systems: HashSet<&String> = handles.iter().map(|(fs, _)| fs).collect();
    for file_system_id in file_systems {
        if let Some(policy) = policy(efs, file_system_id).await {
            facts.policies.insert(file_system_id.clone(), policy);
        }
    }
    for id in handles.iter().filter_map(|(_, ap)| ap.as_ref()) {
        if let Some(ap) = access_point(efs, id).await {
            facts.access_points.insert(id.clone(), ap);
        }
    }
    facts
}

async fn access_point(efs: &aws_sdk_efs::Client, id: &str) -> Option<AccessPointFacts> {
    let described = match efs.describe_access_points().access_point_id(id).send().await {
        Ok(out) => out,
        Err(error) => {
            tracing::warn!(access_point = id, error = %DisplayErrorContext(&error), "can't describe the access point");
            return None;
        }
    };
    let ap = described.access_points().first()?;
    let id_of = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    let posix = ap.posix_user();
    let root = ap.root_directory();
    Some(AccessPointFacts {
        arn: ap.access_point_arn().unwrap_or_default().to_string(),
        file_system_id: ap.file_system_id().unwrap_or_default().to_string(),
        root_directory: root.and_then(|r| r.path()).unwrap_or("/").to_string(),
        // Without a POSIX user the access point passes the client's identity; none of ours lacks it.
        user: Identity {
            uid: id_of(posix.map(|p| p.uid())),
            gid: id_of(posix.map(|p| p.gid())),
        },
        creation: root.and_then(|r| r.creation_info()).map(|c| Ownership {
            owner: Identity {
                uid: id_of(Some(c.owner_uid())),
                gid: id_of(Some(c.owner_gid())),
            },
            mode: u32::from_str_radix(c.permissions(), 8).unwrap_or(0o755),
        }),
    })
}

/// The file system's policy; `None` without one (PolicyNotFound) or for an unknown file system.
async fn policy(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Option<Value> {
    let out = efs
        .describe_file_system_policy()
        .file_system_id(file_system_id)
        .send()
        .await
        .ok()?;
    out.policy().and_then(|p| serde_json::from_str(p).ok())
}
