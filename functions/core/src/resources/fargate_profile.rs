//! The namespace's Fargate profile `fp-<namespace>`, recorded in the namespace's part of the
//! ledger (and, through the same functions, the Container Insights collector's profile, one per
//! cluster: see [`Spec`]). A profile of that name the ledger does not record is someone else's (eksctl names its
//! profiles `fp-*` too): `FargateProfileConflict`, unless the input adopts it (`adopt:
//! ["fargateProfile"]`: used as it is, never recorded, never deleted). Profiles are immutable, so
//! ours with another spec is a conflict too. Creating and deleting happen under the cluster's
//! profile lease (`steps::profile_lease`): EKS changes one profile of a cluster at a time.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_eks::types::{FargateProfile, FargateProfileSelector, FargateProfileStatus};
use jiff::Timestamp;

use super::{CleanupScope, Kind, NOT_RECORDED, Recorder, Removal, records};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::{Adoptable, ProvisionRequest};
use crate::ledger::{Ledger, NamespaceView, Place, Record};
use crate::ownership::Owner;
use crate::run::Subnet;

/// A profile the workflow makes: its name, the one namespace it selects, and where the ledger
/// records it.
pub struct Spec<'a> {
    pub cluster: &'a str,
    pub name: String,
    pub namespace: &'a str,
    pub place: Place<'a>,
    pub kind: Kind,
}

impl<'a> Spec<'a> {
    /// The namespace's own profile.
    pub fn of_namespace(owner: &'a Owner) -> Self {
        Self {
            cluster: &owner.cluster,
            name: owner.fargate_profile_name(),
            namespace: &owner.namespace,
            place: owner.place(),
            kind: Kind::FargateProfile,
        }
    }
}

pub struct Found {
    pub profile: Option<FargateProfile>,
    pub record: Option<Record>,
}

impl Found {
    /// Whether the ledger records the profile found as the workflow's.
    pub fn is_ours(&self) -> bool {
        match (&self.profile, &self.record) {
            (Some(profile), Some(record)) => records(
                record,
                profile.fargate_profile_arn().unwrap_or_default(),
                profile
                    .created_at()
                    .and_then(|at| Timestamp::from_second(at.secs()).ok()),
            ),
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Create,
    /// The workflow's own profile, or one the input adopts.
    Use {
        adopted: bool,
    },
}

/// The namespace's profile, and its record in `view`.
pub async fn find(eks: &aws_sdk_eks::Client, view: &NamespaceView, owner: &Owner) -> Result<Found> {
    let spec = Spec::of_namespace(owner);
    let record = view.find(Kind::FargateProfile, &spec.name).cloned();
    look_up(eks, &spec, record).await
}

/// The profile `spec` names, with `record`, the ledger's record of it (if any).
pub async fn look_up(eks: &aws_sdk_eks::Client, spec: &Spec<'_>, record: Option<Record>) -> Result<Found> {
    Ok(Found {
        profile: aws::eks::fargate_profile(eks, spec.cluster, &spec.name).await?,
        record,
    })
}

/// Decides, changing nothing. `private_subnets` (when known) are checked against an existing
/// profile's: a profile with another spec holds the name.
pub fn decide(found: &Found, request: &ProvisionRequest, private_subnets: Option<&[Subnet]>) -> Result<Decision> {
    let Some(profile) = &found.profile else {
        return Ok(Decision::Create);
    };
    let name = profile.fargate_profile_name().unwrap_or_default().to_string();
    let adopted = !found.is_ours();
    if adopted && !request.adopts(Adoptable::FargateProfile) {
        return Err(WorkflowError::FargateProfileConflict {
            name,
            difference: format!(
                "it is {NOT_RECORDED}; add \"fargateProfile\" to the input's `adopt` list to use it as it is (cleanup will never delete it)"
            ),
        });
    }
    if let Some(subnets) = private_subnets {
        check_spec(profile, request, subnets)?;
    }
    Ok(Decision::Use { adopted })
}

/// Profiles are immutable, so any difference means the profile cannot serve this run.
fn check_spec(profile: &FargateProfile, request: &ProvisionRequest, private_subnets: &[Subnet]) -> Result<()> {
    let mut differences = Vec::new();
    if profile.pod_execution_role_arn() != Some(request.pod_execution_role_arn.as_str()) {
        differences.push(format!(
            "pod execution role {} instead of {}",
            profile.pod_execution_role_arn().unwrap_or("(none)"),
            request.pod_execution_role_arn
        ));
    }
    let subnets: BTreeSet<&str> = profile.subnets().iter().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = private_subnets.iter().map(|s| s.subnet_id.as_str()).collect();
    if subnets != wanted {
        differences.push(format!("subnets {subnets:?} instead of {wanted:?}"));
    }
    let selects_namespace_only = matches!(profile.selectors(), [only]
        if only.namespace() == Some(request.namespace.as_str()) && only.labels().is_none_or(|l| l.is_empty()));
    if !selects_namespace_only {
        differences.push(format!("selectors other than namespace {}", request.namespace));
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(WorkflowError::FargateProfileConflict {
            name: profile.fargate_profile_name().unwrap_or_default().to_string(),
            difference: differences.join("; "),
        })
    }
}

/// Creates the profile (the caller holds the cluster's profile lease), recorded before the call
/// and confirmed with its ARN after. `None` while EKS has not described it yet.
pub async fn create(
    eks: &aws_sdk_eks::Client,
    recorder: Recorder<'_>,
    spec: &Spec<'_>,
    pod_execution_role_arn: &str,
    private_subnets: &[Subnet],
    tags: Vec<(String, String)>,
) -> Result<Option<FargateProfile>> {
    let (cluster, name) = (spec.cluster, &spec.name);
    // Per profile: one run may create two (its namespace's and the collector's).
    let token_prefix = Owner::new(cluster, spec.namespace).short_hash();
    recorder.intend(spec.place, spec.kind, name).await?;
    let create = eks
        .create_fargate_profile()
        .cluster_name(cluster)
        .fargate_profile_name(name)
        .pod_execution_role_arn(pod_execution_role_arn)
        .set_subnets(Some(private_subnets.iter().map(|s| s.subnet_id.clone()).collect()))
        .selectors(FargateProfileSelector::builder().namespace(spec.namespace).build())
        .set_tags(Some(tags.into_iter().collect()))
        .client_request_token(
            format!("{token_prefix}-{}", recorder.creator.run_id)
                .chars()
                .take(64)
                .collect::<String>(),
        );
    let created = match aws::eks::create_fargate_profile(create, cluster).await {
        Ok(created) => created,
        // Our own earlier attempt created it (confirmed below), or another profile is changing.
        Err(busy @ WorkflowError::FargateProfileBusy { .. }) => aws::eks::fargate_profile(eks, cluster, name)
            .await?
            .ok_or(busy)
            .map(Some)?,
        Err(other) => return Err(other),
    };
    let described = match created {
        Some(profile) => Some(profile),
        None => aws::eks::fargate_profile(eks, cluster, name).await?,
    };
    if let Some(profile) = &described {
        confirm(recorder, spec, profile).await?;
    }
    tracing::info!(profile = %name, "Fargate profile created");
    Ok(described)
}

/// Confirms the ledger's intent for `profile` (a no-op once confirmed).
pub async fn confirm(recorder: Recorder<'_>, spec: &Spec<'_>, profile: &FargateProfile) -> Result<()> {
    let arn = profile.fargate_profile_arn().unwrap_or(&spec.name);
    recorder
        .settle(spec.place, spec.kind, &spec.name, arn, BTreeMap::new())
        .await
}

/// What a cleanup does about the namespace's profile.
pub enum Plan {
    /// Nothing of ours (left): done, with what stays.
    Done(Removal),
    /// Ours and deletable now: its name (the caller takes the profile lease first).
    Delete(String),
    /// Being created or deleted: look again later.
    Wait,
}

/// Decides the cleanup of the profile `spec` names, which the ledger records as `record`: deleted
/// only when the ledger records it (in a rollback: by its run); an adopted or look-alike profile
/// stays.
pub async fn plan_removal(
    eks: &aws_sdk_eks::Client,
    ledger: &Ledger,
    spec: &Spec<'_>,
    record: Option<Record>,
    scope: &CleanupScope,
) -> Result<Plan> {
    let name = spec.name.clone();
    let found = look_up(eks, spec, record).await?;
    let what = format!("Fargate profile {name}");
    let Some(profile) = &found.profile else {
        if found.record.is_some() {
            ledger.forget(spec.place, spec.kind, &name).await?;
        }
        return Ok(Plan::Done(Removal::done()));
    };
    let Some(record) = found.record.as_ref().filter(|_| found.is_ours()) else {
        return Ok(Plan::Done(Removal::done().kept(what, NOT_RECORDED)));
    };
    if let Some(why) = scope.keeps(record) {
        return Ok(Plan::Done(Removal::done().kept(what, why)));
    }
    // Deleting already (our earlier call), or still being created (EKS refuses to delete it then).
    Ok(match profile.status() {
        Some(FargateProfileStatus::Deleting | FargateProfileStatus::Creating) => Plan::Wait,
        _ => Plan::Delete(name),
    })
}
