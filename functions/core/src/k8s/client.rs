//! A Kubernetes client for one EKS cluster: the endpoint and CA from DescribeCluster (or the local
//! stack's override), a fresh EKS token, and TLS verified against that CA only.

use crate::ca_bundle::ca_certificates;
use crate::clients::AwsClients;
use crate::eks_token::{self, EksToken};
use crate::error::{Result, WorkflowError};
use crate::settings::Settings;
use aws_sdk_eks::types::Cluster;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;

/// A hung API server must not use up the Lambda's 15 minutes on one call.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for the cluster DescribeCluster returned, authenticated as the workflow's IAM identity.
pub async fn connect(clients: &AwsClients, settings: &Settings, described: &Cluster) -> Result<kube::Client> {
    let cluster = described.name().unwrap_or_default();
    let (endpoint, ca_pem) = match &settings.kube_api_override {
        Some(local) => (local.endpoint.clone(), local.ca_pem.clone().into_bytes()),
        None => {
            let endpoint = described.endpoint().unwrap_or_default().to_string();
            let ca = described
                .certificate_authority()
                .and_then(|ca| ca.data())
                .unwrap_or_default();
            let ca_pem = STANDARD
                .decode(ca.trim())
                .map_err(|e| no_api(cluster, format!("its CA is not base64: {e}")))?;
            (endpoint, ca_pem)
        }
    };
    let token = match &settings.cluster_access_role_arn {
        Some(role) => eks_token::mint_as(&clients.config, &clients.sts, role, cluster).await?,
        None => eks_token::mint(&clients.config, cluster).await?,
    };
    client(cluster, &endpoint, &ca_pem, token)
}

/// A client for the API server at `endpoint` whose certificate `ca_pem` signed, sending `token`.
pub fn client(cluster: &str, endpoint: &str, ca_pem: &[u8], token: EksToken) -> Result<kube::Client> {
    let url = endpoint
        .parse::<http::Uri>()
        .ok()
        .filter(|uri| uri.scheme_str() == Some("https"))
        .ok_or_else(|| no_api(cluster, format!("its endpoint {endpoint:?} is not an https:// URL")))?;
    let certificates = ca_certificates(ca_pem).map_err(|reason| no_api(cluster, reason))?;
    let mut config = kube::Config::new(url);
    // Only the cluster's own CA is trusted; certificate checks are never turned off.
    config.root_cert = Some(certificates);
    config.auth_info.token = Some(token.into_secret());
    config.read_timeout = Some(READ_TIMEOUT);
    // kube retries 429/503/504 up to 15 times with backoff of up to 1000 s, far past a Lambda's
    // timeout: the state machines retry `KubernetesUnavailable` themselves, visibly and bounded.
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| WorkflowError::from_kube(cluster, "building the client", e))
}

fn no_api(cluster: &str, reason: String) -> WorkflowError {
    WorkflowError::ClusterAccessNotGranted {
        cluster: cluster.to_string(),
        reason: format!("DescribeCluster gives no usable Kubernetes API: {reason}"),
    }
}
