//! IAM principals as EKS sees them: which ARNs may own an access entry, the identity a caller's
//! ARN stands for, the default Kubernetes username, and the access entry's own ARN.

/// An IAM role or user: the only principals an access entry can be made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Principal {
    pub arn: String,
    pub partition: String,
    pub account: String,
    pub is_role: bool,
    /// The last path segment: `arn:aws:iam::1:role/path/Name` is `Name`.
    pub name: String,
}

impl Principal {
    /// `None` for anything but `arn:<partition>:iam::<account>:{role,user}/[path/]<name>`.
    pub(crate) fn parse(arn: &str) -> Option<Self> {
        let [_, partition, "iam", "", account, resource] = split_arn(arn)? else {
            return None;
        };
        let (kind, path) = resource.split_once('/')?;
        let name = path.rsplit('/').next().filter(|name| !name.is_empty())?;
        let is_role = match kind {
            "role" => true,
            "user" => false,
            _ => return None,
        };
        (!account.is_empty()).then(|| Self {
            arn: arn.to_string(),
            partition: partition.to_string(),
            account: account.to_string(),
            is_role,
            name: name.to_string(),
        })
    }

    /// EKS's username for a STANDARD entry created without one: a role's sessions each get their
    /// own name, a user is itself.
    pub(crate) fn default_username(&self) -> String {
        if self.is_role {
            format!(
                "arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}",
                self.partition, self.account, self.name
            )
        } else {
            self.arn.clone()
        }
    }

    /// `arn:<p>:eks:<region>:<account>:access-entry/<cluster>/<role|user>/<principal account>/<name>/<id>`,
    /// built from the cluster's own ARN (`...:cluster/<cluster>`).
    pub(crate) fn entry_arn(&self, cluster_arn: &str, cluster: &str, id: &str) -> String {
        let base = cluster_arn
            .rsplit_once(":cluster/")
            .map_or(cluster_arn, |(base, _)| base);
        let kind = if self.is_role { "role" } else { "user" };
        format!(
            "{base}:access-entry/{cluster}/{kind}/{}/{}/{id}",
            self.account, self.name
        )
    }
}

/// A caller as seen by STS or in an EKS token: an assumed-role session, a user, or a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The IAM principal whose access entry applies.
    pub principal_arn: String,
    pub account: String,
    /// The session of an assumed role (`{{SessionName}}` in a username).
    pub session: Option<String>,
}

impl Caller {
    /// `arn:p:sts::a:assumed-role/Role/session` is the role `arn:p:iam::a:role/Role`, as EKS maps
    /// it. `arn:p:sts::a:user/name` (what moto answers GetCallerIdentity with for credentials it did
    /// not issue) is taken for the user `arn:p:iam::a:user/name`. Anything else is itself.
    pub(crate) fn from_arn(arn: &str) -> Self {
        if let Some([_, partition, "sts", _, account, resource]) = split_arn(arn) {
            if let Some((role, session)) = resource
                .strip_prefix("assumed-role/")
                .and_then(|rest| rest.split_once('/'))
            {
                return Self {
                    principal_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
                    account: account.to_string(),
                    session: Some(session.to_string()),
                };
            }
            if let Some(user) = resource.strip_prefix("user/") {
                return Self {
                    principal_arn: format!("arn:{partition}:iam::{account}:user/{user}"),
                    account: account.to_string(),
                    session: None,
                };
            }
        }
        let account = split_arn(arn).map(|parts| parts[4].to_string()).unwrap_or_default();
        Self {
            principal_arn: arn.to_string(),
            account,
            session: None,
        }
    }

    /// Fills the templates EKS fills when the caller authenticates.
    pub(crate) fn fill(&self, username: &str) -> String {
        let filled = username.replace("{{AccountID}}", &self.account);
        match &self.session {
            Some(session) => filled.replace("{{SessionName}}", session),
            None => filled,
        }
    }
}

/// The cluster an access-entry ARN belongs to; `None` for any other ARN.
pub(crate) fn cluster_of_entry_arn(arn: &str) -> Option<&str> {
    let [_, _, "eks", _, _, resource] = split_arn(arn)? else {
        return None;
    };
    resource.strip_prefix("access-entry/")?.split('/').next()
}

fn split_arn(arn: &str) -> Option<[&str; 6]> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let parts: [&str; 6] = parts.try_into().ok()?;
    (parts[0] == "arn").then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_iam_roles_and_users_are_principals() {
        let role = Principal::parse("arn:aws:iam::123456789012:role/path/to/Builder").unwrap();
        assert!(role.is_role);
        assert_eq!(role.name, "Builder");
        assert_eq!(
            role.default_username(),
            "arn:aws:sts::123456789012:assumed-role/Builder/{{SessionName}}"
        );
        let user = Principal::parse("arn:aws:iam::123456789012:user/alice").unwrap();
        assert_eq!(user.default_username(), "arn:aws:iam::123456789012:user/alice");
        for bad in [
            "arn:aws:sts::123456789012:assumed-role/Builder/s",
            "arn:aws:iam::123456789012:group/admins",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam:::role/x",
            "role/x",
        ] {
            assert_eq!(Principal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_entry_arn_follows_the_cluster_arn() {
        let role = Principal::parse("arn:aws:iam::111122223333:role/ops/Builder").unwrap();
        let arn = role.entry_arn("arn:aws:eks:eu-west-1:123456789012:cluster/demo", "demo", "id-1");
        assert_eq!(
            arn,
            "arn:aws:eks:eu-west-1:123456789012:access-entry/demo/role/111122223333/Builder/id-1"
        );
        assert_eq!(cluster_of_entry_arn(&arn), Some("demo"));
        assert_eq!(
            cluster_of_entry_arn("arn:aws:eks:eu-west-1:123456789012:cluster/demo"),
            None
        );
    }

    #[test]
    fn callers_map_to_their_iam_principal() {
        let session = Caller::from_arn("arn:aws:sts::123456789012:assumed-role/Builder/run-7");
        assert_eq!(session.principal_arn, "arn:aws:iam::123456789012:role/Builder");
        assert_eq!(
            session.fill("arn:aws:sts::{{AccountID}}:assumed-role/Builder/{{SessionName}}"),
            "arn:aws:sts::123456789012:assumed-role/Builder/run-7"
        );
        let moto = Caller::from_arn("arn:aws:sts::123456789012:user/moto");
        assert_eq!(moto.principal_arn, "arn:aws:iam::123456789012:user/moto");
        let user = Caller::from_arn("arn:aws:iam::123456789012:user/alice");
        assert_eq!(user.principal_arn, "arn:aws:iam::123456789012:user/alice");
        assert_eq!(user.account, "123456789012");
    }
}
