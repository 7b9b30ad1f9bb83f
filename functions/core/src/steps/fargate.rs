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
use crate::resources::{Kind, Recorder, bootstrap_grant, collector, fargate_profile};
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

/// Converges the namespace's profile, then (when the run asks for Container Insights) the
/// collector's, and reports: ready when both are ACTIVE, pending while one is queued behind another
/// execution's profile change or CREATING (polled in the function once it may be ACTIVE soon, see
/// [`pacing`]); a failed profile is an error. EKS changes one profile of a cluster at a time, so the
/// collector's waits for the namespace's.
pub async fn profile(
    clients: &AwsClients,
    settings: &Settings,
    run: &Run,
    holder: Option<&str>,
    attempt: u32,
) -> Result<Poll<ProfileOutput>> {
    let owner = run.owner();
    let namespace = fargate_profile::Spec::of_namespace(&owner);
    let own = settle(clients, settings, run, holder, attempt, &namespace).await?;
    if !own.ready || !run.request.monitoring.container_insights {
        return Ok(own);
    }
    let collector = settle(
        clients,
        settings,
        run,
        holder,
        attempt,
        &collector::profile::spec(&owner.cluster),
    )
    .await?;
    let detail = format!("{}; collector: {}", own.detail, collector.detail);
    Ok(if collector.ready {
        Poll::ready(attempt, detail, own.output)
    } else {
        Poll::pending(attempt, collector.next_poll_seconds, detail, own.output)
    })
}

/// Polls one profile until it is ACTIVE or the plan says to leave it to the state machine's Wait.
async fn settle(
    clients: &AwsClients,
    settings: &Settings,
    run: &Run,
    holder: Option<&str>,
    attempt: u32,
    spec: &fargate_profile::Spec<'_>,
) -> Result<Poll<ProfileOutput>> {
    let expected = pacing::FARGATE_PROFILE;
    pacing::settle(settings, || async {
        Ok(match converge_profile(clients, settings, run, holder, spec).await? {
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
                        profile_name: spec.name.clone(),
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

/// One converging step on the namespace's profile (see [`converge_profile`]).
pub async fn converge(clients: &AwsClients, settings: &Settings, run: &Run, holder: Option<&str>) -> Result<Converged> {
    let owner = run.owner();
    converge_profile(
        clients,
        settings,
        run,
        holder,
        &fargate_profile::Spec::of_namespace(&owner),
    )
    .await
}

/// Finds the profile `spec` names (releasing the cluster's lease once it is no longer CREATING),
/// or creates it, recorded in the ledger, if this execution gets the lease. A profile the run may
/// not use is a conflict, decided before anything is created.
async fn converge_profile(
    clients: &AwsClients,
    settings: &Settings,
    run: &Run,
    holder: Option<&str>,
    spec: &fargate_profile::Spec<'_>,
) -> Result<Converged> {
    let cluster = &run.request.cluster_name;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let (owner, creator) = (run.owner(), run.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let found = if spec.kind == Kind::FargateProfile {
        let view = ledger.namespace(cluster, &owner.namespace).await?;
        let found = fargate_profile::find(&clients.eks, &view, &owner).await?;
        // Ours, or one the input adopts (used, never recorded): decided before anything is created.
        fargate_profile::decide(&found, &run.request, Some(&run.network.private_subnets))?;
        found
    } else {
        let found = collector::profile::find(&clients.eks, &ledger, cluster).await?;
        collector::profile::check_ours(&found)?;
        found
    };
    if let Some(existing) = &found.profile {
        if found.is_ours() {
            fargate_profile::confirm(recorder, spec, existing).await?;
        }
        if existing.status() != Some(&FargateProfileStatus::Creating) {
            profile_lease::release(clients, settings, cluster, holder).await?;
        }
        return Ok(Converged::Found(Box::new(existing.clone())));
    }
    match profile_lease::acquire(clients, settings, cluster, holder, "create-fargate-profile").await? {
        Acquire::Held(held) => Ok(Converged::Queued { holder: held.holder }),
        Acquire::Acquired { .. } => {
            // The profile places pods in these subnets: never in whatever the input says.
            network::verified(clients, run).await?;
            let created = fargate_profile::create(
                &clients.eks,
                recorder,
                spec,
                &run.request.pod_execution_role_arn,
                &run.network.private_subnets,
                run.tags(&spec.name),
            )
            .await?;
            Ok(Converged::Created(created.as_ref().map_or_else(
                || ProfileOutput {
                    profile_name: spec.name.clone(),
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
