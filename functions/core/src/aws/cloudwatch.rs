//! CloudWatch: metric alarms and their tags.

use super::found;
use crate::error::{Result, WorkflowError};
use crate::ownership::Tags;
use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types::MetricAlarm;

/// Every metric alarm whose name starts with `prefix`, across pages.
pub async fn alarms_with_prefix(cloudwatch: &aws_sdk_cloudwatch::Client, prefix: &str) -> Result<Vec<MetricAlarm>> {
    let pages = cloudwatch
        .describe_alarms()
        .alarm_name_prefix(prefix)
        .into_paginator()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| WorkflowError::from_sdk("cloudwatch:DescribeAlarms", e))?;
    Ok(pages.iter().flat_map(|page| page.metric_alarms().to_vec()).collect())
}

/// The alarm's tags; `None` for an alarm that is gone.
pub async fn alarm_tags(cloudwatch: &aws_sdk_cloudwatch::Client, alarm_arn: &str) -> Result<Option<Tags>> {
    let listed = cloudwatch.list_tags_for_resource().resource_arn(alarm_arn).send().await;
    Ok(found(listed, "cloudwatch:ListTagsForResource", |e| {
        e.is_resource_not_found_exception()
    })?
    .map(|out| {
        out.tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect()
    }))
}

/// Sends a prepared PutMetricAlarm: creates the alarm, or replaces its settings (CloudWatch then
/// ignores the request's tags, so an alarm keeps the run id of the run that created it).
pub async fn put_metric_alarm(request: PutMetricAlarmFluentBuilder) -> Result<()> {
    request
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("cloudwatch:PutMetricAlarm", e))
}

/// `false` when the alarm is gone already. One name per call: a name CloudWatch does not know
/// fails the whole batch.
pub async fn delete_alarm(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str) -> Result<bool> {
    let deleted = cloudwatch.delete_alarms().alarm_names(name).send().await;
    Ok(found(deleted, "cloudwatch:DeleteAlarms", |e| e.is_resource_not_found())?.is_some())
}
