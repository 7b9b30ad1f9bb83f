//! Which requests the access-entry emulation answers, recognised from the EKS REST route: the
//! access-entry API itself, tag calls on access-entry ARNs, and the cluster calls whose answers
//! carry or change `accessConfig`.

use http::{Method, Uri};

use super::principal::cluster_of_entry_arn;
use crate::rest;

/// `maxResults` and `nextToken` of a list call, as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Page {
    pub max_results: Option<String>,
    pub next_token: Option<String>,
}

/// A call whose answer involves `accessConfig`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClusterCall {
    Create,
    Describe { cluster: String },
    Delete { cluster: String },
    UpdateConfig { cluster: String },
}

/// A call on one cluster's access entries (tag calls on an entry's ARN included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EntryCall {
    Create,
    List {
        associated_policy_arn: Option<String>,
        page: Page,
    },
    Describe {
        principal: String,
    },
    Update {
        principal: String,
    },
    Delete {
        principal: String,
    },
    Associate {
        principal: String,
    },
    ListAssociated {
        principal: String,
        page: Page,
    },
    Disassociate {
        principal: String,
        policy: String,
    },
    Tag {
        arn: String,
    },
    Untag {
        arn: String,
        keys: Vec<String>,
    },
    ListTags {
        arn: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    Cluster(ClusterCall),
    ListAccessPolicies { page: Page },
    Entry { cluster: String, call: EntryCall },
}

impl Operation {
    /// The operation of an EKS request, or `None` for one moto answers unchanged (tag calls on
    /// anything but an access entry included).
    pub(crate) fn classify(service: Option<&str>, method: &Method, uri: &Uri) -> Option<Self> {
        if service != Some("eks") {
            return None;
        }
        let segments = rest::path_segments(uri);
        let query = rest::query_pairs(uri);
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let page = || Page {
            max_results: param("maxResults"),
            next_token: param("nextToken"),
        };
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let owned = |s: &str| s.to_string();
        let entry = |cluster: &str, call| Operation::Entry {
            cluster: owned(cluster),
            call,
        };
        let operation = match (method.as_str(), s.as_slice()) {
            ("POST", ["clusters"]) => Operation::Cluster(ClusterCall::Create),
            ("GET", ["clusters", c]) => Operation::Cluster(ClusterCall::Describe { cluster: owned(c) }),
            ("DELETE", ["clusters", c]) => Operation::Cluster(ClusterCall::Delete { cluster: owned(c) }),
            ("POST", ["clusters", c, "update-config"]) => {
                Operation::Cluster(ClusterCall::UpdateConfig { cluster: owned(c) })
            }
            ("POST", ["clusters", c, "access-entries"]) => entry(c, EntryCall::Create),
            ("GET", ["clusters", c, "access-entries"]) => entry(
                c,
                EntryCall::List {
                    associated_policy_arn: param("associatedPolicyArn"),
                    page: page(),
                },
            ),
            (verb, ["clusters", c, "access-entries", p]) => {
                let principal = owned(p);
                let call = match verb {
                    "GET" => EntryCall::Describe { principal },
                    "POST" => EntryCall::Update { principal },
                    "DELETE" => EntryCall::Delete { principal },
                    _ => return None,
                };
                entry(c, call)
            }
            ("POST", ["clusters", c, "access-entries", p, "access-policies"]) => {
                entry(c, EntryCall::Associate { principal: owned(p) })
            }
            ("GET", ["clusters", c, "access-entries", p, "access-policies"]) => entry(
                c,
                EntryCall::ListAssociated {
                    principal: owned(p),
                    page: page(),
                },
            ),
            ("DELETE", ["clusters", c, "access-entries", p, "access-policies", policy]) => entry(
                c,
                EntryCall::Disassociate {
                    principal: owned(p),
                    policy: owned(policy),
                },
            ),
            ("GET", ["access-policies"]) => Operation::ListAccessPolicies { page: page() },
            (verb, ["tags", arn]) => {
                let cluster = cluster_of_entry_arn(arn)?;
                let arn = owned(arn);
                let call = match verb {
                    "POST" => EntryCall::Tag { arn },
                    "GET" => EntryCall::ListTags { arn },
                    "DELETE" => EntryCall::Untag {
                        arn,
                        keys: query
                            .iter()
                            .filter(|(k, _)| k == "tagKeys")
                            .map(|(_, v)| v.clone())
                            .collect(),
                    },
                    _ => return None,
                };
                entry(cluster, call)
            }
            _ => return None,
        };
        Some(operation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(method: Method, uri: &str) -> Option<Operation> {
        Operation::classify(Some("eks"), &method, &uri.parse().unwrap())
    }

    #[test]
    fn labels_are_decoded_after_splitting() {
        assert_eq!(
            classify(
                Method::DELETE,
                "/clusters/demo/access-entries/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fops%2FBuilder/access-policies/arn%3Aaws%3Aeks%3A%3Aaws%3Acluster-access-policy%2FAmazonEKSViewPolicy"
            ),
            Some(Operation::Entry {
                cluster: "demo".into(),
                call: EntryCall::Disassociate {
                    principal: "arn:aws:iam::1:role/ops/Builder".into(),
                    policy: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
                }
            })
        );
        assert_eq!(
            classify(
                Method::GET,
                "/clusters/demo/access-entries?maxResults=2&nextToken=a%3Ab&associatedPolicyArn=p"
            ),
            Some(Operation::Entry {
                cluster: "demo".into(),
                call: EntryCall::List {
                    associated_policy_arn: Some("p".into()),
                    page: Page {
                        max_results: Some("2".into()),
                        next_token: Some("a:b".into())
                    },
                }
            })
        );
    }

    #[test]
    fn only_tag_calls_on_access_entries_are_taken_from_moto() {
        let entry = "arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Aaccess-entry%2Fdemo%2Frole%2F1%2FBuilder%2Fid";
        assert_eq!(
            classify(Method::DELETE, &format!("/tags/{entry}?tagKeys=a&tagKeys=b")),
            Some(Operation::Entry {
                cluster: "demo".into(),
                call: EntryCall::Untag {
                    arn: "arn:aws:eks:us-east-1:1:access-entry/demo/role/1/Builder/id".into(),
                    keys: vec!["a".into(), "b".into()],
                }
            })
        );
        assert_eq!(
            classify(Method::GET, "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Acluster%2Fdemo"),
            None
        );
        assert_eq!(classify(Method::GET, "/clusters"), None);
        assert_eq!(classify(Method::GET, "/clusters/demo/fargate-profiles/fp"), None);
        assert_eq!(
            Operation::classify(Some("elasticfilesystem"), &Method::GET, &"/clusters/x".parse().unwrap()),
            None
        );
    }
}
