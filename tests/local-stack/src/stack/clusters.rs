//! The stack's clusters: each has a fake API server of its own, registered where the gateway's
//! cluster answers give it, authorizing with the gateway's access entries as EKS does.

use super::{CLUSTER_ACCESS_ROLE, LocalStack, StackError, StackOptions};
use crate::{AccessEntries, KubeApi, KubeApis, RoleKeys, kube_access};
use aws_sdk_sfn::config::retry::RetryConfig;
use efs_fargate_core::clients::AwsClients;
use fake_kube_apiserver::FakeKube;
use std::sync::Arc;
use workflow_tests::REGION;

impl LocalStack {
    /// Another opted-in cluster `name` on the stack's network, created through the gateway, with
    /// an API server of its own (which the caller keeps: it stops when dropped). The template's
    /// rules are in place, so its CreateCluster is announced like a new cluster's.
    pub async fn add_cluster(&self, name: &str) -> Result<FakeKube, StackError> {
        let kube = start_kube(
            name,
            &self.options,
            &self.moto_clients,
            &self.access_entries,
            &self.kube_apis,
            &self.roles,
        )
        .await?;
        let gateway = workflow_tests::sdk_config(self.gateway_endpoint())
            .to_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(10))
            .build();
        let eks = aws_sdk_eks::Client::new(&gateway);
        self.cluster.create_cluster(&eks, name).await;
        kube_access::grant_operator_admin(&eks, name)
            .await
            .map_err(|e| StackError::Moto(format!("operator access entry: {e}")))?;
        Ok(kube)
    }
}

/// The fake API server of cluster `name`, registered where the gateway's cluster answers find it.
/// It authorizes with the gateway's access entries, as EKS does.
pub(super) async fn start_kube(
    name: &str,
    options: &StackOptions,
    moto_clients: &AwsClients,
    access_entries: &AccessEntries,
    kube_apis: &KubeApis,
    roles: &RoleKeys,
) -> Result<FakeKube, StackError> {
    let mut config = fake_kube_apiserver::Config::new(name, REGION);
    config.credentials = vec![
        (
            workflow_tests::ACCESS_KEY_ID.into(),
            workflow_tests::SECRET_ACCESS_KEY.into(),
        ),
        (
            kube_access::OPERATOR_ACCESS_KEY_ID.into(),
            kube_access::OPERATOR_SECRET_ACCESS_KEY.into(),
        ),
    ];
    config.caller_arns = kube_access::caller_arns(CLUSTER_ACCESS_ROLE);
    // Each function role signs its own tokens: its access entry, if any, decides what it may do.
    for role in roles.roles() {
        config
            .credentials
            .push((role.access_key_id.clone(), role.secret_access_key.clone()));
        config
            .caller_arns
            .push((role.access_key_id.clone(), role.session_arn()));
    }
    config.access_entries = Some(Arc::new(kube_access::GatewayAccess(access_entries.clone())));
    config.eks = Some(moto_clients.eks.clone());
    config.efs = Some(moto_clients.efs.clone());
    config.pod_start_delay = options.pod_start_delay;
    config.time_scale = options.time_scale;
    let kube = FakeKube::start(config).await?;
    kube_apis.register(
        name,
        KubeApi {
            endpoint: kube.endpoint(),
            ca_pem: kube.ca_pem().to_string(),
        },
    );
    Ok(kube)
}
