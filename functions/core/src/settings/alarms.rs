//! The thresholds of the per-file-system CloudWatch alarms (`steps::efs::alarms`) and where they
//! notify: deployment settings, because they follow the account's alerting, not one execution.

use crate::error::{Result, WorkflowError};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmSettings {
    /// `EFS_ALARM_IO_LIMIT_PERCENT` (1–100, default 95): `PercentIOLimit` (generalPurpose file
    /// systems) at or above this for 15 minutes. Below AWS's recommended 100 so there is time to act
    /// before I/O is throttled.
    pub io_limit_percent: u32,
    /// `EFS_ALARM_BURST_CREDIT_GIB` (default 100): `BurstCreditBalance` (bursting file systems)
    /// below this. At the 100 MiB/s a small file system bursts to, 100 GiB of credits last about
    /// 17 minutes before throughput drops to the baseline.
    pub burst_credit_gib: u32,
    /// `EFS_ALARM_STORAGE_GIB` (default 100): the metered size (`StorageBytes`, all storage classes)
    /// above this; 100 GiB is far beyond a PoC and about 30 USD a month in EFS Standard.
    pub storage_gib: u32,
    /// `EFS_ALARM_IDLE_MINUTES` (a multiple of 5 up to 1440, default 15; 0 turns the alarm off): no
    /// client connection (`ClientConnections`) for this long.
    pub idle_minutes: u32,
    /// `ALARM_TOPIC_ARN`: the SNS topic the alarms notify (the template's `AlarmTopicArn`, which the
    /// failed-execution alarms use too); none for alarms without actions.
    pub topic_arn: Option<String>,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        Self {
            io_limit_percent: 95,
            burst_credit_gib: 100,
            storage_gib: 100,
            idle_minutes: 15,
            topic_arn: None,
        }
    }
}

impl AlarmSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let number = |name: &str, default: u32, valid: fn(u32) -> bool, rule: &str| -> Result<u32> {
            get(name).map_or(Ok(default), |value| {
                value
                    .parse()
                    .ok()
                    .filter(|n| valid(*n))
                    .ok_or_else(|| WorkflowError::invalid(name, rule))
            })
        };
        let defaults = Self::default();
        let topic_arn = get("ALARM_TOPIC_ARN").map(str::to_string);
        if let Some(arn) = &topic_arn {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
                return Err(WorkflowError::invalid(
                    "ALARM_TOPIC_ARN",
                    "must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)",
                ));
            }
        }
        Ok(Self {
            io_limit_percent: number(
                "EFS_ALARM_IO_LIMIT_PERCENT",
                defaults.io_limit_percent,
                |n| (1..=100).contains(&n),
                "must be a whole percentage from 1 to 100",
            )?,
            burst_credit_gib: number(
                "EFS_ALARM_BURST_CREDIT_GIB",
                defaults.burst_credit_gib,
                |n| n >= 1,
                "must be a whole number of GiB, at least 1",
            )?,
            storage_gib: number(
                "EFS_ALARM_STORAGE_GIB",
                defaults.storage_gib,
                |n| n >= 1,
                "must be a whole number of GiB, at least 1",
            )?,
            idle_minutes: number(
                "EFS_ALARM_IDLE_MINUTES",
                defaults.idle_minutes,
                |n| n % 5 == 0 && n <= 1440,
                "must be a multiple of 5 minutes up to 1440, or 0 for no client-connections alarm",
            )?,
            topic_arn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_and_values_are_read() {
        assert_eq!(AlarmSettings::from_vars(&vars(&[])).unwrap(), AlarmSettings::default());
        let settings = AlarmSettings::from_vars(&vars(&[
            ("EFS_ALARM_IO_LIMIT_PERCENT", "80"),
            ("EFS_ALARM_IDLE_MINUTES", "0"),
            ("ALARM_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:ops"),
        ]))
        .unwrap();
        assert_eq!(settings.io_limit_percent, 80);
        assert_eq!(settings.idle_minutes, 0);
        assert_eq!(
            settings.topic_arn.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:ops")
        );
    }

    #[test]
    fn every_variable_is_checked() {
        for (name, value) in [
            ("EFS_ALARM_IO_LIMIT_PERCENT", "0"),
            ("EFS_ALARM_IO_LIMIT_PERCENT", "101"),
            ("EFS_ALARM_BURST_CREDIT_GIB", "0"),
            ("EFS_ALARM_STORAGE_GIB", "-1"),
            ("EFS_ALARM_IDLE_MINUTES", "7"),
            ("EFS_ALARM_IDLE_MINUTES", "1445"),
            ("ALARM_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:ops"),
        ] {
            let err = AlarmSettings::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert!(
                matches!(&err, WorkflowError::InvalidInput { field, .. } if field == name),
                "{name}={value}: {err}"
            );
        }
    }
}
