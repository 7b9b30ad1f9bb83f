//! What IAM authorizes for each EFS call the handlers make: the action, the file system or access
//! point it is on (as the Service Authorization Reference lists the resource types), and the
//! context keys EFS supplies: `aws:RequestTag/*` and `aws:TagKeys` of a create's tags,
//! `aws:ResourceTag/*` of the resource as moto holds it now, `elasticfilesystem:Encrypted`, and on
//! the tag-on-create `elasticfilesystem:TagResource` authorization `elasticfilesystem:CreateAction`.
//! `CreateMountTarget` also needs the EC2 rights EFS documents for the caller (describe the subnet
//! and interfaces, create the interface in the subnet with the security groups).

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::context::{Tags, key_value_tags, request_tags, resource_tags};
use super::evaluate::Request;
use super::{Lookup, Unmodelled};
use crate::rest;

const API: &str = "2015-02-01";

/// The authorizations one EFS call needs, in the order AWS checks them.
pub(crate) async fn requests(lookup: &Lookup<'_>, body: &Bytes) -> Result<Vec<Request>, Unmodelled> {
    let parts = lookup.parts;
    let segments = rest::path_segments(&parts.uri);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let query = rest::query_pairs(&parts.uri);
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let efs = Efs { lookup };
    let unmodelled = || Unmodelled(format!("EFS {} {}", parts.method, parts.uri.path()));
    let [API, rest @ ..] = segments.as_slice() else {
        return Err(unmodelled());
    };
    let method = &parts.method;
    let requests = match (method, rest) {
        (&Method::POST, ["file-systems"]) => {
            let tags = key_value_tags(&body["Tags"]);
            let encrypted = body["Encrypted"].as_bool().unwrap_or(false).to_string();
            let create = request_tags(Request::new("elasticfilesystem:CreateFileSystem", "*"), &tags)
                .with("elasticfilesystem:Encrypted", [encrypted]);
            let new = format!("{}:file-system/*", efs.prefix());
            with_tag_on_create(create, new, "CreateFileSystem", &tags)
        }
        (&Method::GET, ["file-systems"]) => vec![match param("FileSystemId") {
            Some(id) => efs.on_file_system("elasticfilesystem:DescribeFileSystems", id).await?,
            None => Request::new("elasticfilesystem:DescribeFileSystems", "*"),
        }],
        (&Method::GET, ["file-systems", "replication-configurations"]) => {
            let id = param("FileSystemId").ok_or_else(unmodelled)?;
            vec![
                efs.on_file_system("elasticfilesystem:DescribeReplicationConfigurations", id)
                    .await?,
            ]
        }
        (method, ["file-systems", id, rest @ ..]) => {
            let action = match (method, rest) {
                (&Method::PUT, []) => "UpdateFileSystem",
                (&Method::DELETE, []) => "DeleteFileSystem",
                (&Method::PUT, ["lifecycle-configuration"]) => "PutLifecycleConfiguration",
                (&Method::GET, ["lifecycle-configuration"]) => "DescribeLifecycleConfiguration",
                (&Method::PUT, ["backup-policy"]) => "PutBackupPolicy",
                (&Method::GET, ["backup-policy"]) => "DescribeBackupPolicy",
                (&Method::PUT, ["policy"]) => "PutFileSystemPolicy",
                (&Method::GET, ["policy"]) => "DescribeFileSystemPolicy",
                (&Method::PUT, ["protection"]) => "UpdateFileSystemProtection",
                (&Method::POST, ["replication-configuration"]) => "CreateReplicationConfiguration",
                (&Method::DELETE, ["replication-configuration"]) => "DeleteReplicationConfiguration",
                _ => return Err(unmodelled()),
            };
            vec![efs.on_file_system(&format!("elasticfilesystem:{action}"), id).await?]
        }
        (&Method::POST, ["mount-targets"]) => {
            let id = body["FileSystemId"].as_str().unwrap_or_default();
            let subnet = body["SubnetId"].as_str().unwrap_or_default();
            let ec2 = lookup.arn_prefix("ec2");
            let mut requests = vec![
                efs.on_file_system("elasticfilesystem:CreateMountTarget", id).await?,
                Request::new("ec2:DescribeSubnets", "*"),
                Request::new("ec2:DescribeNetworkInterfaces", "*"),
                Request::new("ec2:CreateNetworkInterface", format!("{ec2}:network-interface/*")),
                Request::new("ec2:CreateNetworkInterface", format!("{ec2}:subnet/{subnet}")),
            ];
            for group in super::context::strings(&body["SecurityGroups"]) {
                requests.push(Request::new(
                    "ec2:CreateNetworkInterface",
                    format!("{ec2}:security-group/{group}"),
                ));
            }
            requests
        }
        (&Method::GET, ["mount-targets"]) => {
            let id = match (param("FileSystemId"), param("MountTargetId")) {
                (Some(id), _) => id.to_string(),
                (None, Some(mount_target)) => efs.file_system_of_mount_target(mount_target).await?,
                (None, None) => return Err(unmodelled()),
            };
            vec![
                efs.on_file_system("elasticfilesystem:DescribeMountTargets", &id)
                    .await?,
            ]
        }
        (&Method::DELETE, ["mount-targets", mount_target]) => {
            let id = efs.file_system_of_mount_target(mount_target).await?;
            vec![efs.on_file_system("elasticfilesystem:DeleteMountTarget", &id).await?]
        }
        (&Method::POST, ["access-points"]) => {
            let id = body["FileSystemId"].as_str().unwrap_or_default();
            let tags = key_value_tags(&body["Tags"]);
            let create = request_tags(
                efs.on_file_system("elasticfilesystem:CreateAccessPoint", id).await?,
                &tags,
            );
            let new = format!("{}:access-point/*", efs.prefix());
            with_tag_on_create(create, new, "CreateAccessPoint", &tags)
        }
        (&Method::GET, ["access-points"]) => vec![match (param("FileSystemId"), param("AccessPointId")) {
            (Some(id), _) => efs.on_file_system("elasticfilesystem:DescribeAccessPoints", id).await?,
            (None, Some(id)) => {
                efs.on_access_point("elasticfilesystem:DescribeAccessPoints", id)
                    .await?
            }
            (None, None) => Request::new("elasticfilesystem:DescribeAccessPoints", "*"),
        }],
        (&Method::DELETE, ["access-points", id]) => {
            vec![efs.on_access_point("elasticfilesystem:DeleteAccessPoint", id).await?]
        }
        _ => return Err(unmodelled()),
    };
    Ok(requests)
}

struct Efs<'a> {
    lookup: &'a Lookup<'a>,
}

impl Efs<'_> {
    fn prefix(&self) -> String {
        self.lookup.arn_prefix("elasticfilesystem")
    }

    /// A request on file system `id`, with its tags (none when moto has no such file system: the
    /// call then fails on its own, after authorization).
    async fn on_file_system(&self, action: &str, id: &str) -> Result<Request, Unmodelled> {
        self.on_resource(action, "file-system", "FileSystemId", "FileSystems", id)
            .await
    }

    async fn on_access_point(&self, action: &str, id: &str) -> Result<Request, Unmodelled> {
        self.on_resource(action, "access-point", "AccessPointId", "AccessPoints", id)
            .await
    }

    /// A request on the `kind` resource `id`, described by moto's `GET /<kind>s?<param>=<id>`.
    async fn on_resource(
        &self,
        action: &str,
        kind: &str,
        param: &str,
        list: &str,
        id: &str,
    ) -> Result<Request, Unmodelled> {
        let described = self.lookup.get(&format!("/{API}/{kind}s?{param}={id}")).await?;
        let tags = described
            .as_ref()
            .map(|d| key_value_tags(&d[list][0]["Tags"]))
            .unwrap_or_default();
        let arn = format!("{}:{kind}/{id}", self.prefix());
        Ok(resource_tags(Request::new(action, arn), &tags))
    }

    /// The file system a mount target belongs to (`*` when moto has no such mount target).
    async fn file_system_of_mount_target(&self, mount_target: &str) -> Result<String, Unmodelled> {
        let described = self
            .lookup
            .get(&format!("/{API}/mount-targets?MountTargetId={mount_target}"))
            .await?;
        Ok(described
            .as_ref()
            .and_then(|d| d["MountTargets"][0]["FileSystemId"].as_str())
            .unwrap_or("*")
            .to_string())
    }
}

/// The create, then (when it carries tags) the `TagResource` on what it makes, which EFS
/// authorizes with `elasticfilesystem:CreateAction` set to the create's name.
fn with_tag_on_create(create: Request, new_arn: String, create_action: &str, tags: &Tags) -> Vec<Request> {
    let mut requests = vec![create];
    if !tags.is_empty() {
        let tag = request_tags(Request::new("elasticfilesystem:TagResource", new_arn), tags)
            .with("elasticfilesystem:CreateAction", [create_action]);
        requests.push(tag);
    }
    requests
}
