//! Latency injection. moto finishes every create and delete at once, so the workflow's status loops
//! would never loop; this rewrites moto's answers so that, for a configured time, a new Fargate
//! profile is `CREATING`, a new file system or mount target `creating`, and a deleted Fargate
//! profile or mount target is still described as `DELETING`/`deleting` (moto has already
//! forgotten it, so its last description is kept here). Field names are moto's (and AWS's):
//! EKS camelCase (`fargateProfile.status`), EFS PascalCase (`LifeCycleState`).
//!
//! With latency on, EKS's rule for Fargate profiles is emulated too ([`Latency::profile_busy`]):
//! one profile of a cluster CREATING or DELETING at a time, any other create or delete refused
//! with `ResourceInUseException`. moto has no such rule, and without windows nothing is ever
//! CREATING or DELETING.

mod call;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Value, json};

use crate::config::LatencyConfig;
use crate::reply::Reply;

pub(crate) use call::Call;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Resource {
    FargateProfile { cluster: String, name: String },
    FileSystem(String),
    MountTarget(String),
}

#[derive(Debug, Default)]
struct State {
    /// Until when a new resource reports its creating state.
    creating: HashMap<Resource, Instant>,
    /// Until when a deleted resource is still described, and its description (marked deleting).
    deleting: HashMap<Resource, (Instant, Value)>,
    /// The latest description of every mount target seen: a delete answers with no body, yet the
    /// mount target must go on being listed while it is `deleting`.
    mount_targets: HashMap<String, Value>,
}

#[derive(Debug)]
pub(crate) struct Latency {
    config: LatencyConfig,
    state: Mutex<State>,
}

impl Latency {
    /// EKS's answer to a profile create or delete while another profile of the cluster is
    /// CREATING or DELETING (or, for a delete, the profile itself is still CREATING): the message
    /// of the `ResourceInUseException`, as EKS words it. The check and the window it looks at are
    /// not one atomic step (the window opens when moto has answered), so two creates sent in the
    /// same instant may both pass: fine for the workflow, which serialises them itself.
    pub(crate) fn profile_busy(&self, call: &Call) -> Option<String> {
        let (verb, cluster, target) = match call {
            Call::CreateFargateProfile { cluster } => ("create", cluster, None),
            Call::DeleteFargateProfile { cluster, name } => ("delete", cluster, Some(name)),
            _ => return None,
        };
        let now = Instant::now();
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let of_cluster = |resource: &Resource| match resource {
            Resource::FargateProfile { cluster: c, name } if c == cluster => Some(name.clone()),
            _ => None,
        };
        let creating = state
            .creating
            .iter()
            .filter(|(_, until)| **until > now)
            .filter_map(|(resource, _)| Some((of_cluster(resource)?, "CREATING")));
        // A deleting one is gone from moto: deleting it again is moto's 404, not a conflict.
        let deleting = state
            .deleting
            .iter()
            .filter(|(_, (until, _))| *until > now)
            .filter_map(|(resource, _)| of_cluster(resource).filter(|name| Some(name) != target))
            .map(|name| (name, "DELETING"));
        let (busy, status) = creating.chain(deleting).next()?;
        let subject = target.map_or_else(
            || "a Fargate Profile".to_string(),
            |name| format!("Fargate Profile {name}"),
        );
        Some(format!(
            "Cannot {verb} {subject} because cluster {cluster} currently has Fargate profile {busy} in status {status}"
        ))
    }

    /// `None` when both windows are zero: moto's answers pass unchanged.
    pub(crate) fn new(config: LatencyConfig) -> Option<Self> {
        (!config.is_off()).then(|| Self {
            config,
            state: Mutex::default(),
        })
    }

    /// Rewrites `reply` to `call` for the resources inside their window.
    pub(crate) fn rewrite(&self, call: &Call, reply: &mut Reply) {
        let now = Instant::now();
        let window = match call {
            Call::CreateFargateProfile { .. } => self.config.create_profile,
            Call::CreateFileSystem => self.config.create_file_system,
            Call::CreateMountTarget => self.config.create_mount_target,
            _ => None,
        };
        let create = window.unwrap_or(self.config.create);
        let created_until = (!create.is_zero()).then(|| now + create);
        let deleted_until = (!self.config.delete.is_zero()).then(|| now + self.config.delete);
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.creating.retain(|_, until| *until > now);
        state.deleting.retain(|_, (until, _)| *until > now);
        match call {
            Call::CreateFargateProfile { cluster } => {
                let (Some(until), Some(mut body)) = (created_until, reply.json()) else {
                    return;
                };
                let profile = &mut body["fargateProfile"];
                let Some(name) = profile["fargateProfileName"].as_str() else {
                    return;
                };
                let key = Resource::FargateProfile {
                    cluster: cluster.clone(),
                    name: name.to_string(),
                };
                // A new profile of the same name, not the deleted one any more.
                state.deleting.remove(&key);
                state.creating.insert(key, until);
                profile["status"] = json!("CREATING");
                reply.set_json(&body);
            }
            Call::DescribeFargateProfile { cluster, name } => {
                let key = Resource::FargateProfile {
                    cluster: cluster.clone(),
                    name: name.clone(),
                };
                if let Some((_, profile)) = state.deleting.get(&key) {
                    *reply = Reply::synthesized(&json!({ "fargateProfile": profile }));
                } else if state.creating.contains_key(&key)
                    && let Some(mut body) = reply.json()
                {
                    body["fargateProfile"]["status"] = json!("CREATING");
                    reply.set_json(&body);
                }
            }
            Call::DeleteFargateProfile { cluster, name } => {
                let key = Resource::FargateProfile {
                    cluster: cluster.clone(),
                    name: name.clone(),
                };
                state.creating.remove(&key);
                // moto answers with the profile still `ACTIVE` and forgets it at once.
                let (Some(until), Some(mut body)) = (deleted_until, reply.json()) else {
                    return;
                };
                body["fargateProfile"]["status"] = json!("DELETING");
                state.deleting.insert(key, (until, body["fargateProfile"].clone()));
                reply.set_json(&body);
            }
            Call::CreateFileSystem => {
                let (Some(until), Some(mut body)) = (created_until, reply.json()) else {
                    return;
                };
                let Some(id) = body["FileSystemId"].as_str() else {
                    return;
                };
                state.creating.insert(Resource::FileSystem(id.to_string()), until);
                body["LifeCycleState"] = json!("creating");
                reply.set_json(&body);
            }
            Call::DescribeFileSystems => {
                let Some(mut body) = reply.json() else { return };
                let mut changed = false;
                for fs in body["FileSystems"].as_array_mut().into_iter().flatten() {
                    let id = fs["FileSystemId"].as_str().unwrap_or_default().to_string();
                    if state.creating.contains_key(&Resource::FileSystem(id)) {
                        fs["LifeCycleState"] = json!("creating");
                        changed = true;
                    }
                }
                if changed {
                    reply.set_json(&body);
                }
            }
            Call::CreateMountTarget => {
                let Some(mut body) = reply.json() else { return };
                let Some(id) = body["MountTargetId"].as_str().map(str::to_string) else {
                    return;
                };
                state.mount_targets.insert(id.clone(), body.clone());
                if let Some(until) = created_until {
                    state.creating.insert(Resource::MountTarget(id), until);
                    body["LifeCycleState"] = json!("creating");
                    reply.set_json(&body);
                }
            }
            Call::DescribeMountTargets {
                file_system_id,
                mount_target_id,
            } => state.describe_mount_targets(file_system_id.as_deref(), mount_target_id.as_deref(), reply),
            Call::DeleteMountTarget { id } => {
                let key = Resource::MountTarget(id.clone());
                state.creating.remove(&key);
                let last_seen = state.mount_targets.remove(id);
                if !reply.status.is_success() {
                    return;
                }
                let Some(until) = deleted_until else { return };
                match last_seen {
                    Some(mut description) => {
                        description["LifeCycleState"] = json!("deleting");
                        state.deleting.insert(key, (until, description));
                    }
                    None => {
                        tracing::warn!(mount_target = %id, "deleted a mount target never described: not kept as deleting")
                    }
                }
            }
        }
    }
}

impl State {
    /// Marks the creating ones, remembers them all, and adds the deleting ones that match the query
    /// (moto answers 404 `MountTargetNotFound` for a deleting one asked for by id).
    fn describe_mount_targets(
        &mut self,
        file_system_id: Option<&str>,
        mount_target_id: Option<&str>,
        reply: &mut Reply,
    ) {
        let deleting: Vec<Value> = self
            .deleting
            .iter()
            .filter_map(|(resource, (_, description))| match resource {
                Resource::MountTarget(id) => {
                    let wanted = mount_target_id == Some(id.as_str())
                        || (file_system_id.is_some() && description["FileSystemId"].as_str() == file_system_id);
                    wanted.then(|| description.clone())
                }
                _ => None,
            })
            .collect();
        let mut body = match reply.json() {
            Some(body) => body,
            None if mount_target_id.is_some() && !deleting.is_empty() => json!({ "MountTargets": [] }),
            None => return,
        };
        let Some(listed) = body["MountTargets"].as_array_mut() else {
            return;
        };
        let mut changed = false;
        for mt in listed.iter_mut() {
            let Some(id) = mt["MountTargetId"].as_str().map(str::to_string) else {
                continue;
            };
            self.mount_targets.insert(id.clone(), mt.clone());
            if self.creating.contains_key(&Resource::MountTarget(id)) {
                mt["LifeCycleState"] = json!("creating");
                changed = true;
            }
        }
        for description in deleting {
            if !listed
                .iter()
                .any(|mt| mt["MountTargetId"] == description["MountTargetId"])
            {
                listed.push(description);
                changed = true;
            }
        }
        if !changed {
            return;
        }
        if reply.status.is_success() {
            reply.set_json(&body);
        } else {
            *reply = Reply::synthesized(&body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_windows_disable_rewriting() {
        assert!(Latency::new(LatencyConfig::default()).is_none());
    }
}
