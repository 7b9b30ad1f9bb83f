//! epic01: the namespace, and the Fargate profile `fp-<namespace>` that runs its pods on the
//! cluster's private subnets. `converge` finds or creates it and polls: a missing profile is created
//! under the cluster's profile lease ([`profile_lease`]), so while another execution changes a
//! profile of the cluster the run is simply "not ready yet" and polls on.

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::{Adoptable, ProvisionRequest};
use crate::lease::Acquire;
use crate::ownership::Owner;
use crate::pacing::{self, Awaiting};
use crate::poll::Poll;
use crate::run::{AccessStatus, Run, StepEvent};
use crate::settings::Settings;
use crate::steps::access;
use crate::steps::k8s::Kube;
use crate::steps::k8s::namespace::{self, NamespaceOutput};
use crate::steps::k8s::rbac::{self, RbacState};
use crate::steps::network;
use crate::steps::profile_lease::{self, QUEUED_POLL_SECONDS};
use aws_sdk_eks::types::{FargateProfile, FargateProfileSelector, FargateProfileStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FargateAction {
    /// The namespace alone: the state machine runs it before any AWS resource is created.
    Namespace,
    /// Finds or creates the profile, and polls until it is ACTIVE.
    Converge,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileOutput {
    pub profile_name: String,
    /// Empty while [`QUEUED`].
    pub profile_arn: String,
    /// EKS's status, or [`QUEUED`].
    pub status: String,
    /// True when this call created the profile (false when it was found).
    pub created: bool,
}

/// Not an EKS status: the profile is not created yet because another execution holds the
/// cluster's profile lease.
pub const QUEUED: &str = "QUEUED";

/// One converging step on the profile.
#[derive(Clone, Debug)]
pub enum Converged {
    /// Found: its description.
    Found(Box<FargateProfile>),
    /// Created by this call (CREATING).
    Created(ProfileOutput),
    /// Waiting for the cluster's profile lease, held by the named execution.
    Queued { holder: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FargateOutput {
    Namespace(NamespaceOutput),
    Profile(ProfileOutput),
}

/// The `fargate-profile` function: `namespace` ensures the namespace; `converge` the profile.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: StepEvent<FargateAction>,
) -> Result<Poll<FargateOutput>> {
    event.run.validate()?;
    match event.action {
        FargateAction::Namespace => {
            let namespace = cluster_access_and_namespace(clients, settings, &event.run).await?;
            let detail = format!(
                "namespace {} ({}), workflow RBAC {:?}",
                namespace.name,
                if namespace.created { "created" } else { "found" },
                namespace.rbac
            );
            Ok(Poll::ready(event.attempt, detail, FargateOutput::Namespace(namespace)))
        }
        FargateAction::Converge => {
            let holder = event.execution_arn.as_deref();
            let poll = profile(clients, settings, &event.run, holder, event.attempt).await?;
            Ok(poll.map(FargateOutput::Profile))
        }
    }
}

/// The workflow's RBAC first, then the namespace. Without the rights to install missing RBAC,
/// reports `bootstrapRequired` (and leaves the namespace alone) unless the bootstrap grant is
/// already associated: then it has not reached the API server yet, and `ClusterAuthFailed` has
/// the state machine retry.
async fn cluster_access_and_namespace(clients: &AwsClients, settings: &Settings, run: &Run) -> Result<NamespaceOutput> {
    let kube = Kube::connect(clients, settings, &run.request.cluster_name).await?;
    let rbac = rbac::ensure(&kube, run).await?;
    let bootstrap_granted = access::bootstrap_granted(&clients.eks, run).await?;
    if rbac != RbacState::BootstrapRequired {
        let mut namespace = namespace::ensure_namespace(&kube, run, rbac).await?;
        namespace.bootstrap_granted = bootstrap_granted;
        return Ok(namespace);
    }
    if run.access.status != AccessStatus::Created {
        return Err(access::cannot_bootstrap(run));
    }
    if bootstrap_granted {
        return Err(WorkflowError::ClusterAuthFailed {
            cluster: run.request.cluster_name.clone(),
            code: 403,
            message: "the bootstrap grant has not reached the Kubernetes API server yet".into(),
        });
    }
    Ok(NamespaceOutput {
        name: run.request.namespace.clone(),
        created: false,
        rbac,
        bootstrap_granted,
    })
}

/// Converges the profile and reports: ready when ACTIVE, pending while queued behind another
/// execution's profile change or CREATING (polled in the function once it may be ACTIVE soon, see
/// [`pacing`]); a failed profile is an error.
pub async fn profile(
    clients: &AwsClients,
    settings: &Settings,
    run: &Run,
    holder: Option<&str>,
    attempt: u32,
) -> Result<Poll<ProfileOutput>> {
    let expected = pacing::FARGATE_PROFILE;
    pacing::settle(settings, || async {
        Ok(match converge(clients, settings, run, holder).await? {
            Converged::Found(profile) => {
                let waited = profile
                    .created_at()
                    .map_or(0, |at| settings.time_scale.since_smithy(at));
                (poll_of(&profile, attempt)?, Some(Awaiting { expected, waited }))
            }
            Converged::Created(created) => {
                let detail = format!("Fargate profile {} created, CREATING", created.profile_name);
                (
                    Poll::pending(attempt, 0, detail, created),
                    Some(Awaiting::started_now(expected)),
                )
            }
            Converged::Queued { holder } => (
                Poll::pending(
                    attempt,
                    settings.poll_seconds(QUEUED_POLL_SECONDS),
                    format!("queued: {holder} is changing a Fargate profile of the cluster"),
                    ProfileOutput {
                        profile_name: run.owner().fargate_profile_name(),
                        profile_arn: String::new(),
                        status: QUEUED.into(),
                        created: false,
                    },
                ),
                None,
            ),
        })
    })
    .await
}

/// Finds the profile (releasing the cluster's lease once it is no longer CREATING), or creates
/// it if this execution gets the lease.
pub async fn converge(clients: &AwsClients, settings: &Settings, run: &Run, holder: Option<&str>) -> Result<Converged> {
    let cluster = &run.request.cluster_name;
    let name = run.owner().fargate_profile_name();
    if let Some(existing) = aws::eks::fargate_profile(&clients.eks, &run.request.cluster_name, &name).await? {
        check_adoptable(&existing, &run.owner(), &run.request)?;
        check_spec(&existing, run)?;
        if existing.status() != Some(&FargateProfileStatus::Creating) {
            profile_lease::release(clients, settings, cluster, holder).await?;
        }
        return Ok(Converged::Found(Box::new(existing)));
    }
    match profile_lease::acquire(clients, settings, cluster, holder, "create-fargate-profile").await? {
        Acquire::Held(held) => Ok(Converged::Queued { holder: held.holder }),
        // `ensure_profile` describes again: cheap, and it keeps one create path.
        Acquire::Acquired { .. } => ensure_profile(clients, run).await.map(Converged::Created),
    }
}

/// Finds or creates the profile. An existing profile with another spec is an error, never reused.
pub async fn ensure_profile(clients: &AwsClients, run: &Run) -> Result<ProfileOutput> {
    let eks = &clients.eks;
    let name = run.owner().fargate_profile_name();
    if let Some(existing) = aws::eks::fargate_profile(eks, &run.request.cluster_name, &name).await? {
        check_adoptable(&existing, &run.owner(), &run.request)?;
        check_spec(&existing, run)?;
        return Ok(output(&existing, false));
    }
    // The profile places the namespace's pods in these subnets: never in whatever the input says.
    network::verified(clients, run).await?;
    let request = eks
        .create_fargate_profile()
        .cluster_name(&run.request.cluster_name)
        .fargate_profile_name(&name)
        .pod_execution_role_arn(&run.request.pod_execution_role_arn)
        .set_subnets(Some(
            run.network
                .private_subnets
                .iter()
                .map(|s| s.subnet_id.clone())
                .collect(),
        ))
        .selectors(
            FargateProfileSelector::builder()
                .namespace(&run.request.namespace)
                .build(),
        )
        .set_tags(Some(run.tags(&name).into_iter().collect()))
        .client_request_token(
            format!("{}-{}", run.owner().short_hash(), run.run_id)
                .chars()
                .take(64)
                .collect::<String>(),
        );
    match aws::eks::create_fargate_profile(request, &run.request.cluster_name).await {
        Ok(created) => {
            tracing::info!(profile = %name, "Fargate profile created");
            Ok(created.map_or_else(
                || ProfileOutput {
                    profile_name: name.clone(),
                    profile_arn: String::new(),
                    status: "CREATING".into(),
                    created: true,
                },
                |profile| output(&profile, true),
            ))
        }
        // Either our own earlier attempt created it, or another profile of the cluster is changing.
        Err(busy @ WorkflowError::FargateProfileBusy { .. }) => {
            match aws::eks::fargate_profile(eks, &run.request.cluster_name, &name).await? {
                Some(existing) => {
                    check_adoptable(&existing, &run.owner(), &run.request)?;
                    check_spec(&existing, run)?;
                    Ok(output(&existing, false))
                }
                None => Err(busy),
            }
        }
        Err(other) => Err(other),
    }
}

/// The poll for a described profile: ready when ACTIVE, pending while CREATING (when to poll
/// again is [`profile`]'s call), failed otherwise.
fn poll_of(profile: &FargateProfile, attempt: u32) -> Result<Poll<ProfileOutput>> {
    let name = profile.fargate_profile_name().unwrap_or_default().to_string();
    let status = profile.status().cloned().unwrap_or(FargateProfileStatus::Creating);
    match status {
        FargateProfileStatus::Active => Ok(Poll::ready(
            attempt,
            format!("Fargate profile {name} is ACTIVE"),
            output(profile, false),
        )),
        FargateProfileStatus::Creating => Ok(Poll::pending(
            attempt,
            0,
            format!("Fargate profile {name} is CREATING"),
            output(profile, false),
        )),
        other => Err(WorkflowError::FargateProfileFailed {
            name,
            status: other.as_str().to_string(),
            details: profile
                .health()
                .map(|h| {
                    h.issues()
                        .iter()
                        .filter_map(|i| i.message())
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "no health issues reported".into()),
        }),
    }
}

fn output(profile: &FargateProfile, created: bool) -> ProfileOutput {
    ProfileOutput {
        profile_name: profile.fargate_profile_name().unwrap_or_default().to_string(),
        profile_arn: profile.fargate_profile_arn().unwrap_or_default().to_string(),
        status: profile.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        created,
    }
}

/// A profile under our name that the workflow did not create is used only when the input adopts it.
pub fn check_adoptable(profile: &FargateProfile, owner: &Owner, request: &ProvisionRequest) -> Result<()> {
    if owner.owns(aws::eks::tag_pairs(profile.tags())) || request.adopts(Adoptable::FargateProfile) {
        return Ok(());
    }
    Err(WorkflowError::FargateProfileConflict {
        name: profile.fargate_profile_name().unwrap_or_default().to_string(),
        difference: "it was not created by the workflow (no ownership tags); add \"fargateProfile\" to the input's `adopt` list to use it as it is (cleanup will never delete it)".into(),
    })
}

/// Profiles are immutable, so any difference means someone else's profile holds the name.
fn check_spec(profile: &FargateProfile, run: &Run) -> Result<()> {
    let mut differences = Vec::new();
    if profile.pod_execution_role_arn() != Some(run.request.pod_execution_role_arn.as_str()) {
        differences.push(format!(
            "pod execution role {} instead of {}",
            profile.pod_execution_role_arn().unwrap_or("(none)"),
            run.request.pod_execution_role_arn
        ));
    }
    let subnets: BTreeSet<&str> = profile.subnets().iter().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = run
        .network
        .private_subnets
        .iter()
        .map(|s| s.subnet_id.as_str())
        .collect();
    if subnets != wanted {
        differences.push(format!("subnets {subnets:?} instead of {wanted:?}"));
    }
    let selects_namespace_only = matches!(profile.selectors(), [only]
        if only.namespace() == Some(run.request.namespace.as_str()) && only.labels().is_none_or(|l| l.is_empty()));
    if !selects_namespace_only {
        differences.push(format!("selectors other than namespace {}", run.request.namespace));
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
