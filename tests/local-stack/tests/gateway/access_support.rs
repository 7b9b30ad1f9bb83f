//! What the access-entry tests share: a gateway with a store the test can read, an EKS client
//! through it, bare clusters in either authentication mode, and EKS errors taken apart.

use std::fmt::Debug;

use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::types::{AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest};
use local_stack::{AccessEntries, RunningGateway};
use workflow_tests::network::CLUSTER_ROLE_ARN;
use workflow_tests::{MotoGuard, OrPanic};

use crate::support::{start_gateway, via};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/ops/Builder";
pub const USER: &str = "arn:aws:iam::123456789012:user/alice";
pub const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
pub const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
pub const CLUSTER_ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// A gateway in front of moto sharing `store`, and an EKS client through it.
pub struct Gateway {
    pub running: RunningGateway,
    pub eks: aws_sdk_eks::Client,
    pub store: AccessEntries,
}

pub fn gateway(moto: &MotoGuard) -> Gateway {
    let store = AccessEntries::new();
    let shared = store.clone();
    let (running, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c.with_access_entries(shared));
    let eks = aws_sdk_eks::Client::new(&via(&moto.sdk_config(), running.endpoint(), 1));
    Gateway { running, eks, store }
}

/// `API_AND_CONFIG_MAP` with no creator entry, as the seeded clusters have.
pub fn with_access_entries() -> Option<CreateAccessConfigRequest> {
    Some(
        CreateAccessConfigRequest::builder()
            .authentication_mode(AuthenticationMode::ApiAndConfigMap)
            .bootstrap_cluster_creator_admin_permissions(false)
            .build(),
    )
}

/// A cluster with no subnets (moto does not check them), created through `eks`.
pub async fn create_cluster(eks: &aws_sdk_eks::Client, name: &str, access: Option<CreateAccessConfigRequest>) {
    eks.create_cluster()
        .name(name)
        .role_arn(CLUSTER_ROLE_ARN)
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .set_access_config(access)
        .send()
        .await
        .or_panic("eks create_cluster");
}

/// An EKS error as the SDK saw it.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// The error a call must have failed with.
#[track_caller]
pub fn refusal<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, SdkError<E, HttpResponse>>) -> Refusal {
    let error = result.expect_err("the call must fail");
    let status = error.raw_response().map(|r| r.status().as_u16()).unwrap_or_default();
    Refusal {
        status,
        code: error.code().unwrap_or_default().to_string(),
        message: error.message().unwrap_or_default().to_string(),
    }
}

/// Asserts the status and code of a refusal; returns its message.
#[track_caller]
pub fn assert_refused<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    status: u16,
    code: &str,
) -> String {
    let refused = refusal(result);
    assert_eq!((refused.status, refused.code.as_str()), (status, code), "{refused:?}");
    refused.message
}
