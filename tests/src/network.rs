//! `seed_network`: a realistic EKS network in moto (VPC over 3 AZs, public subnets behind an
//! internet gateway, private subnets behind a NAT gateway, one of them on the main route table) and
//! an EKS cluster that lists all of its subnets, with access entries unless asked for a
//! `CONFIG_MAP` one.

use aws_sdk_ec2::types::{AttributeBooleanValue, DomainType, Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_eks::types::{AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest};
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::ownership::OPT_IN_TAG_KEY;

use crate::check::OrPanic;

pub const VPC_CIDR: &str = "10.0.0.0/16";
pub const CLUSTER_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/eks-cluster";
pub const CLUSTER_VERSION: &str = "1.31";
/// `(cidr, az)` of the public subnets, one per AZ.
pub const PUBLIC_SUBNETS: [(&str, &str); 3] = [
    ("10.0.0.0/24", "us-east-1a"),
    ("10.0.1.0/24", "us-east-1b"),
    ("10.0.2.0/24", "us-east-1c"),
];
/// `(cidr, az)` of the private subnets: one per AZ plus a second one in us-east-1a.
pub const PRIVATE_SUBNETS: [(&str, &str); 4] = [
    ("10.0.10.0/24", "us-east-1a"),
    ("10.0.11.0/24", "us-east-1b"),
    ("10.0.12.0/24", "us-east-1c"),
    ("10.0.13.0/24", "us-east-1a"),
];
/// The private subnet with no explicit route table association: it uses the VPC's main route
/// table, which routes 0.0.0.0/0 to the NAT gateway.
pub const MAIN_TABLE_SUBNET_CIDR: &str = "10.0.12.0/24";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub az: String,
    pub cidr: String,
}

#[derive(Debug, Clone)]
pub struct SeededCluster {
    pub cluster_name: String,
    pub vpc_id: String,
    /// In the order of [`PUBLIC_SUBNETS`].
    pub public_subnets: Vec<Subnet>,
    /// In the order of [`PRIVATE_SUBNETS`].
    pub private_subnets: Vec<Subnet>,
    pub nat_gateway_id: String,
    pub internet_gateway_id: String,
    /// Explicitly associated with every public subnet: 0.0.0.0/0 → internet gateway.
    pub public_route_table_id: String,
    /// Explicitly associated with every private subnet except [`MAIN_TABLE_SUBNET_CIDR`]:
    /// 0.0.0.0/0 → NAT gateway.
    pub private_route_table_id: String,
    /// The VPC's main route table, given 0.0.0.0/0 → NAT gateway.
    pub main_route_table_id: String,
}

impl SeededCluster {
    pub fn public_subnet_ids(&self) -> Vec<String> {
        self.public_subnets.iter().map(|s| s.id.clone()).collect()
    }

    pub fn private_subnet_ids(&self) -> Vec<String> {
        self.private_subnets.iter().map(|s| s.id.clone()).collect()
    }

    /// Public then private: the cluster's `resourcesVpcConfig.subnetIds`.
    pub fn subnet_ids(&self) -> Vec<String> {
        let mut ids = self.public_subnet_ids();
        ids.extend(self.private_subnet_ids());
        ids
    }

    /// The private subnet that relies on the main route table.
    pub fn main_table_subnet(&self) -> &Subnet {
        self.private_subnets
            .iter()
            .find(|s| s.cidr == MAIN_TABLE_SUBNET_CIDR)
            .expect("seeded")
    }
}

fn tag(key: impl Into<String>, value: impl Into<String>) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn tags(resource: ResourceType, tags: Vec<Tag>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags))
        .build()
}

/// How a seeded cluster lets IAM principals in: the `accessConfig` of its CreateCluster. moto
/// ignores it; the local stack's gateway honours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeededAccess {
    /// `API_AND_CONFIG_MAP` without an access entry for the creator: the workflow's functions run
    /// with the seeding code's credentials, and a creator entry would hand them cluster-admin
    /// before the workflow grants itself anything.
    AccessEntries,
    /// No `accessConfig`: EKS's API default, `CONFIG_MAP` (aws-auth only, no access entries).
    ConfigMapOnly,
}

/// Seeds the network and creates the EKS cluster `cluster_name` on all 7 subnets, with access
/// entries ([`SeededAccess::AccessEntries`]).
pub async fn seed_network(clients: &AwsClients, cluster_name: &str) -> SeededCluster {
    seed_network_with(clients, cluster_name, SeededAccess::AccessEntries).await
}

/// [`seed_network`] with the cluster's access configuration chosen.
pub async fn seed_network_with(clients: &AwsClients, cluster_name: &str, access: SeededAccess) -> SeededCluster {
    let ec2 = &clients.ec2;
    let name = |suffix: &str| tag("Name", format!("{cluster_name}-{suffix}"));

    let vpc_id = ec2
        .create_vpc()
        .cidr_block(VPC_CIDR)
        .tag_specifications(tags(ResourceType::Vpc, vec![name("vpc")]))
        .send()
        .await
        .or_panic("ec2 create_vpc")
        .vpc
        .and_then(|vpc| vpc.vpc_id)
        .expect("vpc id");
    let on = || AttributeBooleanValue::builder().value(true).build();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_support(on())
        .send()
        .await
        .or_panic("ec2 modify_vpc_attribute enableDnsSupport");
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_hostnames(on())
        .send()
        .await
        .or_panic("ec2 modify_vpc_attribute enableDnsHostnames");

    let internet_gateway_id = ec2
        .create_internet_gateway()
        .tag_specifications(tags(ResourceType::InternetGateway, vec![name("igw")]))
        .send()
        .await
        .or_panic("ec2 create_internet_gateway")
        .internet_gateway
        .and_then(|igw| igw.internet_gateway_id)
        .expect("internet gateway id");
    ec2.attach_internet_gateway()
        .internet_gateway_id(&internet_gateway_id)
        .vpc_id(&vpc_id)
        .send()
        .await
        .or_panic("ec2 attach_internet_gateway");

    let mut public_subnets = Vec::new();
    for (cidr, az) in PUBLIC_SUBNETS {
        let subnet_tags = vec![
            name(&format!("public-{az}")),
            tag("kubernetes.io/role/elb", "1"),
            tag(format!("kubernetes.io/cluster/{cluster_name}"), "shared"),
        ];
        public_subnets.push(create_subnet(clients, &vpc_id, cidr, az, subnet_tags).await);
    }
    let mut private_subnets = Vec::new();
    for (cidr, az) in PRIVATE_SUBNETS {
        let subnet_tags = vec![
            name(&format!("private-{az}-{}", cidr.split('.').nth(2).unwrap_or(""))),
            tag("kubernetes.io/role/internal-elb", "1"),
            tag(format!("kubernetes.io/cluster/{cluster_name}"), "shared"),
        ];
        private_subnets.push(create_subnet(clients, &vpc_id, cidr, az, subnet_tags).await);
    }

    let public_route_table_id = create_route_table(clients, &vpc_id, name("public")).await;
    ec2.create_route()
        .route_table_id(&public_route_table_id)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&internet_gateway_id)
        .send()
        .await
        .or_panic("ec2 create_route 0.0.0.0/0 -> igw");
    for subnet in &public_subnets {
        associate(clients, &public_route_table_id, &subnet.id).await;
    }

    let allocation_id = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .send()
        .await
        .or_panic("ec2 allocate_address")
        .allocation_id
        .expect("allocation id");
    let nat_gateway_id = ec2
        .create_nat_gateway()
        .subnet_id(&public_subnets[0].id)
        .allocation_id(allocation_id)
        .tag_specifications(tags(ResourceType::Natgateway, vec![name("nat")]))
        .send()
        .await
        .or_panic("ec2 create_nat_gateway")
        .nat_gateway
        .and_then(|nat| nat.nat_gateway_id)
        .expect("nat gateway id");

    let private_route_table_id = create_route_table(clients, &vpc_id, name("private")).await;
    let main_route_table_id = main_route_table(clients, &vpc_id).await;
    for table in [&private_route_table_id, &main_route_table_id] {
        ec2.create_route()
            .route_table_id(table)
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(&nat_gateway_id)
            .send()
            .await
            .or_panic("ec2 create_route 0.0.0.0/0 -> nat");
    }
    for subnet in private_subnets.iter().filter(|s| s.cidr != MAIN_TABLE_SUBNET_CIDR) {
        associate(clients, &private_route_table_id, &subnet.id).await;
    }

    let seeded = SeededCluster {
        cluster_name: cluster_name.to_owned(),
        vpc_id,
        public_subnets,
        private_subnets,
        nat_gateway_id,
        internet_gateway_id,
        public_route_table_id,
        private_route_table_id,
        main_route_table_id,
    };
    seeded.create_cluster_with(&clients.eks, cluster_name, access).await;
    associate_oidc_provider(clients, cluster_name).await;
    seed_pod_execution_role(clients).await;
    seeded
}

impl SeededCluster {
    /// Another opted-in cluster `name` on this network, with access entries and no creator entry.
    pub async fn create_cluster(&self, eks: &aws_sdk_eks::Client, name: &str) {
        self.create_cluster_with(eks, name, SeededAccess::AccessEntries).await;
    }

    async fn create_cluster_with(&self, eks: &aws_sdk_eks::Client, cluster_name: &str, access: SeededAccess) {
        eks.create_cluster()
            .name(cluster_name)
            .role_arn(CLUSTER_ROLE_ARN)
            .version(CLUSTER_VERSION)
            // The workflow changes only clusters that opted in.
            .tags(OPT_IN_TAG_KEY, "true")
            .resources_vpc_config(
                VpcConfigRequest::builder()
                    .set_subnet_ids(Some(self.subnet_ids()))
                    // EKS's defaults, which moto only reports when they are sent.
                    .endpoint_public_access(true)
                    .endpoint_private_access(false)
                    .build(),
            )
            .set_access_config(match access {
                SeededAccess::AccessEntries => Some(
                    CreateAccessConfigRequest::builder()
                        .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                        .bootstrap_cluster_creator_admin_permissions(false)
                        .build(),
                ),
                SeededAccess::ConfigMapOnly => None,
            })
            .send()
            .await
            .or_panic("eks create_cluster");
    }
}

/// Registers the cluster's OIDC issuer with IAM, as `eksctl utils associate-iam-oidc-provider`
/// (or the Terraform EKS module's default) does: what IAM roles for service accounts need. Returns
/// the provider's ARN.
pub async fn associate_oidc_provider(clients: &AwsClients, cluster_name: &str) -> String {
    let cluster = clients
        .eks
        .describe_cluster()
        .name(cluster_name)
        .send()
        .await
        .or_panic("eks describe_cluster")
        .cluster
        .expect("a cluster");
    let issuer = cluster
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .expect("moto gives every cluster an OIDC issuer");
    clients
        .iam
        .create_open_id_connect_provider()
        .url(issuer)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .send()
        .await
        .or_panic("iam create_open_id_connect_provider")
        .open_id_connect_provider_arn
        .expect("a provider ARN")
}

/// Fargate's trust policy for [`crate::POD_ROLE`].
pub const POD_ROLE_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks-fargate-pods.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// What `AmazonEKSFargatePodExecutionRolePolicy` grants, inline: moto loads AWS managed policies
/// only with `MOTO_IAM_LOAD_MANAGED_POLICIES` (seconds on every reset), so the seeded role has the
/// equivalent inline policy.
pub const POD_ROLE_PULL_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}"#;

/// The pod execution role [`crate::POD_ROLE`], as the template's `PodExecutionRole` (once per
/// moto: a second seeded cluster shares it).
pub async fn seed_pod_execution_role(clients: &AwsClients) {
    let name = efs_fargate_core::aws::iam::role_name(crate::POD_ROLE);
    let created = clients
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(POD_ROLE_TRUST_POLICY)
        .send()
        .await;
    match created {
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_entity_already_exists_exception()) =>
        {
            return;
        }
        other => {
            other.or_panic("iam create_role");
        }
    }
    clients
        .iam
        .put_role_policy()
        .role_name(name)
        .policy_name("fargate-pull")
        .policy_document(POD_ROLE_PULL_POLICY)
        .send()
        .await
        .or_panic("iam put_role_policy");
}

async fn create_subnet(clients: &AwsClients, vpc_id: &str, cidr: &str, az: &str, subnet_tags: Vec<Tag>) -> Subnet {
    let id = clients
        .ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block(cidr)
        .availability_zone(az)
        .tag_specifications(tags(ResourceType::Subnet, subnet_tags))
        .send()
        .await
        .or_panic("ec2 create_subnet")
        .subnet
        .and_then(|subnet| subnet.subnet_id)
        .expect("subnet id");
    Subnet {
        id,
        az: az.to_owned(),
        cidr: cidr.to_owned(),
    }
}

async fn create_route_table(clients: &AwsClients, vpc_id: &str, name: Tag) -> String {
    clients
        .ec2
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tags(ResourceType::RouteTable, vec![name]))
        .send()
        .await
        .or_panic("ec2 create_route_table")
        .route_table
        .and_then(|table| table.route_table_id)
        .expect("route table id")
}

async fn associate(clients: &AwsClients, route_table_id: &str, subnet_id: &str) {
    clients
        .ec2
        .associate_route_table()
        .route_table_id(route_table_id)
        .subnet_id(subnet_id)
        .send()
        .await
        .or_panic("ec2 associate_route_table");
}

/// The route table that `create_vpc` made as the VPC's main table.
pub async fn main_route_table(clients: &AwsClients, vpc_id: &str) -> String {
    let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    clients
        .ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .filters(filter("association.main", "true"))
        .send()
        .await
        .or_panic("ec2 describe_route_tables main")
        .route_tables
        .unwrap_or_default()
        .into_iter()
        .find_map(|table| table.route_table_id)
        .expect("the VPC has a main route table")
}
