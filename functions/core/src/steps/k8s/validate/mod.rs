//! epic05: proof that the file system is shared and persistent, without `exec`.
//!
//! - `cross-read`: each PoC app prints the last line of the other's file, so its log shows what it
//!   read; ready once poc-app1's log has a `PoC APP 2` line and poc-app2's a `PoC APP 1` line. The
//!   evidence is recorded (see [`record`]).
//! - `persistence`: deletes the app's pods, claim and PV (Retain keeps the data), then applies the
//!   validation PV, claim and pod `poc-app-validation`, which lists /data and prints the last
//!   lines of both files; ready once that pod is created.
//! - `report`: converges like `persistence` first (so the state machine may call `persistence`
//!   once and loop on `report`), then is ready once the validation pod has ended; returns the
//!   report, or `ValidationFailed` with the evidence.

pub mod record;
pub mod report;

use super::KubeStepEvent;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::k8s::pod_status::{self, PodReport};
use crate::ledger::Ledger;
use crate::pacing::{self, Awaiting};
use crate::poll::Poll;
use crate::resources::access_point;
use crate::resources::kube_object::Objects;
use crate::resources::workload::manifests::{self, APP, APP_PODS, VALIDATION, VALIDATION_POD};
use crate::resources::workload::{EfsVolume, volumes};
use crate::resources::{Kind, Recorder};
use crate::run::Run;
use crate::settings::Settings;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::LogParams;
use record::{CrossRead, Record, Timings};
use report::{APP_FILES, RunsAs, ValidationReport};
use serde::{Deserialize, Serialize};

/// Seconds between polls: the apps write every 5 s.
const CROSS_READ_POLL_SECONDS: u32 = 5;
/// Polls of two Running apps without a cross-read line before the check fails with the evidence
/// (two minutes at the AWS interval): by then each app has written about 24 lines.
pub const CROSS_READ_ATTEMPTS: u32 = 24;
/// Log lines read per app: a few write cycles.
const LOG_LINES: i64 = 20;
/// Log text kept in an error's evidence.
const EVIDENCE_CHARS: usize = 1500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidateAction {
    CrossRead,
    Persistence,
    Report,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateOutput {
    /// `cross-read`, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_read: Option<CrossRead>,
    /// `report`, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ValidationReport>,
}

/// The `validate` function.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: KubeStepEvent<ValidateAction>,
) -> Result<Poll<ValidateOutput>> {
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
    let (run, volume, attempt) = (&event.run, event.volume(), event.attempt);
    match event.action {
        ValidateAction::CrossRead => cross_read(objects, settings, run, attempt).await,
        ValidateAction::Persistence => persistence(objects, settings, run, volume, attempt).await,
        ValidateAction::Report => report(objects, settings, run, volume, attempt).await,
    }
}

fn waiting(seconds: u32, attempt: u32, detail: String) -> Poll<ValidateOutput> {
    Poll::pending(attempt, seconds, detail, ValidateOutput::default())
}

fn done(attempt: u32, detail: String) -> Poll<ValidateOutput> {
    Poll::ready(attempt, detail, ValidateOutput::default())
}

/// Polls [`cross_read_once`] in the function: the apps print the other's line seconds after they
/// start.
pub async fn cross_read(
    objects: Objects<'_>,
    settings: &Settings,
    run: &Run,
    attempt: u32,
) -> Result<Poll<ValidateOutput>> {
    pacing::settle(settings, || cross_read_once(objects, settings, run, attempt)).await
}

async fn cross_read_once(
    objects: Objects<'_>,
    settings: &Settings,
    run: &Run,
    attempt: u32,
) -> Result<(Poll<ValidateOutput>, Option<Awaiting>)> {
    let kube = objects.kube;
    let pods = kube.namespaced::<Pod>(&run.request.namespace);
    let mut found = Vec::new();
    let mut logs = Vec::new();
    let mut running_since = Vec::new();
    // poc-app1 prints lines of out2.txt (written by poc-app2), and the other way round.
    for (name, (_, other_mark)) in APP_PODS.iter().zip(APP_FILES.iter().rev()) {
        let pod = objects.get(Kind::Pod, &pods, name).await?;
        let report = PodReport::of(name, pod.as_ref());
        if report.has_stopped() {
            return Err(WorkflowError::ValidationFailed {
                check: format!("{name} must keep running while the cross-read is checked"),
                evidence: report.summary(),
            });
        }
        if let Some(pod) = &pod {
            running_since.extend(started_at(pod));
        }
        if !report.is_running() {
            let seconds = settings.poll_seconds(CROSS_READ_POLL_SECONDS);
            return Ok((waiting(seconds, attempt, report.summary()), None));
        }
        let params = LogParams {
            container: Some(name.to_string()),
            tail_lines: Some(LOG_LINES),
            ..LogParams::default()
        };
        let log = pods
            .logs(name, &params)
            .await
            .map_err(|e| kube.error(format!("read the log of pod {name}"), e))?;
        found.push(
            log.lines()
                .rev()
                .map(str::trim_end)
                .find(|l| l.ends_with(other_mark))
                .map(str::to_string),
        );
        logs.push(format!("{name}: {}", last_lines(&log)));
    }
    if let [Some(poc_app1_read), Some(poc_app2_read)] = found.as_slice() {
        let cross_read = CrossRead {
            poc_app1_read: poc_app1_read.clone(),
            poc_app2_read: poc_app2_read.clone(),
        };
        let timings = Timings {
            apps_running_at: running_since.into_iter().max().map(|t| t.to_string()),
            cross_read_at: Some(Timestamp::now().to_string()),
            ..Timings::default()
        };
        record::save(
            objects,
            run,
            &Record {
                cross_read: cross_read.clone(),
                timings,
            },
        )
        .await?;
        // The app runs, so a validation pod can only be an earlier run's: it must not answer for this one.
        objects.delete(Kind::Pod, &pods, VALIDATION_POD).await?;
        let mut output = done(attempt, "each PoC app read the other's file".into());
        output.output.cross_read = Some(cross_read);
        return Ok((output, None));
    }
    if attempt + 1 >= CROSS_READ_ATTEMPTS {
        return Err(WorkflowError::ValidationFailed {
            check: format!(
                "each PoC app must print a line of the other's file within {CROSS_READ_ATTEMPTS} polls; \
                 are both pods on the same file system?"
            ),
            evidence: logs.join(" | "),
        });
    }
    let detail = format!("no cross-read line yet: {}", logs.join(" | "));
    // Seconds at most, so waited for in the function whenever the apps started.
    Ok((waiting(0, attempt, detail), Some(Awaiting::due(pacing::CROSS_READ))))
}

/// Polls [`persistence_once`] in the function: deletions and a claim's binding take seconds.
pub async fn persistence(
    objects: Objects<'_>,
    settings: &Settings,
    run: &Run,
    volume: EfsVolume<'_>,
    attempt: u32,
) -> Result<Poll<ValidateOutput>> {
    pacing::settle(settings, || persistence_once(objects, run, volume, attempt)).await
}

async fn persistence_once(
    objects: Objects<'_>,
    run: &Run,
    volume: EfsVolume<'_>,
    attempt: u32,
) -> Result<(Poll<ValidateOutput>, Option<Awaiting>)> {
    let kube = objects.kube;
    let namespace = &run.request.namespace;
    let Some(mut record) = record::load(objects, run).await? else {
        return Err(WorkflowError::ValidationFailed {
            check: "the cross-read must pass before the app is deleted".into(),
            evidence: format!(
                "ConfigMap {namespace}/{} does not exist; run the `cross-read` action until it is ready",
                record::RECORD
            ),
        });
    };
    let mut remaining = Vec::new();
    let pods = kube.namespaced::<Pod>(namespace);
    for name in APP_PODS {
        if objects.delete(Kind::Pod, &pods, name).await? {
            remaining.push(format!("pod {name}"));
        }
    }
    let claims = kube.namespaced::<PersistentVolumeClaim>(namespace);
    if objects.delete(Kind::PersistentVolumeClaim, &claims, APP.claim).await? {
        remaining.push(format!("claim {}", APP.claim));
    }
    // Retain: deleting the PV leaves the files on EFS.
    let app_volume = APP.volume_name(&run.request.namespace);
    if objects
        .delete(Kind::PersistentVolume, &kube.all::<PersistentVolume>(), &app_volume)
        .await?
    {
        remaining.push(format!("volume {app_volume}"));
    }
    let deleting = Some(Awaiting::started_now(pacing::POD_DELETION));
    if !remaining.is_empty() {
        let detail = format!("deleting the app: {}", remaining.join(", "));
        return Ok((waiting(0, attempt, detail), deleting));
    }
    if record.timings.apps_deleted_at.is_none() {
        record.timings.apps_deleted_at = Some(Timestamp::now().to_string());
        record::save(objects, run, &record).await?;
    }
    if let Some(pending) = volumes::ensure_bound(objects, run, VALIDATION, volume).await? {
        let binding = Awaiting::started_now(pacing::CLAIM_BINDING);
        return Ok((waiting(0, attempt, pending), Some(binding)));
    }
    match objects.get(Kind::Pod, &pods, VALIDATION_POD).await? {
        Some(pod) if pod.metadata.deletion_timestamp.is_some() => {
            let detail = format!("pod {VALIDATION_POD} of an earlier validation is still being deleted");
            return Ok((waiting(0, attempt, detail), deleting));
        }
        Some(_) => {}
        None => {
            let pod = manifests::pod(
                run,
                VALIDATION_POD,
                VALIDATION.claim,
                manifests::validation_command(),
                "Never",
            );
            objects.apply(Kind::Pod, &pods, &pod).await?;
        }
    }
    let detail = format!("the app is deleted; pod {VALIDATION_POD} lists {}", volume.handle());
    Ok((done(attempt, detail), None))
}

/// [`persistence`] first, then polls [`report_once`]: the validation pod's start mostly in a Wait
/// state ([`pacing`]), its end in the function, where each poll only reads the pod.
pub async fn report(
    objects: Objects<'_>,
    settings: &Settings,
    run: &Run,
    volume: EfsVolume<'_>,
    attempt: u32,
) -> Result<Poll<ValidateOutput>> {
    let started = persistence(objects, settings, run, volume, attempt).await?;
    if !started.ready {
        return Ok(started);
    }
    pacing::settle(settings, || report_once(objects, settings, run, volume, attempt)).await
}

async fn report_once(
    objects: Objects<'_>,
    settings: &Settings,
    run: &Run,
    volume: EfsVolume<'_>,
    attempt: u32,
) -> Result<(Poll<ValidateOutput>, Option<Awaiting>)> {
    let kube = objects.kube;
    let namespace = &run.request.namespace;
    let pods = kube.namespaced::<Pod>(namespace);
    // `persistence` made sure it exists and is ours.
    let Some(pod) = kube.get(&pods, VALIDATION_POD).await? else {
        let detail = format!("pod {VALIDATION_POD} is being created");
        return Ok((
            waiting(0, attempt, detail),
            Some(Awaiting::started_now(pacing::FARGATE_POD)),
        ));
    };
    let mut status = PodReport::of(VALIDATION_POD, Some(&pod));
    if !matches!(status.phase.as_str(), "Succeeded" | "Failed") {
        status.events = pod_status::warnings(kube, namespace, "Pod", VALIDATION_POD).await;
        // Created right after the app was deleted, which the record dates with the handler's clock
        // (the pod's creationTimestamp is the API server's: the fake cluster's simulated one in the
        // bench's replay).
        let deleted_at = record::load(objects, run)
            .await?
            .and_then(|r| r.timings.apps_deleted_at);
        let starting = match deleted_at.and_then(|at| at.parse::<Timestamp>().ok()) {
            Some(at) => Awaiting {
                expected: pacing::FARGATE_POD,
                waited: settings.time_scale.since(at),
            },
            None => Awaiting::due(pacing::FARGATE_POD),
        };
        return Ok((waiting(0, attempt, status.summary()), Some(starting)));
    }
    let log = pods
        .logs(VALIDATION_POD, &LogParams::default())
        .await
        .map_err(|e| kube.error(format!("read the log of pod {VALIDATION_POD}"), e))?;
    let record = record::load(objects, run).await?;
    let (cross_read, mut timings) = record.map(|r| (Some(r.cross_read), r.timings)).unwrap_or_default();
    let terminated = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    timings.validation_started_at = terminated.and_then(|t| t.started_at.as_ref()).map(|t| t.0.to_string());
    timings.validation_finished_at = terminated.and_then(|t| t.finished_at.as_ref()).map(|t| t.0.to_string());
    let runs_as = RunsAs {
        uid: run.request.posix_user.uid,
        gid: run.request.posix_user.gid,
        access_point_id: volume.access_point_id.to_string(),
        root_directory: access_point::root_directory(&run.request.namespace),
    };
    let file_system_id = volume.file_system_id;
    let report = ValidationReport::from_log(file_system_id, runs_as, &log, cross_read, timings);
    let mut missing = report.missing();
    if status.phase == "Failed" {
        missing.insert(0, status.summary());
    }
    if report.cross_read.is_none() {
        missing.push(format!("the cross-read record {} is gone", record::RECORD));
    }
    if !missing.is_empty() {
        return Err(WorkflowError::ValidationFailed {
            check: format!(
                "both app files must be on {file_system_id} after the app was deleted: {}",
                missing.join("; ")
            ),
            evidence: format!("{VALIDATION_POD} printed: {}", last_lines(&log)),
        });
    }
    let mut output = done(
        attempt,
        format!(
            "{} outlived the app on {file_system_id}",
            report.files_found.join(" and ")
        ),
    );
    output.output.report = Some(report);
    Ok((output, None))
}

/// When the pod's container started running.
fn started_at(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref()?.container_statuses.as_ref()?.first()?;
    status
        .state
        .as_ref()?
        .running
        .as_ref()?
        .started_at
        .as_ref()
        .map(|t| t.0)
}

/// The end of a log on one line, short enough for an error message.
fn last_lines(log: &str) -> String {
    let joined = log
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let skip = joined.chars().count().saturating_sub(EVIDENCE_CHARS);
    let tail: String = joined.chars().skip(skip).collect();
    if skip > 0 { format!("...{tail}") } else { tail }
}
