//! [`AccessEntries`]: every cluster's access configuration, entries and policy associations, kept
//! by the gateway (moto has none of them) and shared with whoever authorizes Kubernetes requests.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::entry::{Association, Entry, NewEntry, STANDARD};
use super::error::AccessError;
use super::model::{AccessConfig, AccessScope, AuthenticationMode, ResolvedAccess};
use super::principal::{Caller, Principal};
use super::{now, policies};
use crate::ids::uuid;

/// The EKS access-entry state of every cluster the gateway has answered for. Cheap to clone: the
/// clones share one state.
#[derive(Clone, Debug, Default)]
pub struct AccessEntries {
    state: Arc<Mutex<HashMap<String, ClusterAccess>>>,
}

/// A cluster as moto describes it at the time of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClusterRef {
    pub name: String,
    pub arn: String,
    /// moto's `createdAt`: a cluster deleted and created again behind the gateway's back (moto
    /// reset, a direct call) is a new cluster, so what the gateway kept for the old one is dropped.
    pub created_at: String,
}

impl ClusterRef {
    pub(crate) fn partition(&self) -> &str {
        self.arn.split(':').nth(1).unwrap_or("aws")
    }
}

#[derive(Debug)]
struct ClusterAccess {
    created_at: String,
    config: AccessConfig,
    /// By principal ARN.
    entries: BTreeMap<String, Entry>,
}

impl ClusterAccess {
    fn api(&mut self) -> Result<&mut BTreeMap<String, Entry>, AccessError> {
        if self.config.authentication_mode.has_access_entries() {
            Ok(&mut self.entries)
        } else {
            Err(AccessError::NoAccessEntryApi)
        }
    }

    fn entry(&mut self, principal_arn: &str) -> Result<&mut Entry, AccessError> {
        self.api()?.get_mut(principal_arn).ok_or(AccessError::EntryNotFound)
    }
}

impl AccessEntries {
    pub fn new() -> Self {
        Self::default()
    }

    /// What `principal_arn` may do on `cluster_name`: its entry's username (templates filled in),
    /// groups and policies. An assumed-role session (`arn:aws:sts::…:assumed-role/Role/session`)
    /// resolves to its role's entry, whatever the role's path. `None` when the cluster has no
    /// access-entry API or no entry for the principal.
    pub fn resolve(&self, cluster_name: &str, principal_arn: &str) -> Option<ResolvedAccess> {
        let caller = Caller::from_arn(principal_arn);
        let state = self.lock();
        let cluster = state.get(cluster_name)?;
        if !cluster.config.authentication_mode.has_access_entries() {
            return None;
        }
        let entry = cluster.entries.get(&caller.principal_arn).or_else(|| {
            // An assumed-role ARN does not carry the role's path: match the role by account and name.
            let wanted = Principal::parse(&caller.principal_arn)?;
            cluster.entries.values().find(|e| {
                e.principal.is_role
                    && wanted.is_role
                    && e.principal.account == wanted.account
                    && e.principal.name == wanted.name
            })
        })?;
        let policies = entry
            .policies
            .values()
            .filter_map(|a| Some((policies::name_of(&a.policy_arn)?.to_string(), a.scope.clone())))
            .collect();
        Some(ResolvedAccess {
            username: caller.fill(&entry.username),
            kubernetes_groups: entry.kubernetes_groups.clone(),
            policies,
        })
    }

    /// The cluster's mode, `None` for a cluster the gateway has not answered for yet.
    pub fn authentication_mode(&self, cluster_name: &str) -> Option<AuthenticationMode> {
        self.lock().get(cluster_name).map(|c| c.config.authentication_mode)
    }

    /// A cluster created through the gateway, with the caller's admin entry when it asked for one.
    pub(crate) fn created(&self, cluster: &ClusterRef, config: AccessConfig, creator: Option<NewEntry>) {
        let mut state = self.lock();
        state.insert(
            cluster.name.clone(),
            ClusterAccess {
                created_at: cluster.created_at.clone(),
                config,
                entries: BTreeMap::new(),
            },
        );
        drop(state);
        if let Some(creator) = creator {
            let principal = creator.principal.arn.clone();
            let admin = policies::arn(cluster.partition(), policies::CLUSTER_ADMIN);
            // The caller only asks on a cluster with the API, which has no entries yet.
            let made = self
                .create(cluster, creator)
                .and_then(|_| self.associate(cluster, &principal, &admin, AccessScope::Cluster));
            if let Err(error) = made {
                tracing::error!(cluster = cluster.name, principal, %error, "the creator's admin entry was not made");
            }
        }
    }

    pub(crate) fn config(&self, cluster: &ClusterRef) -> AccessConfig {
        self.with(cluster, |c| Ok(c.config))
            .unwrap_or(AccessConfig::API_DEFAULT)
    }

    /// One step along CONFIG_MAP → API_AND_CONFIG_MAP → API; anything else is refused.
    pub(crate) fn set_mode(&self, cluster: &ClusterRef, mode: AuthenticationMode) -> Result<(), AccessError> {
        self.with(cluster, |c| {
            let from = c.config.authentication_mode;
            if !from.may_become(mode) {
                return Err(AccessError::ModeUpdate {
                    from: from.to_string(),
                    to: mode.to_string(),
                });
            }
            c.config.authentication_mode = mode;
            Ok(())
        })
    }

    /// The cluster is gone: so are its entries.
    pub(crate) fn forget(&self, cluster_name: &str) {
        self.lock().remove(cluster_name);
    }

    pub(crate) fn create(&self, cluster: &ClusterRef, new: NewEntry) -> Result<Entry, AccessError> {
        self.with(cluster, |c| {
            let entries = c.api()?;
            if let Some(existing) = entries.get(&new.principal.arn) {
                let retried =
                    new.client_request_token.is_some() && existing.client_request_token == new.client_request_token;
                return if retried {
                    Ok(existing.clone())
                } else {
                    Err(AccessError::EntryInUse)
                };
            }
            let at = now();
            let entry = Entry {
                cluster: cluster.name.clone(),
                arn: new.principal.entry_arn(&cluster.arn, &cluster.name, &uuid()),
                principal: new.principal,
                kind: new.kind,
                username: new.username,
                kubernetes_groups: new.kubernetes_groups,
                tags: new.tags,
                created_at: at,
                modified_at: at,
                client_request_token: new.client_request_token,
                policies: BTreeMap::new(),
            };
            entries.insert(entry.principal.arn.clone(), entry.clone());
            Ok(entry)
        })
    }

    pub(crate) fn describe(&self, cluster: &ClusterRef, principal_arn: &str) -> Result<Entry, AccessError> {
        self.with(cluster, |c| c.entry(principal_arn).cloned())
    }

    /// Principal ARNs in order, only those holding `policy_arn` when given.
    pub(crate) fn list(&self, cluster: &ClusterRef, policy_arn: Option<&str>) -> Result<Vec<String>, AccessError> {
        self.with(cluster, |c| {
            Ok(c.api()?
                .values()
                .filter(|e| policy_arn.is_none_or(|p| e.policies.contains_key(p)))
                .map(|e| e.principal.arn.clone())
                .collect())
        })
    }

    pub(crate) fn update(
        &self,
        cluster: &ClusterRef,
        principal_arn: &str,
        kubernetes_groups: Option<Vec<String>>,
        username: Option<String>,
    ) -> Result<Entry, AccessError> {
        self.with(cluster, |c| {
            let entry = c.entry(principal_arn)?;
            if entry.kind != STANDARD && (kubernetes_groups.is_some() || username.is_some()) {
                return Err(AccessError::NotStandard);
            }
            if let Some(groups) = kubernetes_groups {
                entry.kubernetes_groups = groups;
            }
            if let Some(username) = username {
                entry.username = username;
            }
            entry.modified_at = now();
            Ok(entry.clone())
        })
    }

    /// Deletes the entry and with it its associations, as EKS does.
    pub(crate) fn delete(&self, cluster: &ClusterRef, principal_arn: &str) -> Result<(), AccessError> {
        self.with(cluster, |c| {
            c.api()?
                .remove(principal_arn)
                .map(drop)
                .ok_or(AccessError::EntryNotFound)
        })
    }

    /// Associates the policy, or changes the scope of an existing association.
    pub(crate) fn associate(
        &self,
        cluster: &ClusterRef,
        principal_arn: &str,
        policy_arn: &str,
        scope: AccessScope,
    ) -> Result<Association, AccessError> {
        self.with(cluster, |c| {
            let entry = c.entry(principal_arn)?;
            if entry.kind != STANDARD {
                return Err(AccessError::NotStandard);
            }
            let at = now();
            let association = entry
                .policies
                .entry(policy_arn.to_string())
                .and_modify(|a| {
                    a.scope = scope.clone();
                    a.modified_at = at;
                })
                .or_insert_with(|| Association {
                    policy_arn: policy_arn.to_string(),
                    scope,
                    associated_at: at,
                    modified_at: at,
                });
            Ok(association.clone())
        })
    }

    pub(crate) fn disassociate(
        &self,
        cluster: &ClusterRef,
        principal_arn: &str,
        policy_arn: &str,
    ) -> Result<(), AccessError> {
        self.with(cluster, |c| {
            let entry = c.entry(principal_arn)?;
            entry
                .policies
                .remove(policy_arn)
                .map(drop)
                .ok_or(AccessError::AssociationNotFound)
        })
    }

    /// The entry's associations in policy ARN order.
    pub(crate) fn associations(
        &self,
        cluster: &ClusterRef,
        principal_arn: &str,
    ) -> Result<Vec<Association>, AccessError> {
        self.with(cluster, |c| {
            Ok(c.entry(principal_arn)?.policies.values().cloned().collect())
        })
    }

    /// Runs `change` on the tags of the entry whose ARN is `entry_arn`, and returns them.
    pub(crate) fn tags(
        &self,
        cluster: &ClusterRef,
        entry_arn: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<BTreeMap<String, String>, AccessError> {
        self.with(cluster, |c| {
            let entry = c
                .entries
                .values_mut()
                .find(|e| e.arn == entry_arn)
                .ok_or(AccessError::TagTargetNotFound)?;
            change(&mut entry.tags);
            Ok(entry.tags.clone())
        })
    }

    /// Runs `f` on the cluster's state, first starting it afresh (EKS's API default) when the
    /// gateway has none or only a dead namesake's.
    fn with<T>(
        &self,
        cluster: &ClusterRef,
        f: impl FnOnce(&mut ClusterAccess) -> Result<T, AccessError>,
    ) -> Result<T, AccessError> {
        let mut state = self.lock();
        let access = state
            .entry(cluster.name.clone())
            .and_modify(|c| {
                if c.created_at != cluster.created_at {
                    *c = fresh(cluster);
                }
            })
            .or_insert_with(|| fresh(cluster));
        f(access)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ClusterAccess>> {
        // Every change is applied whole under the lock, so a panic elsewhere leaves it consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn fresh(cluster: &ClusterRef) -> ClusterAccess {
    ClusterAccess {
        created_at: cluster.created_at.clone(),
        config: AccessConfig::API_DEFAULT,
        entries: BTreeMap::new(),
    }
}
