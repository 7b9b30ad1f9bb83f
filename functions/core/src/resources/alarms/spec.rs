//! Which CloudWatch alarms a file system's options call for, and what each one is. An alarm's name
//! is `<namespace's alarm prefix><file-system id>-<kind>`, so a re-run finds its own alarms and never
//! another namespace's or another file system's.

use crate::input::FileSystemOptions;
use crate::input::file_system::{PerformanceMode, ThroughputMode};
use crate::ownership::Owner;
use crate::settings::AlarmSettings;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};

pub(super) const NAMESPACE: &str = "AWS/EFS";
const GIB: f64 = (1u64 << 30) as f64;

/// One alarm the file system should have.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub metric_name: &'static str,
    /// Besides `FileSystemId`.
    pub extra_dimension: Option<(&'static str, &'static str)>,
    pub statistic: Statistic,
    pub period_seconds: i32,
    pub evaluation_periods: i32,
    pub threshold: f64,
    pub comparison: ComparisonOperator,
    /// `breaching` where no data means the condition holds (no client sends no connection count).
    pub treat_missing_data: &'static str,
    pub file_system_id: String,
    pub actions: Vec<String>,
}

/// The alarms a file system with these options gets: I/O limit only for generalPurpose (EFS
/// publishes `PercentIOLimit` for no other mode), burst credits only for bursting throughput, client
/// connections unless turned off, and storage always.
pub fn wanted(
    owner: &Owner,
    file_system_id: &str,
    options: &FileSystemOptions,
    settings: &AlarmSettings,
) -> Vec<AlarmSpec> {
    let spec =
        |kind: &str, description: String, metric_name, statistic, period_seconds, evaluation_periods| AlarmSpec {
            name: format!("{}{file_system_id}-{kind}", owner.alarm_prefix()),
            description: format!(
                "efs-fargate-workflow, namespace {} of cluster {}: {description}",
                owner.namespace, owner.cluster
            ),
            metric_name,
            extra_dimension: None,
            statistic,
            period_seconds,
            evaluation_periods,
            threshold: 0.0,
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            treat_missing_data: "notBreaching",
            file_system_id: file_system_id.to_string(),
            actions: settings.topic_arn.iter().cloned().collect(),
        };
    let mut alarms = Vec::new();
    if options.performance_mode == PerformanceMode::GeneralPurpose {
        alarms.push(AlarmSpec {
            threshold: f64::from(settings.io_limit_percent),
            ..spec(
                "io-limit",
                format!(
                    "file system {file_system_id} at {}% or more of the General Purpose I/O limit for 15 minutes",
                    settings.io_limit_percent
                ),
                "PercentIOLimit",
                Statistic::Maximum,
                60,
                15,
            )
        });
    }
    if options.throughput_mode == ThroughputMode::Bursting {
        alarms.push(AlarmSpec {
            threshold: f64::from(settings.burst_credit_gib) * GIB,
            comparison: ComparisonOperator::LessThanThreshold,
            ..spec(
                "burst-credits",
                format!(
                    "file system {file_system_id} has less than {} GiB of burst credits: throughput drops to the baseline when they run out",
                    settings.burst_credit_gib
                ),
                "BurstCreditBalance",
                Statistic::Minimum,
                300,
                3,
            )
        });
    }
    if settings.idle_minutes > 0 {
        alarms.push(AlarmSpec {
            threshold: 1.0,
            comparison: ComparisonOperator::LessThanThreshold,
            treat_missing_data: "breaching",
            ..spec(
                "no-clients",
                format!(
                    "no client has had file system {file_system_id} mounted for {} minutes: the app that should use it is not running",
                    settings.idle_minutes
                ),
                "ClientConnections",
                Statistic::Sum,
                300,
                (settings.idle_minutes / 5) as i32,
            )
        });
    }
    alarms.push(AlarmSpec {
        threshold: f64::from(settings.storage_gib) * GIB,
        comparison: ComparisonOperator::GreaterThanThreshold,
        extra_dimension: Some(("StorageClass", "Total")),
        ..spec(
            "storage",
            format!(
                "file system {file_system_id} stores more than {} GiB (metered size, all storage classes)",
                settings.storage_gib
            ),
            "StorageBytes",
            Statistic::Maximum,
            3600,
            1,
        )
    });
    alarms
}

impl AlarmSpec {
    pub(super) fn dimensions(&self) -> Vec<Dimension> {
        let mut dimensions = vec![
            Dimension::builder()
                .name("FileSystemId")
                .value(&self.file_system_id)
                .build(),
        ];
        if let Some((name, value)) = self.extra_dimension {
            dimensions.push(Dimension::builder().name(name).value(value).build());
        }
        dimensions
    }

    /// True when the existing alarm already is this one (so a re-run sends nothing).
    pub fn matches(&self, alarm: &MetricAlarm) -> bool {
        let mut dimensions = alarm.dimensions().to_vec();
        dimensions.sort_by(|a, b| a.name().cmp(&b.name()));
        let mut wanted = self.dimensions();
        wanted.sort_by(|a, b| a.name().cmp(&b.name()));
        alarm.alarm_name() == Some(self.name.as_str())
            && alarm.alarm_description() == Some(self.description.as_str())
            && alarm.namespace() == Some(NAMESPACE)
            && alarm.metric_name() == Some(self.metric_name)
            && dimensions == wanted
            && alarm.statistic() == Some(&self.statistic)
            && alarm.period() == Some(self.period_seconds)
            && alarm.evaluation_periods() == Some(self.evaluation_periods)
            && alarm.threshold() == Some(self.threshold)
            && alarm.comparison_operator() == Some(&self.comparison)
            && alarm.treat_missing_data() == Some(self.treat_missing_data)
            && alarm.alarm_actions() == self.actions.as_slice()
            && alarm.ok_actions() == self.actions.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(options: &FileSystemOptions, settings: &AlarmSettings) -> Vec<String> {
        wanted(&Owner::new("demo", "ns"), "fs-1", options, settings)
            .into_iter()
            .map(|spec| spec.name.rsplit("fs-1-").next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_options_decide_which_alarms_exist() {
        let settings = AlarmSettings::default();
        let defaults = FileSystemOptions::default();
        assert_eq!(kinds(&defaults, &settings), ["io-limit", "no-clients", "storage"]);
        let bursting_max_io = FileSystemOptions {
            throughput_mode: ThroughputMode::Bursting,
            performance_mode: PerformanceMode::MaxIo,
            ..defaults.clone()
        };
        assert_eq!(
            kinds(&bursting_max_io, &settings),
            ["burst-credits", "no-clients", "storage"]
        );
        let quiet = AlarmSettings {
            idle_minutes: 0,
            ..settings
        };
        assert_eq!(kinds(&defaults, &quiet), ["io-limit", "storage"]);
    }

    #[test]
    fn thresholds_come_from_the_settings_and_names_from_the_owner() {
        let settings = AlarmSettings {
            storage_gib: 2,
            idle_minutes: 30,
            topic_arn: Some("arn:aws:sns:us-east-1:123456789012:ops".into()),
            ..AlarmSettings::default()
        };
        let owner = Owner::new("demo", "ns");
        let specs = wanted(&owner, "fs-1", &FileSystemOptions::default(), &settings);
        assert!(specs.iter().all(|s| s.name.starts_with(&owner.alarm_prefix())));
        assert!(
            specs
                .iter()
                .all(|s| s.actions == ["arn:aws:sns:us-east-1:123456789012:ops"])
        );
        let storage = specs.iter().find(|s| s.metric_name == "StorageBytes").unwrap();
        assert_eq!(storage.threshold, 2.0 * GIB);
        assert_eq!(storage.extra_dimension, Some(("StorageClass", "Total")));
        let idle = specs.iter().find(|s| s.metric_name == "ClientConnections").unwrap();
        assert_eq!((idle.evaluation_periods, idle.treat_missing_data), (6, "breaching"));
    }

    #[test]
    fn an_alarm_matches_only_when_every_setting_is_the_same() {
        let spec = wanted(
            &Owner::new("demo", "ns"),
            "fs-1",
            &FileSystemOptions::default(),
            &AlarmSettings::default(),
        )
        .remove(0);
        let alarm = |threshold: f64| {
            MetricAlarm::builder()
                .alarm_name(&spec.name)
                .alarm_description(&spec.description)
                .namespace(NAMESPACE)
                .metric_name(spec.metric_name)
                .set_dimensions(Some(spec.dimensions()))
                .statistic(spec.statistic.clone())
                .period(spec.period_seconds)
                .evaluation_periods(spec.evaluation_periods)
                .threshold(threshold)
                .comparison_operator(spec.comparison.clone())
                .treat_missing_data(spec.treat_missing_data)
                .build()
        };
        assert!(spec.matches(&alarm(spec.threshold)));
        assert!(!spec.matches(&alarm(spec.threshold - 1.0)));
    }
}
