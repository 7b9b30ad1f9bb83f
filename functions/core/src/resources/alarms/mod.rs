//! The file system's CloudWatch alarms (the pattern's day-2 monitoring), each recorded in the
//! namespace's part of the ledger and converged on every run: created when missing, corrected when
//! they differ, deleted when the options no longer call for them. An alarm is known by its name
//! alone, so one of ours must also still carry our tags: an alarm under one of our names that the
//! ledger does not record, or that someone replaced (it lacks our tags), is someone else's: left
//! unchanged, and not reported as ours.

pub mod spec;

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::Tag;

use super::{CleanupScope, Kind, NOT_RECORDED, Recorder, Removal};
use crate::aws;
use crate::error::Result;
use crate::input::FileSystemOptions;
use crate::ledger::{Ledger, NamespaceView};
use crate::ownership::Owner;
use crate::settings::AlarmSettings;
use spec::{AlarmSpec, NAMESPACE, wanted};

/// Creates or corrects the file system's alarms and deletes the recorded ones its options no
/// longer call for. Returns the names of the alarms the file system has.
pub async fn converge(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    recorder: Recorder<'_>,
    view: &NamespaceView,
    file_system_id: &str,
    options: &FileSystemOptions,
    settings: &AlarmSettings,
    tags: Vec<(String, String)>,
) -> Result<Vec<String>> {
    let owner = recorder.owner;
    let place = recorder.namespace();
    let wanted = wanted(owner, file_system_id, options, settings);
    let prefix = format!("{}{file_system_id}-", owner.alarm_prefix());
    let existing = aws::cloudwatch::alarms_with_prefix(cloudwatch, &prefix).await?;
    let tags: Vec<Tag> = tags
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let mut ours = Vec::new();
    for spec in &wanted {
        let found = existing.iter().find(|a| a.alarm_name() == Some(spec.name.as_str()));
        let recorded = match found {
            Some(alarm) => {
                view.find(Kind::Alarm, &spec.name).is_some() && tagged_as_ours(cloudwatch, owner, alarm).await?
            }
            None => false,
        };
        match found {
            Some(alarm) if !recorded => {
                tracing::warn!(alarm = spec.name, arn = ?alarm.alarm_arn(), "an alarm the workflow did not create has its name; left unchanged");
                continue;
            }
            Some(alarm) if spec.matches(alarm) => {}
            Some(_) => put(cloudwatch, spec, &tags).await?,
            None => {
                recorder.intend(place, Kind::Alarm, &spec.name).await?;
                put(cloudwatch, spec, &tags).await?;
            }
        }
        recorder
            .settle(place, Kind::Alarm, &spec.name, &spec.name, BTreeMap::new())
            .await?;
        ours.push(spec.name.clone());
    }
    for record in view.of_kind(Kind::Alarm) {
        if record.key.starts_with(&prefix) && !wanted.iter().any(|spec| spec.name == record.key) {
            aws::cloudwatch::delete_alarm(cloudwatch, &record.key).await?;
            recorder.ledger.forget(place, Kind::Alarm, &record.key).await?;
            tracing::info!(alarm = record.key, "alarm no longer called for, deleted");
        }
    }
    Ok(ours)
}

/// Whether the alarm still carries this namespace's tags (one someone replaced under our name does
/// not).
async fn tagged_as_ours(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    owner: &Owner,
    alarm: &aws_sdk_cloudwatch::types::MetricAlarm,
) -> Result<bool> {
    Ok(match alarm.alarm_arn() {
        Some(arn) => aws::cloudwatch::alarm_tags(cloudwatch, arn)
            .await?
            .is_some_and(|tags| owner.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))),
        None => false,
    })
}

async fn put(cloudwatch: &aws_sdk_cloudwatch::Client, spec: &AlarmSpec, tags: &[Tag]) -> Result<()> {
    let request = cloudwatch
        .put_metric_alarm()
        .alarm_name(&spec.name)
        .alarm_description(&spec.description)
        .namespace(NAMESPACE)
        .metric_name(spec.metric_name)
        .set_dimensions(Some(spec.dimensions()))
        .statistic(spec.statistic.clone())
        .period(spec.period_seconds)
        .evaluation_periods(spec.evaluation_periods)
        .threshold(spec.threshold)
        .comparison_operator(spec.comparison.clone())
        .treat_missing_data(spec.treat_missing_data)
        .set_alarm_actions(Some(spec.actions.clone()))
        .set_ok_actions(Some(spec.actions.clone()))
        .set_tags(Some(tags.to_vec()));
    aws::cloudwatch::put_metric_alarm(request).await?;
    tracing::info!(alarm = spec.name, "alarm created or updated");
    Ok(())
}

/// Deletes the namespace's recorded alarms (in a rollback: its run's). They go even when the file
/// system is retained: the connections alarm would report the departed app for ever, and a later
/// run on the namespace makes them again.
pub async fn remove(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &CleanupScope,
) -> Result<Removal> {
    let place = owner.place();
    let mut removal = Removal::done();
    let existing = aws::cloudwatch::alarms_with_prefix(cloudwatch, &owner.alarm_prefix()).await?;
    for alarm in &existing {
        let name = alarm.alarm_name().unwrap_or_default();
        if view.find(Kind::Alarm, name).is_none() {
            removal = removal.kept(format!("alarm {name}"), NOT_RECORDED);
        }
    }
    for record in view.of_kind(Kind::Alarm) {
        let what = format!("alarm {}", record.key);
        if let Some(why) = scope.keeps(record) {
            removal = removal.kept(what, why);
            continue;
        }
        let found = existing.iter().find(|a| a.alarm_name() == Some(record.key.as_str()));
        match found {
            Some(alarm) if !tagged_as_ours(cloudwatch, owner, alarm).await? => {
                removal = removal.kept(
                    what,
                    "replaced under the workflow's name by someone else (it lacks our tags): left as it is",
                );
            }
            Some(_) if aws::cloudwatch::delete_alarm(cloudwatch, &record.key).await? => {
                removal = removal.removed(record.key.clone());
            }
            _ => {}
        }
        ledger.forget(place, Kind::Alarm, &record.key).await?;
    }
    Ok(removal)
}
