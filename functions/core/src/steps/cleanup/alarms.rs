//! The `alarms` cleanup action: the namespace's CloudWatch alarms, found by the namespace's alarm
//! prefix and deleted only when their tags say they are ours (and, in a rollback, this run's). They
//! go even when the file system is retained: the connections alarm would report the departed app
//! for ever, and a retained file system is no longer the workflow's to watch (a later run on the
//! namespace adopts it and creates its alarms again).

use super::{CleanupProgress, done};
use crate::aws;
use crate::error::Result;
use crate::ownership::{Owner, Scope, kept};

pub async fn alarms(cloudwatch: &aws_sdk_cloudwatch::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let mut removed = Vec::new();
    let mut kept_alarms = Vec::new();
    for alarm in aws::cloudwatch::alarms_with_prefix(cloudwatch, &owner.alarm_prefix()).await? {
        let (Some(name), Some(arn)) = (alarm.alarm_name(), alarm.alarm_arn()) else {
            continue;
        };
        let Some(tags) = aws::cloudwatch::alarm_tags(cloudwatch, arn).await? else {
            continue;
        };
        let why = scope.why_kept(owner, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(why) = why {
            kept_alarms.push(kept(format!("alarm {name}"), why));
        } else if aws::cloudwatch::delete_alarm(cloudwatch, name).await? {
            removed.push(name.to_string());
        }
    }
    Ok(done(removed, kept_alarms))
}
