//! epic01: the namespace, and the Fargate profile `fp-<namespace>` (`resources::fargate_profile`)
//! that runs its pods on the cluster's private subnets. `converge` finds or creates it and polls: a
//! missing profile is created under the cluster's profile lease ([`profile_lease`]), so while
//! another execution changes a profile of the cluster the run is simply "not ready yet" and polls on.

use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::lease::Acquire;
use crate::ledger::Ledger;
use crate::pacing::{self, Awaiting};
use crate::poll::Poll;
use crate::resources::namespace::{self, NamespaceOutput};
use crate::resources::rbac::{self, RbacState};
use crate::resources::{Recorder, bootstrap_grant, fargate_profile};
use crate::run::{AccessStatus, Run, StepEvent};
use crate::settings::Settings;
use crate::steps::network;
use crate::steps::profile_lease::{self, QUEUED_POLL_SECONDS};
use aws_sdk_eks::types::{FargateProfile, FargateProfileStatus};
use serde::{Deserialize, Serialize};

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
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let (owner, creator) = (run.owner(), run.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let rbac = rbac::ensure(&kube, recorder, run).await?;
    let bootstrap_granted = bootstrap_grant::is_granted(&clients.eks, run).await?;
    if rbac != RbacState::BootstrapRequired {
        let mut namespace = namespace::ensure_namespace(&kube, recorder, run, rbac).await?;
        namespace.bootstrap_granted = bootstrap_granted;
        return Ok(namespace);
    }
    if run.access.status != AccessStatus::Created {
        return Err(bootstrap_grant::cannot_bootstrap(run));
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
/// it, recorded in the ledger, if this execution gets the lease. A profile the run may not use
/// is a conflict, decided before anything is created.
pub async fn converge(clients: &AwsClients, settings: &Settings, run: &Run, holder: Option<&str>) -> Result<Converged> {
    let cluster = &run.request.cluster_name;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let (owner, creator) = (run.owner(), run.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let view = ledger.namespace(cluster, &owner.namespace).await?;
    let found = fargate_profile::find(&clients.eks, &view, &owner).await?;
    let decision = fargate_profile::decide(&found, &run.request, Some(&run.network.private_subnets))?;
    if let Some(existing) = found.profile {
        if decision == (fargate_profile::Decision::Use { adopted: false }) {
            fargate_profile::confirm(recorder, &existing).await?;
        }
        if existing.status() != Some(&FargateProfileStatus::Creating) {
            profile_lease::release(clients, settings, cluster, holder).await?;
        }
        return Ok(Converged::Found(Box::new(existing)));
    }
    match profile_lease::acquire(clients, settings, cluster, holder, "create-fargate-profile").await? {
        Acquire::Held(held) => Ok(Converged::Queued { holder: held.holder }),
        Acquire::Acquired { .. } => {
            // The profile places the namespace's pods in these subnets: never in whatever the input says.
            network::verified(clients, run).await?;
            let created = fargate_profile::create(
                &clients.eks,
                recorder,
                &run.request,
                &run.network.private_subnets,
                run.tags(&owner.fargate_profile_name()),
            )
            .await?;
            Ok(Converged::Created(created.as_ref().map_or_else(
                || ProfileOutput {
                    profile_name: owner.fargate_profile_name(),
                    profile_arn: String::new(),
                    status: "CREATING".into(),
                    created: true,
                },
                |profile| output(profile, true),
            )))
        }
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
