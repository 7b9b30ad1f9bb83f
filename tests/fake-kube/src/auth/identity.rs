//! From the ARN STS returns for a caller to the Kubernetes user EKS makes of it: the principal an
//! access entry is looked up by (an assumed-role session counts as its role) and the username
//! templates of the entry filled in.

use crate::auth::access::ResolvedAccess;

/// Every authenticated user is in this group, which is what lets bindings grant "any caller".
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

/// An IAM caller, as `GetCallerIdentity` would describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// What STS returns: `arn:aws:sts::111122223333:assumed-role/Role/session`, or a user ARN.
    pub arn: String,
    pub access_key_id: String,
}

/// The IAM principal an access entry is created for: an assumed-role session
/// (`arn:<partition>:sts::<account>:assumed-role/<Role>/<session>`) becomes
/// `arn:<partition>:iam::<account>:role/<Role>`; anything else is its own principal.
pub fn principal_of(caller_arn: &str) -> String {
    match assumed_role(caller_arn) {
        Some(AssumedRole {
            partition,
            account,
            role,
            ..
        }) => format!("arn:{partition}:iam::{account}:role/{role}"),
        None => caller_arn.to_string(),
    }
}

impl CallerIdentity {
    /// The Kubernetes username of `access`, its templates filled in, or the EKS default.
    pub fn username(&self, access: &ResolvedAccess) -> String {
        let assumed = assumed_role(&self.arn);
        let template = match (&*access.username, &assumed) {
            ("", Some(role)) => format!(
                "arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}",
                role.partition, role.account, role.role
            ),
            ("", None) => self.arn.clone(),
            (template, _) => template.to_string(),
        };
        let session = assumed.as_ref().map(|role| role.session).unwrap_or_default();
        template
            .replace("{{AccountID}}", self.account())
            .replace("{{SessionNameRaw}}", session)
            .replace("{{SessionName}}", &session.replace('@', "-"))
            .replace("{{AccessKeyID}}", &self.access_key_id)
    }

    fn account(&self) -> &str {
        self.arn.split(':').nth(4).unwrap_or_default()
    }
}

fn assumed_role(arn: &str) -> Option<AssumedRole<'_>> {
    let mut fields = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sts"), Some(_region), Some(account), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    Some(AssumedRole {
        partition,
        account,
        role,
        session,
    })
}

/// `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`, taken apart.
struct AssumedRole<'a> {
    partition: &'a str,
    account: &'a str,
    role: &'a str,
    session: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(arn: &str) -> CallerIdentity {
        CallerIdentity {
            arn: arn.into(),
            access_key_id: "AKID".into(),
        }
    }

    #[test]
    fn assumed_role_sessions_are_looked_up_by_their_role() {
        let session = caller("arn:aws:sts::111122223333:assumed-role/Workflow/lambda@x");
        assert_eq!(principal_of(&session.arn), "arn:aws:iam::111122223333:role/Workflow");
        let user = caller("arn:aws:iam::111122223333:user/alice");
        assert_eq!(principal_of(&user.arn), "arn:aws:iam::111122223333:user/alice");
        let china = caller("arn:aws-cn:sts::111122223333:assumed-role/R/s");
        assert_eq!(principal_of(&china.arn), "arn:aws-cn:iam::111122223333:role/R");
    }

    #[test]
    fn usernames_default_like_eks_and_fill_templates() {
        let session = caller("arn:aws:sts::111122223333:assumed-role/Workflow/lambda@x");
        let default = ResolvedAccess::default();
        assert_eq!(
            session.username(&default),
            "arn:aws:sts::111122223333:assumed-role/Workflow/lambda-x"
        );
        let templated = ResolvedAccess {
            username: "wf:{{AccountID}}:{{SessionNameRaw}}:{{AccessKeyID}}".into(),
            ..ResolvedAccess::default()
        };
        assert_eq!(session.username(&templated), "wf:111122223333:lambda@x:AKID");
        let user = caller("arn:aws:iam::111122223333:user/alice");
        assert_eq!(user.username(&default), "arn:aws:iam::111122223333:user/alice");
    }
}
