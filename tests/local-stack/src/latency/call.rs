//! Which EKS and EFS calls latency injection cares about, recognised from the REST route.

use http::{Method, Uri};

/// A call whose answer latency may change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    CreateFargateProfile {
        cluster: String,
    },
    DescribeFargateProfile {
        cluster: String,
        name: String,
    },
    DeleteFargateProfile {
        cluster: String,
        name: String,
    },
    CreateFileSystem,
    DescribeFileSystems,
    CreateMountTarget,
    DescribeMountTargets {
        file_system_id: Option<String>,
        mount_target_id: Option<String>,
    },
    DeleteMountTarget {
        id: String,
    },
}

impl Call {
    /// Recognises the EKS and EFS REST routes; `None` for everything else.
    pub(crate) fn classify(service: Option<&str>, method: &Method, uri: &Uri) -> Option<Self> {
        let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
        // Cluster, profile and resource ids are plain `[A-Za-z0-9_-]`: no percent-decoding needed.
        let owned = |s: &str| s.to_string();
        let call = match (service?, method.as_str(), segments.as_slice()) {
            ("eks", "POST", ["clusters", cluster, "fargate-profiles"]) => Call::CreateFargateProfile {
                cluster: owned(cluster),
            },
            ("eks", "GET", ["clusters", cluster, "fargate-profiles", name]) => Call::DescribeFargateProfile {
                cluster: owned(cluster),
                name: owned(name),
            },
            ("eks", "DELETE", ["clusters", cluster, "fargate-profiles", name]) => Call::DeleteFargateProfile {
                cluster: owned(cluster),
                name: owned(name),
            },
            ("elasticfilesystem", "POST", ["2015-02-01", "file-systems"]) => Call::CreateFileSystem,
            ("elasticfilesystem", "GET", ["2015-02-01", "file-systems"]) => Call::DescribeFileSystems,
            ("elasticfilesystem", "POST", ["2015-02-01", "mount-targets"]) => Call::CreateMountTarget,
            ("elasticfilesystem", "GET", ["2015-02-01", "mount-targets"]) => Call::DescribeMountTargets {
                file_system_id: query_param(uri, "FileSystemId"),
                mount_target_id: query_param(uri, "MountTargetId"),
            },
            ("elasticfilesystem", "DELETE", ["2015-02-01", "mount-targets", id]) => {
                Call::DeleteMountTarget { id: owned(id) }
            }
            _ => return None,
        };
        Some(call)
    }
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(service: &str, method: Method, uri: &str) -> Option<Call> {
        Call::classify(Some(service), &method, &uri.parse().unwrap())
    }

    #[test]
    fn eks_and_efs_routes_are_recognised() {
        assert_eq!(
            call("eks", Method::GET, "/clusters/demo/fargate-profiles/fp-ns"),
            Some(Call::DescribeFargateProfile {
                cluster: "demo".into(),
                name: "fp-ns".into()
            })
        );
        assert_eq!(
            call(
                "elasticfilesystem",
                Method::GET,
                "/2015-02-01/mount-targets?FileSystemId=fs-1"
            ),
            Some(Call::DescribeMountTargets {
                file_system_id: Some("fs-1".into()),
                mount_target_id: None
            })
        );
        assert_eq!(
            call("elasticfilesystem", Method::DELETE, "/2015-02-01/mount-targets/fsmt-1"),
            Some(Call::DeleteMountTarget { id: "fsmt-1".into() })
        );
        assert_eq!(call("eks", Method::GET, "/clusters/demo"), None);
        assert_eq!(call("states", Method::POST, "/"), None);
        assert_eq!(
            Call::classify(
                None,
                &Method::GET,
                &"/clusters/demo/fargate-profiles/x".parse().unwrap()
            ),
            None
        );
    }
}
