//! epic01: the namespace, and the Fargate profile `fp-<namespace>` that runs its pods on the
//! cluster's private subnets. `create` and `status` both converge: a missing profile is created
//! under the cluster's profile lease ([`profile_lease`]), so while another execution changes a
//! profile of the cluster the run is simply "not ready yet" and polls on.

use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::input::{Adoptable, ProvisionRequest};
use crate::lease::Acquire;
use crate::ownership::Owner;
use crate::run::{Poll, Run, StepEvent};
use crate::settings::Settings;
use crate::steps::k8s::Kube;
use crate::steps::k8s::namespace::{self, NamespaceOutput};
use crate::steps::profile_lease::{self, QUEUED_POLL_SECONDS};
use aws_sdk_eks::types::{FargateProfile, FargateProfileSelector, FargateProfileStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Seconds between polls: EKS takes a minute or two to create or delete a profile.
pub const PROFILE_POLL_SECONDS: u32 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FargateAction {
    /// The namespace alone: the state machine runs it before any AWS resource is created.
    Namespace,
    Create,
    Status,
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
#[serde(rename_all = "camelCase")]
pub struct CreateOutput {
    #[serde(flatten)]
    pub profile: ProfileOutput,
    pub namespace: NamespaceOutput,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FargateOutput {
    Namespace(NamespaceOutput),
    Created(CreateOutput),
    Poll(Poll),
}

/// The `fargate-profile` function: `namespace` ensures the namespace; `create` ensures it again
/// (idempotent), then converges the profile once; `status` converges and polls.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: StepEvent<FargateAction>,
) -> Result<FargateOutput> {
    event.run.validate()?;
    let holder = event.execution_arn.as_deref();
    match event.action {
        FargateAction::Namespace => {
            let kube = Kube::connect(clients, settings, &event.run.request.cluster_name).await?;
            namespace::ensure_namespace(&kube, &event.run)
                .await
                .map(FargateOutput::Namespace)
        }
        FargateAction::Create => {
            // The namespace first: a cluster that refuses the workflow fails the run before any
            // AWS resource exists.
            let kube = Kube::connect(clients, settings, &event.run.request.cluster_name).await?;
            let namespace = namespace::ensure_namespace(&kube, &event.run).await?;
            let profile = match converge(clients, settings, &event.run, holder).await? {
                Converged::Found(profile) => output(&profile, false),
                Converged::Created(created) => created,
                Converged::Queued { .. } => ProfileOutput {
                    profile_name: event.run.owner().fargate_profile_name(),
                    profile_arn: String::new(),
                    status: QUEUED.into(),
                    created: false,
                },
            };
            Ok(FargateOutput::Created(CreateOutput { profile, namespace }))
        }
        FargateAction::Status => {
            let attempt = event.attempt + 1;
            let poll = match converge(clients, settings, &event.run, holder).await? {
                Converged::Found(profile) => poll_of(&profile, settings, attempt)?,
                Converged::Created(created) => Poll {
                    ready: false,
                    next_poll_seconds: settings.poll_seconds(PROFILE_POLL_SECONDS),
                    attempt,
                    detail: format!("Fargate profile {} created, CREATING", created.profile_name),
                },
                Converged::Queued { holder } => Poll {
                    ready: false,
                    next_poll_seconds: settings.poll_seconds(QUEUED_POLL_SECONDS),
                    attempt,
                    detail: format!("queued: {holder} is changing a Fargate profile of the cluster"),
                },
            };
            Ok(FargateOutput::Poll(poll))
        }
    }
}

/// Finds the profile (releasing the cluster's lease once it is no longer CREATING), or creates
/// it if this execution gets the lease.
pub async fn converge(clients: &AwsClients, settings: &Settings, run: &Run, holder: Option<&str>) -> Result<Converged> {
    let cluster = &run.request.cluster_name;
    let name = run.owner().fargate_profile_name();
    if let Some(existing) = describe_profile(&clients.eks, run, &name).await? {
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
        Acquire::Acquired { .. } => ensure_profile(&clients.eks, run).await.map(Converged::Created),
    }
}

/// Finds or creates the profile. An existing profile with another spec is an error, never reused.
pub async fn ensure_profile(eks: &aws_sdk_eks::Client, run: &Run) -> Result<ProfileOutput> {
    let name = run.owner().fargate_profile_name();
    if let Some(existing) = describe_profile(eks, run, &name).await? {
        check_adoptable(&existing, &run.owner(), &run.request)?;
        check_spec(&existing, run)?;
        return Ok(output(&existing, false));
    }
    let created = eks
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
        )
        .send()
        .await;
    match created {
        Ok(out) => {
            tracing::info!(profile = %name, "Fargate profile created");
            Ok(out.fargate_profile().map_or_else(
                || ProfileOutput {
                    profile_name: name.clone(),
                    profile_arn: String::new(),
                    status: "CREATING".into(),
                    created: true,
                },
                |profile| output(profile, true),
            ))
        }
        // Either our own earlier attempt created it, or another profile of the cluster is changing.
        Err(e) if sdk_error_code(&e) == Some("ResourceInUseException") => {
            match describe_profile(eks, run, &name).await? {
                Some(existing) => {
                    check_adoptable(&existing, &run.owner(), &run.request)?;
                    check_spec(&existing, run)?;
                    Ok(output(&existing, false))
                }
                None => Err(WorkflowError::FargateProfileBusy {
                    cluster: run.request.cluster_name.clone(),
                    message: e
                        .as_service_error()
                        .and_then(|s| s.meta().message())
                        .unwrap_or("resource in use")
                        .to_string(),
                }),
            }
        }
        Err(e) => Err(WorkflowError::from_sdk("eks:CreateFargateProfile", e)),
    }
}

/// Ready once the profile is ACTIVE; a failed or vanished profile is an error.
pub async fn profile_status(eks: &aws_sdk_eks::Client, settings: &Settings, run: &Run, attempt: u32) -> Result<Poll> {
    let name = run.owner().fargate_profile_name();
    let profile = describe_profile(eks, run, &name)
        .await?
        .ok_or_else(|| WorkflowError::FargateProfileFailed {
            name: name.clone(),
            status: "NOT_FOUND".into(),
            details: "the profile disappeared while the workflow waited for it; start the run again".into(),
        })?;
    poll_of(&profile, settings, attempt + 1)
}

/// The poll for a described profile: ready when ACTIVE, waiting while CREATING, failed otherwise.
fn poll_of(profile: &FargateProfile, settings: &Settings, attempt: u32) -> Result<Poll> {
    let name = profile.fargate_profile_name().unwrap_or_default().to_string();
    let status = profile.status().cloned().unwrap_or(FargateProfileStatus::Creating);
    match status {
        FargateProfileStatus::Active => Ok(Poll {
            ready: true,
            next_poll_seconds: 0,
            attempt,
            detail: format!("Fargate profile {name} is ACTIVE"),
        }),
        FargateProfileStatus::Creating => Ok(Poll {
            ready: false,
            next_poll_seconds: settings.poll_seconds(PROFILE_POLL_SECONDS),
            attempt,
            detail: format!("Fargate profile {name} is CREATING"),
        }),
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

pub async fn describe_profile(eks: &aws_sdk_eks::Client, run: &Run, name: &str) -> Result<Option<FargateProfile>> {
    describe_profile_of(eks, &run.request.cluster_name, name).await
}

pub async fn describe_profile_of(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    name: &str,
) -> Result<Option<FargateProfile>> {
    match eks
        .describe_fargate_profile()
        .cluster_name(cluster)
        .fargate_profile_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.fargate_profile().cloned()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(WorkflowError::from_sdk("eks:DescribeFargateProfile", e)),
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
    let tags = profile
        .tags()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    if owner.owns(tags) || request.adopts(Adoptable::FargateProfile) {
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
