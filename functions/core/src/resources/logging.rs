//! Day-2 logging: the application logs of every Fargate pod go to CloudWatch Logs through the log
//! router (Fluent Bit) that Fargate runs next to each pod. Fargate reads its configuration from one
//! ConfigMap per cluster, `aws-logging` in the namespace `aws-observability` (which must carry the
//! label `aws-observability: enabled`), when a pod starts. Both are shared by every namespace on
//! the cluster, like the StorageClass: created only when missing, recorded in the cluster's part of
//! the ledger when we create them, never changed; the last namespace of ours to leave the cluster
//! removes the ones we made.

use super::storage_objects::{SharedObject, ensure_shared};
use super::{namespace_access, rbac};
use crate::error::Result;
use crate::k8s::{Kube, describe};
use crate::ledger::{Ledger, Place};
use crate::resources::kube_object::Origin;
use crate::resources::kube_object::{self, is_recorded, unrecorded};
use crate::resources::{Kind, Recorder, Removal};
use crate::run::Run;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{ListParams, ObjectMeta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The namespace and ConfigMap names Fargate looks for; it ignores any other.
pub const NAMESPACE: &str = "aws-observability";
pub const CONFIG_MAP: &str = "aws-logging";
/// The label without which Fargate ignores the namespace.
const ENABLED_LABEL: (&str, &str) = ("aws-observability", "enabled");
/// Kubernetes puts this ConfigMap in every namespace: it is nobody's reason to keep one.
const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// Each cluster's streams start with its name: the deployment's one group (`FARGATE_LOG_GROUP`)
/// serves every cluster, and one ConfigMap per cluster cannot name a namespace.
pub fn stream_prefix(cluster: &str) -> String {
    format!("{cluster}/")
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingOutput {
    pub namespace: SharedObject,
    pub config_map: SharedObject,
    /// The group our ConfigMap sends to; a foreign ConfigMap may send elsewhere.
    pub log_group: String,
}

/// The `aws-logging` data: the documented `cloudwatch_logs` output, and the parser that splits
/// the CRI line prefix (time, stream, tag) off each log line.
fn config(region: &str, log_group: &str, cluster: &str) -> BTreeMap<String, String> {
    // Fargate names each stream `<prefix>kube.var.log.containers.<pod>_<namespace>_<container>-<id>.log`,
    // which tells the namespaces apart. The group is the template's, tagged and with its retention,
    // so the router never creates one: the pod execution role may not.
    let output = format!(
        "[OUTPUT]\n    Name cloudwatch_logs\n    Match kube.*\n    region {region}\n    \
         log_group_name {log_group}\n    log_stream_prefix {prefix}\n    auto_create_group false\n",
        prefix = stream_prefix(cluster),
    );
    let filters = "[FILTER]\n    Name parser\n    Match *\n    Key_name log\n    Parser crio\n";
    let parsers = "[PARSER]\n    Name crio\n    Format Regex\n    \
                   Regex ^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>P|F) (?<log>.*)$\n    \
                   Time_Key time\n    Time_Format %Y-%m-%dT%H:%M:%S.%L%z\n";
    BTreeMap::from([
        ("output.conf".to_string(), output),
        ("filters.conf".to_string(), filters.to_string()),
        ("parsers.conf".to_string(), parsers.to_string()),
        // The router's own logs stay out of the group: they are Fargate's, not the application's.
        ("flb_log_cw".to_string(), "false".to_string()),
    ])
}

/// Makes sure Fargate on this cluster has a logging configuration: ours when there was none.
pub async fn ensure(
    kube: &Kube,
    recorder: Recorder<'_>,
    run: &Run,
    region: &str,
    log_group: &str,
) -> Result<LoggingOutput> {
    let labels = run.labels();
    let mut namespace_labels = labels.clone();
    namespace_labels.insert(ENABLED_LABEL.0.into(), ENABLED_LABEL.1.into());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.into()),
            labels: Some(namespace_labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(CONFIG_MAP.into()),
            namespace: Some(NAMESPACE.into()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        data: Some(config(region, log_group, &kube.cluster)),
        ..ConfigMap::default()
    };
    let namespace = ensure_shared(kube, recorder, Kind::LoggingNamespace, &kube.all(), &namespace).await?;
    if namespace.origin != Origin::Existing {
        // In a logging namespace of ours, a cleanup lists its ConfigMaps (to keep anyone else's).
        namespace_access::ensure(kube, recorder, recorder.cluster(), Kind::LoggingAccess, run, NAMESPACE).await?;
    }
    Ok(LoggingOutput {
        namespace,
        config_map: ensure_shared(
            kube,
            recorder,
            Kind::LoggingConfig,
            &kube.namespaced(NAMESPACE),
            &config_map,
        )
        .await?,
        log_group: log_group.to_string(),
    })
}

/// Fargate's logging namespace and ConfigMap found on the cluster that the ledger does not
/// record: reported as kept, every time a cleanup looks.
pub async fn kept_unrecorded(kube: &Kube, ledger: &Ledger, cluster: &str) -> Result<Removal> {
    let place = Place::Cluster(cluster);
    let namespace = unrecorded(
        kube,
        ledger,
        place,
        Kind::LoggingNamespace,
        &kube.all::<Namespace>(),
        NAMESPACE,
    )
    .await?;
    let config_maps = kube.namespaced::<ConfigMap>(NAMESPACE);
    Ok(namespace.and(unrecorded(kube, ledger, place, Kind::LoggingConfig, &config_maps, CONFIG_MAP).await?))
}

/// Removes the ConfigMap and the namespace when the ledger records them (the caller decided that
/// no namespace of ours needs them any more). The namespace also stays while it holds a ConfigMap
/// that is not ours: deleting it would delete someone else's configuration.
pub async fn remove(kube: &Kube, ledger: &Ledger, cluster: &str) -> Result<Removal> {
    let place = Place::Cluster(cluster);
    let config_maps = kube.namespaced::<ConfigMap>(NAMESPACE);
    let mut removal = Removal::done();
    let ours = ledger.get(place, Kind::LoggingConfig, CONFIG_MAP).await?;
    if let Some(record) = &ours
        && let Some(deleting) = kube_object::delete(kube, ledger, place, record, &config_maps).await?
    {
        removal = Removal::pending().removed(deleting);
    }
    let Some(record) = ledger.get(place, Kind::LoggingNamespace, NAMESPACE).await? else {
        // Our binding there went with the namespace, if it was ever there.
        ledger.forget(place, Kind::LoggingAccess, rbac::NAME).await?;
        return Ok(removal);
    };
    let namespaces = kube.all::<Namespace>();
    match kube.get(&namespaces, NAMESPACE).await? {
        // Gone, with what it held (our binding too): its records go.
        None => {
            kube_object::delete(kube, ledger, place, &record, &namespaces).await?;
            ledger.forget(place, Kind::LoggingAccess, rbac::NAME).await?;
            return Ok(removal);
        }
        // Being deleted already.
        Some(found) if found.metadata.deletion_timestamp.is_some() => {
            removal.done = false;
            return Ok(removal.removed(describe(&found)));
        }
        Some(_) => {}
    }
    let foreign: Vec<String> = kube
        .list(&config_maps, &ListParams::default())
        .await?
        .into_iter()
        .filter(|c| c.metadata.name.as_deref() != Some(ROOT_CA_CONFIG_MAP))
        .filter(|c| !ours.as_ref().is_some_and(|record| is_recorded(record, c)))
        .map(|c| describe(&c))
        .collect();
    if !foreign.is_empty() {
        let access = namespace_access::remove(kube, ledger, place, Kind::LoggingAccess, NAMESPACE).await?;
        return Ok(removal.and(access).kept(
            format!("namespace/{NAMESPACE}"),
            format!("still holds {}", foreign.join(", ")),
        ));
    }
    if let Some(deleting) = kube_object::delete(kube, ledger, place, &record, &namespaces).await? {
        removal.done = false;
        removal = removal.removed(deleting);
    }
    Ok(removal)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fargate refuses a larger configuration (the sum of its data).
    const MAX_CONFIG_CHARS: usize = 5300;

    #[test]
    fn the_configuration_is_the_documented_cloudwatch_output_within_fargates_limit() {
        let group = format!("/{}", "g".repeat(511));
        let data = config("eu-west-1", &group, &"c".repeat(100));
        let output = &data["output.conf"];
        for line in [
            "Name cloudwatch_logs",
            "region eu-west-1",
            &format!("log_group_name {group}"),
            &format!("log_stream_prefix {}/", "c".repeat(100)),
            "auto_create_group false",
        ] {
            assert!(output.contains(line), "{line} in {output}");
        }
        let chars: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(chars < MAX_CONFIG_CHARS, "{chars}");
    }
}
