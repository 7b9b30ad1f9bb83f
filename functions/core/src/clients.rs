//! AWS client construction: the standard provider chain (environment, profile, container and
//! instance credentials; `AWS_REGION`; `AWS_ENDPOINT_URL[_<SERVICE>]`) and one HTTPS client with the
//! ring crypto provider, shared by every SDK client.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The one HTTPS client (rustls + ring). The SDK crates are built without their default client so
/// that only one TLS stack and one crypto provider exist in the binary.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Loads the shared SDK configuration the way every AWS SDK does.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// The loader behind [`load_sdk_config`], for a caller that names its region or profile.
pub fn sdk_config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// Every AWS client the steps use, built once per cold start from one [`SdkConfig`].
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// Kept for what is not an SDK client: the EKS token is signed with its credentials and region.
    pub config: SdkConfig,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub efs: aws_sdk_efs::Client,
    pub eks: aws_sdk_eks::Client,
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub sts: aws_sdk_sts::Client,
}

impl AwsClients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            config: config.clone(),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            efs: aws_sdk_efs::Client::new(config),
            eks: aws_sdk_eks::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }

    /// Builds the clients from the environment (for the Lambda handlers).
    pub async fn from_env() -> Self {
        Self::new(&load_sdk_config().await)
    }
}
