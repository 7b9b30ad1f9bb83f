//! epic04: the PoC app. A static PV on the run's file system, its claim, and pods `poc-app1` and
//! `poc-app2`, each appending to its own file and printing the other's last line every 5 s.
//!
//! `converge`, called until ready: apply the PV and claim; once the claim is Bound, apply the
//! pods (Fargate refuses to schedule a pod whose claim is not yet Bound); report ready when both
//! pods are Running, else why not. Fargate admits a pod only when it is created, so a pod
//! created before the namespace's profile was ACTIVE stays Pending for ever: once the profile is
//! ACTIVE, such a pod is deleted and the next poll creates it again.

use super::KubeStepEvent;
use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::k8s::pod_status::{self, PodReport};
use crate::ledger::Ledger;
use crate::pacing::{self, Awaiting};
use crate::poll::Poll;
use crate::resources::kube_object::Objects;
use crate::resources::workload::manifests::{self, APP, APP_PODS};
use crate::resources::workload::{EfsVolume, volumes};
use crate::resources::{Kind, Recorder};
use crate::run::Run;
use crate::settings::Settings;
use aws_sdk_eks::types::FargateProfileStatus;
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PocAppAction {
    Converge,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PocAppOutput {
    pub persistent_volume: String,
    pub claim: String,
    pub claim_bound: bool,
    /// Empty until the claim is Bound.
    pub pods: Vec<PodReport>,
}

/// The `poc-app` function.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: KubeStepEvent<PocAppAction>,
) -> Result<Poll<PocAppOutput>> {
    event.validate()?;
    let kube = Kube::connect(clients, settings, &event.run.request.cluster_name).await?;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let (owner, creator) = (event.run.owner(), event.run.creator());
    let objects = Objects {
        kube: &kube,
        recorder: Recorder {
            ledger: &ledger,
            owner: &owner,
            creator: &creator,
        },
    };
    match event.action {
        PocAppAction::Converge => {
            converge(
                objects,
                &clients.eks,
                settings,
                &event.run,
                event.volume(),
                event.attempt,
            )
            .await
        }
    }
}

/// The name of the app's PV in `namespace` (cluster-scoped, so the namespace is part of it).
pub fn persistent_volume_name(namespace: &str) -> String {
    APP.volume_name(namespace)
}

/// Polls [`converge_once`] as [`pacing`] plans: the claim's binding in the function, the pods'
/// start mostly in a Wait state.
pub async fn converge(
    objects: Objects<'_>,
    eks: &aws_sdk_eks::Client,
    settings: &Settings,
    run: &Run,
    volume: EfsVolume<'_>,
    attempt: u32,
) -> Result<Poll<PocAppOutput>> {
    pacing::settle(settings, || converge_once(objects, eks, run, volume, attempt)).await
}

async fn converge_once(
    objects: Objects<'_>,
    eks: &aws_sdk_eks::Client,
    run: &Run,
    volume: EfsVolume<'_>,
    attempt: u32,
) -> Result<(Poll<PocAppOutput>, Option<Awaiting>)> {
    let mut status = PocAppOutput {
        persistent_volume: persistent_volume_name(&run.request.namespace),
        claim: APP.claim.into(),
        claim_bound: false,
        pods: vec![],
    };
    let kube = objects.kube;
    if let Some(waiting) = volumes::ensure_bound(objects, run, APP, volume).await? {
        let binding = Awaiting::started_now(pacing::CLAIM_BINDING);
        return Ok((Poll::pending(attempt, 0, waiting, status), Some(binding)));
    }
    status.claim_bound = true;
    let namespace = &run.request.namespace;
    let pods = kube.namespaced::<Pod>(namespace);
    // Pods created by this call start now. One found starting was created by an earlier call,
    // which had a Wait state time this poll, so it is due. (Its creationTimestamp is not read: it is
    // the API server's clock, the fake cluster's simulated one in the bench's replay.)
    let mut starting = Awaiting::due(pacing::FARGATE_POD);
    for (name, n) in APP_PODS.iter().zip(1..) {
        let pod = match objects.get(Kind::Pod, &pods, name).await? {
            Some(pod) => pod,
            None => {
                starting = Awaiting::started_now(pacing::FARGATE_POD);
                let pod = manifests::pod(run, name, APP.claim, manifests::app_command(n), "Always");
                objects.apply(Kind::Pod, &pods, &pod).await?
            }
        };
        let mut report = PodReport::of(name, Some(&pod));
        if passed_over_by_fargate(&pod) && profile_active(eks, run).await? {
            starting = Awaiting::started_now(pacing::FARGATE_POD);
            objects.delete(Kind::Pod, &pods, name).await?;
            report.reason = Some(format!(
                "created before Fargate profile {} was ACTIVE, so no scheduler takes it: recreating it",
                run.owner().fargate_profile_name()
            ));
        }
        if report.has_stopped() {
            return Err(WorkflowError::PodFailed {
                namespace: namespace.clone(),
                pod: name.to_string(),
                detail: report.summary(),
            });
        }
        if !report.is_running() {
            report.events = pod_status::warnings(kube, namespace, "Pod", name).await;
        }
        status.pods.push(report);
    }
    let pending: Vec<String> = status
        .pods
        .iter()
        .filter(|p| !p.is_running())
        .map(PodReport::summary)
        .collect();
    Ok(if pending.is_empty() {
        let detail = format!("{} are Running on {}", APP_PODS.join(" and "), volume.handle());
        (Poll::ready(attempt, detail, status), None)
    } else {
        (Poll::pending(attempt, 0, pending.join("; "), status), Some(starting))
    })
}

/// Unschedulable and not on the Fargate scheduler: Fargate's admission webhook did not take the
/// pod when it was created.
fn passed_over_by_fargate(pod: &Pod) -> bool {
    let on_fargate = pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref()) == Some("fargate-scheduler");
    let unschedulable = pod
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable"));
    !on_fargate && unschedulable && pod.metadata.deletion_timestamp.is_none()
}

async fn profile_active(eks: &aws_sdk_eks::Client, run: &Run) -> Result<bool> {
    let profile =
        aws::eks::fargate_profile(eks, &run.request.cluster_name, &run.owner().fargate_profile_name()).await?;
    Ok(profile.and_then(|p| p.status().cloned()) == Some(FargateProfileStatus::Active))
}
