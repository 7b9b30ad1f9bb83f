//! What the access-entry tests share: a gateway with a store the test can read, an EKS client
//! through it, bare clusters in either authentication mode, the access-entry calls with their
//! cluster and principal filled in, access scopes, and EKS errors taken apart.

use std::fmt::Debug;

use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::operation::associate_access_policy::builders::AssociateAccessPolicyFluentBuilder;
use aws_sdk_eks::operation::create_access_entry::builders::CreateAccessEntryFluentBuilder;
use aws_sdk_eks::operation::create_cluster::builders::CreateClusterFluentBuilder;
use aws_sdk_eks::operation::delete_access_entry::builders::DeleteAccessEntryFluentBuilder;
use aws_sdk_eks::operation::describe_access_entry::builders::DescribeAccessEntryFluentBuilder;
use aws_sdk_eks::operation::disassociate_access_policy::builders::DisassociateAccessPolicyFluentBuilder;
use aws_sdk_eks::operation::list_access_entries::builders::ListAccessEntriesFluentBuilder;
use aws_sdk_eks::operation::list_associated_access_policies::builders::ListAssociatedAccessPoliciesFluentBuilder;
use aws_sdk_eks::operation::update_access_entry::builders::UpdateAccessEntryFluentBuilder;
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest,
};
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

/// A gateway as [`gateway`] with the cluster `demo` created through it [`with_access_entries`].
pub async fn gateway_with_demo(moto: &MotoGuard) -> Gateway {
    let gw = gateway(moto);
    create_cluster(&gw.eks, "demo", with_access_entries()).await;
    gw
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
    cluster_request(eks, name, access)
        .send()
        .await
        .or_panic("eks create_cluster");
}

/// The request [`create_cluster`] sends, for a test that expects it to fail.
pub fn cluster_request(
    eks: &aws_sdk_eks::Client,
    name: &str,
    access: Option<CreateAccessConfigRequest>,
) -> CreateClusterFluentBuilder {
    eks.create_cluster()
        .name(name)
        .role_arn(CLUSTER_ROLE_ARN)
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .set_access_config(access)
}

/// The whole cluster.
pub fn cluster_scope() -> AccessScope {
    AccessScope::builder().r#type(AccessScopeType::Cluster).build()
}

/// The namespaces `names`.
pub fn namespaces(names: &[&str]) -> AccessScope {
    AccessScope::builder()
        .r#type(AccessScopeType::Namespace)
        .set_namespaces(Some(names.iter().map(|n| n.to_string()).collect()))
        .build()
}

/// Writes the calls that name one entry by its cluster and principal.
macro_rules! entry_calls {
    ($($method:ident => $operation:ident -> $builder:ty),* $(,)?) => {$(
        fn $method(&self, cluster: &str, principal: &str) -> $builder {
            self.client().$operation().cluster_name(cluster).principal_arn(principal)
        }
    )*};
}

/// The access-entry API of an EKS client, each call with its cluster and principal (and policy)
/// filled in; the caller adds the rest and sends.
pub trait AccessEntryCalls {
    fn client(&self) -> &aws_sdk_eks::Client;

    entry_calls! {
        create_entry => create_access_entry -> CreateAccessEntryFluentBuilder,
        describe_entry => describe_access_entry -> DescribeAccessEntryFluentBuilder,
        update_entry => update_access_entry -> UpdateAccessEntryFluentBuilder,
        delete_entry => delete_access_entry -> DeleteAccessEntryFluentBuilder,
        list_associated => list_associated_access_policies -> ListAssociatedAccessPoliciesFluentBuilder,
    }

    fn list_entries(&self, cluster: &str) -> ListAccessEntriesFluentBuilder {
        self.client().list_access_entries().cluster_name(cluster)
    }

    fn associate(
        &self,
        cluster: &str,
        principal: &str,
        policy: &str,
        scope: AccessScope,
    ) -> AssociateAccessPolicyFluentBuilder {
        self.client()
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy)
            .access_scope(scope)
    }

    fn disassociate(&self, cluster: &str, principal: &str, policy: &str) -> DisassociateAccessPolicyFluentBuilder {
        self.client()
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy)
    }
}

impl AccessEntryCalls for aws_sdk_eks::Client {
    fn client(&self) -> &aws_sdk_eks::Client {
        self
    }
}

/// EKS error codes the tests expect.
pub const NOT_FOUND: &str = "ResourceNotFoundException";
pub const INVALID_PARAMETER: &str = "InvalidParameterException";
pub const INVALID_REQUEST: &str = "InvalidRequestException";

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
