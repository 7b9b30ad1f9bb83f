//! Network discovery: the cluster's VPC and which of its subnets are private.
//!
//! A subnet is private when its route table (the explicitly associated one, else the VPC's main
//! table) has no default route to an internet gateway. That also covers VPCs that reach AWS through
//! NAT instances, transit gateways or only VPC endpoints, which NAT-gateway matching would miss.

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::run::{Network, Run, Subnet};
use aws_sdk_ec2::types::RouteTable;
use aws_sdk_eks::types::Cluster;
use std::collections::BTreeMap;

/// The route facts classification needs, separated from the SDK types so the rule is testable.
#[derive(Clone, Debug, Default)]
pub struct RouteTableFacts {
    pub explicit_subnets: Vec<String>,
    pub is_main: bool,
    pub default_route_to_internet_gateway: bool,
}

impl From<&RouteTable> for RouteTableFacts {
    fn from(table: &RouteTable) -> Self {
        let associations = table.associations();
        Self {
            explicit_subnets: associations
                .iter()
                .filter_map(|a| a.subnet_id().map(str::to_string))
                .collect(),
            is_main: associations.iter().any(|a| a.main() == Some(true)),
            default_route_to_internet_gateway: table.routes().iter().any(|route| {
                let default = route.destination_cidr_block() == Some("0.0.0.0/0")
                    || route.destination_ipv6_cidr_block() == Some("::/0");
                default && route.gateway_id().is_some_and(|g| g.starts_with("igw-"))
            }),
        }
    }
}

/// Keeps the private subnets of `subnets`.
pub fn private_subnets(subnets: &[Subnet], tables: &[RouteTableFacts]) -> Vec<Subnet> {
    let main_is_public = tables.iter().any(|t| t.is_main && t.default_route_to_internet_gateway);
    let mut private: Vec<Subnet> = subnets
        .iter()
        .filter(|subnet| {
            let explicit = tables.iter().find(|t| t.explicit_subnets.contains(&subnet.subnet_id));
            let public = explicit.map_or(main_is_public, |t| t.default_route_to_internet_gateway);
            !public
        })
        .cloned()
        .collect();
    private.sort();
    private
}

/// One subnet per availability zone (the first by subnet id), because EFS allows one mount target
/// per AZ; sorted, so every run picks the same ones.
pub fn one_per_zone(private: &[Subnet]) -> Vec<Subnet> {
    let mut by_zone: BTreeMap<&str, &Subnet> = BTreeMap::new();
    for subnet in private {
        by_zone
            .entry(&subnet.availability_zone)
            .and_modify(|chosen| {
                if subnet.subnet_id < chosen.subnet_id {
                    *chosen = subnet;
                }
            })
            .or_insert(subnet);
    }
    by_zone.into_values().cloned().collect()
}

/// The cluster's network, from its VPC configuration.
pub async fn of_cluster(ec2: &aws_sdk_ec2::Client, cluster: &Cluster) -> Result<Network> {
    let vpc_config = cluster.resources_vpc_config();
    discover(
        ec2,
        cluster.name().unwrap_or_default(),
        vpc_config.map(|c| c.subnet_ids()).unwrap_or_default(),
        vpc_config
            .and_then(|c| c.cluster_security_group_id())
            .map(str::to_string),
    )
    .await
}

/// The run's network, checked against the cluster as AWS describes it now. The steps that open the
/// file system to subnets or place pods in them use this instead of trusting their input: a run
/// whose `network` was edited (or a cluster whose network changed since `prepare`) is refused.
pub async fn verified(clients: &AwsClients, run: &Run) -> Result<Network> {
    let cluster = aws::eks::cluster(&clients.eks, &run.request.cluster_name).await?;
    let actual = of_cluster(&clients.ec2, &cluster).await?;
    if actual != run.network {
        return Err(WorkflowError::invalid(
            "run.network",
            format!(
                "is not cluster {}'s network as EC2 describes it now (VPC {}, private subnets {}); start a new run so prepare discovers it again",
                run.request.cluster_name,
                actual.vpc_id,
                actual
                    .private_subnets
                    .iter()
                    .map(|s| format!("{} {}", s.subnet_id, s.cidr_block))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(actual)
}

/// Describes the cluster's subnets and route tables and returns its network.
async fn discover(
    ec2: &aws_sdk_ec2::Client,
    cluster: &str,
    subnet_ids: &[String],
    cluster_security_group_id: Option<String>,
) -> Result<Network> {
    let described = aws::ec2::subnets(ec2, subnet_ids).await?;
    let mut vpc_ids: Vec<&str> = described.iter().filter_map(|s| s.vpc_id()).collect();
    vpc_ids.sort_unstable();
    vpc_ids.dedup();
    let vpc_id = match vpc_ids.as_slice() {
        [one] => one.to_string(),
        _ => {
            return Err(WorkflowError::NoPrivateSubnets {
                cluster: cluster.to_string(),
                vpc_id: format!("(subnets span {} VPCs)", vpc_ids.len()),
            });
        }
    };
    let subnets: Vec<Subnet> = described
        .iter()
        .map(|s| Subnet {
            availability_zone: s.availability_zone().unwrap_or_default().to_string(),
            subnet_id: s.subnet_id().unwrap_or_default().to_string(),
            cidr_block: s.cidr_block().unwrap_or_default().to_string(),
        })
        .collect();
    let tables: Vec<RouteTableFacts> = aws::ec2::route_tables(ec2, &vpc_id)
        .await?
        .iter()
        .map(RouteTableFacts::from)
        .collect();
    let private = private_subnets(&subnets, &tables);
    if private.is_empty() {
        return Err(WorkflowError::NoPrivateSubnets {
            cluster: cluster.to_string(),
            vpc_id,
        });
    }
    Ok(Network {
        vpc_id,
        mount_target_subnets: one_per_zone(&private),
        private_subnets: private,
        cluster_security_group_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(id: &str, az: &str) -> Subnet {
        Subnet {
            availability_zone: az.into(),
            subnet_id: id.into(),
            cidr_block: format!("10.0.{}.0/24", id.len()),
        }
    }

    fn table(subnets: &[&str], main: bool, igw: bool) -> RouteTableFacts {
        RouteTableFacts {
            explicit_subnets: subnets.iter().map(|s| s.to_string()).collect(),
            is_main: main,
            default_route_to_internet_gateway: igw,
        }
    }

    #[test]
    fn explicit_tables_decide_and_main_table_is_the_fallback() {
        let subnets = [
            subnet("subnet-pub", "a"),
            subnet("subnet-nat", "a"),
            subnet("subnet-main", "b"),
        ];
        let tables = [
            table(&["subnet-pub"], false, true),
            table(&["subnet-nat"], false, false),
            table(&[], true, false),
        ];
        let private: Vec<_> = private_subnets(&subnets, &tables)
            .into_iter()
            .map(|s| s.subnet_id)
            .collect();
        assert_eq!(private, ["subnet-nat", "subnet-main"], "sorted by zone, then id");
    }

    #[test]
    fn a_public_main_table_makes_unassociated_subnets_public() {
        let subnets = [subnet("subnet-1", "a")];
        assert!(private_subnets(&subnets, &[table(&[], true, true)]).is_empty());
    }

    #[test]
    fn one_subnet_per_zone_is_chosen_deterministically() {
        let private = [
            subnet("subnet-b", "us-east-1a"),
            subnet("subnet-a", "us-east-1a"),
            subnet("subnet-c", "us-east-1b"),
        ];
        let chosen: Vec<_> = one_per_zone(&private).into_iter().map(|s| s.subnet_id).collect();
        assert_eq!(chosen, ["subnet-a", "subnet-c"]);
    }
}
