//! The CloudWatch alarms of the inventory.

use efs_fargate_core::clients::AwsClients;

use super::Tags;
use crate::check::OrPanic;

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmInfo {
    pub name: String,
    pub metric_name: String,
    /// Sorted `(name, value)`.
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
    pub comparison: String,
    pub threshold: f64,
    pub period: i32,
    pub evaluation_periods: i32,
    pub treat_missing_data: String,
    pub alarm_actions: Vec<String>,
    pub tags: Tags,
}

// Thresholds are whole numbers (percent, GiB in bytes, a count): equality is exact.
impl Eq for AlarmInfo {}

pub(super) async fn alarms(clients: &AwsClients) -> Vec<AlarmInfo> {
    let pages: Vec<_> = clients
        .cloudwatch
        .describe_alarms()
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("cloudwatch describe_alarms");
    let mut out = Vec::new();
    for alarm in pages.iter().flat_map(|page| page.metric_alarms()) {
        let tags = clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(alarm.alarm_arn().unwrap_or_default())
            .send()
            .await
            .or_panic("cloudwatch list_tags_for_resource");
        let mut dimensions: Vec<_> = alarm
            .dimensions()
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_string(),
                    d.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        dimensions.sort();
        out.push(AlarmInfo {
            name: alarm.alarm_name().unwrap_or_default().to_string(),
            metric_name: alarm.metric_name().unwrap_or_default().to_string(),
            dimensions,
            statistic: alarm.statistic().map(|s| s.as_str().to_string()).unwrap_or_default(),
            comparison: alarm
                .comparison_operator()
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            threshold: alarm.threshold().unwrap_or_default(),
            period: alarm.period().unwrap_or_default(),
            evaluation_periods: alarm.evaluation_periods().unwrap_or_default(),
            treat_missing_data: alarm.treat_missing_data().unwrap_or_default().to_string(),
            alarm_actions: alarm.alarm_actions().to_vec(),
            tags: tags
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
