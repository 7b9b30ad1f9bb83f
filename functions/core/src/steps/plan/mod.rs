//! The plan (`dryRun: true`): what a run with this input would create, reuse, adopt or refuse,
//! with names, ids and settings, found by the same look-ups the steps make, changing nothing —
//! the equivalent of `terraform plan`. `prepare` makes it instead of a run: no lease, no access
//! entry, no tag, no DynamoDB item. `prepare`'s role cannot read the cluster's API, so it lists the
//! Kubernetes objects as `ensure`, and [`kubernetes`] decides them from the cluster.

pub mod kubernetes;

use crate::aws;
use crate::clients::AwsClients;
use crate::error::Result;
use crate::input::{Adoptable, ProvisionRequest};
use crate::ledger::{Ledger, NamespaceView};
use crate::ownership::Owner;
pub use crate::resources::Kind;
use crate::resources::access_entry::AccessDecision;
use crate::resources::collector::role;
use crate::resources::{fargate_profile, file_system, kms_key, security_group};
use crate::run::Network;
use crate::settings::Settings;
use crate::steps::doctor::{CheckStatus, DoctorReport, Examination, names};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Does not exist: the run creates it.
    Create,
    /// The workflow's own (or, for a KMS key or access entry, usable as it is): the run uses it,
    /// converging its settings where the step does.
    Reuse,
    /// Exists without the workflow's tags and the input adopts it: used as it is, never deleted.
    Adopt,
    /// The workflow's, and the input no longer asks for it: the run removes it.
    Remove,
    /// The run would fail on it (the reason names the error and the fix).
    Refuse,
    /// A Kubernetes object not read (the workflow cannot read the cluster yet): created unless the
    /// workflow's exists; a foreign one is refused (or, for the namespace, adopted with `adopt`).
    Ensure,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    pub kind: Kind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub action: Action,
    /// The settings the run gives it (or keeps).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub settings: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Planned {
    fn new(kind: Kind, name: impl Into<String>, action: Action) -> Self {
        Self {
            kind,
            name: name.into(),
            id: None,
            action,
            settings: Value::Null,
            reason: None,
        }
    }

    fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    fn settings(mut self, settings: Value) -> Self {
        self.settings = settings;
        self
    }

    fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub cluster_name: String,
    pub namespace: String,
    /// The doctor's first failed check's error name: the run would fail with it before creating
    /// anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would_fail_with: Option<String>,
    /// The input adopts an existing namespace (`adopt: ["namespace"]`).
    #[serde(default)]
    pub adopts_namespace: bool,
    pub resources: Vec<Planned>,
}

impl Plan {
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Planned> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }
}

/// The failed doctor check `name`'s explanation, if it failed.
fn refused(doctor: &DoctorReport, name: &str) -> Option<String> {
    doctor
        .check(name)
        .filter(|c| c.status == CheckStatus::Failed)
        .map(|c| format!("{}: {}", c.error.as_deref().unwrap_or("failed"), c.explanation))
}

/// Plans the run of `request` on a cluster the doctor examined.
pub async fn plan(
    clients: &AwsClients,
    settings: &Settings,
    request: &ProvisionRequest,
    examination: &Examination,
) -> Result<Plan> {
    let owner = Owner::new(&request.cluster_name, &request.namespace);
    let doctor = &examination.report;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let view = examination.ledger.namespace(&request.namespace);
    let mut resources = Vec::new();
    if let Some(principal) = &examination.principal {
        resources.push(access_entry(doctor, principal, examination.access.as_ref()));
    }
    let namespace_reason = if request.adopts(Adoptable::Namespace) {
        "created unless it exists; an existing one is used as it is (adopted)"
    } else {
        "created unless the workflow's exists; one the workflow did not create is NamespaceConflict"
    };
    // The run's id is the execution's name, which a plan cannot know.
    let mut labels = owner.labels("", &settings.deployment);
    labels.remove(crate::ownership::RUN_ID_KEY);
    resources.push(
        Planned::new(Kind::Namespace, &request.namespace, Action::Ensure)
            .settings(json!({"labels": labels}))
            .reason(namespace_reason),
    );
    resources.push(fargate_profile(clients, &view, &owner, request, examination.network.as_ref(), doctor).await?);
    if let Some(key) = kms_key(clients, &ledger, request).await? {
        resources.push(key);
    }
    let file_system = file_system::find(&clients.efs, &view, &owner).await?;
    resources.push(file_system_item(
        &owner,
        request,
        file_system.file_system.as_ref(),
        doctor,
    ));
    if let Some(network) = &examination.network {
        resources.push(security_group_item(clients, &view, &owner, network, doctor).await?);
        let existing = match file_system.ours() {
            Some(fs) => aws::efs::mount_targets(&clients.efs, fs.file_system_id()).await?,
            None => Vec::new(),
        };
        for subnet in &network.mount_target_subnets {
            let item = Planned::new(Kind::MountTarget, &subnet.subnet_id, Action::Create).settings(json!({
                "subnetId": subnet.subnet_id,
                "availabilityZone": subnet.availability_zone,
            }));
            resources.push(match existing.iter().find(|mt| mt.subnet_id == subnet.subnet_id) {
                Some(mt) => Planned {
                    action: Action::Reuse,
                    ..item.id(&mt.mount_target_id)
                },
                None => item,
            });
        }
    }
    let region = clients.config.region().map(|r| r.to_string()).unwrap_or_default();
    let role_name = role::role_name(ledger.deployment(), &region, &owner.cluster);
    if request.monitoring.container_insights {
        resources.push(collector_role(clients, &role_name, doctor).await?);
    }
    resources.extend(earlier_collector_roles(&view));
    resources.extend(kubernetes::from_input(request, settings));
    Ok(Plan {
        cluster_name: request.cluster_name.clone(),
        namespace: request.namespace.clone(),
        would_fail_with: doctor.failed().next().and_then(|c| c.error.clone()),
        adopts_namespace: request.adopts(Adoptable::Namespace),
        resources,
    })
}

/// The cluster's collector role: refused when the doctor found no OIDC provider or a look-alike.
async fn collector_role(clients: &AwsClients, name: &str, doctor: &DoctorReport) -> Result<Planned> {
    use crate::resources::collector::{NAMESPACE, SERVICE_ACCOUNT};
    let item = Planned::new(Kind::CollectorRole, name, Action::Create).settings(json!({
        "path": role::PATH,
        "trust": format!("system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"),
    }));
    if let Some(reason) = refused(doctor, names::CONTAINER_INSIGHTS) {
        return Ok(Planned {
            action: Action::Refuse,
            ..item.reason(reason)
        });
    }
    Ok(match aws::iam::role_named(&clients.iam, name).await? {
        Some(role) => Planned {
            action: Action::Reuse,
            ..item.id(role.arn())
        },
        None => item,
    })
}

/// A collector role of the namespace that an earlier version recorded: every run removes it, with
/// the collector in the namespace (the cluster's collector replaces it).
fn earlier_collector_roles(view: &NamespaceView) -> impl Iterator<Item = Planned> + '_ {
    view.of_kind(Kind::CollectorRole).map(|record| {
        let item = Planned::new(Kind::CollectorRole, &record.key, Action::Remove).reason(
            "an earlier version's Container Insights collector in the namespace: the run removes it and this role (the cluster's collector replaces it)",
        );
        match &record.resource_id {
            Some(arn) => item.id(arn),
            None => item,
        }
    })
}

fn access_entry(doctor: &DoctorReport, principal: &str, decision: Option<&AccessDecision>) -> Planned {
    let item = Planned::new(Kind::AccessEntry, principal, Action::Create)
        .settings(json!({"kubernetesGroups": [crate::resources::rbac::GROUP], "accessPolicies": []}));
    match decision {
        Some(AccessDecision::Create) => item,
        Some(AccessDecision::Ours { .. }) => Planned {
            action: Action::Reuse,
            ..item
        },
        Some(AccessDecision::Existing) => Planned {
            action: Action::Reuse,
            settings: Value::Null,
            ..item.reason("an access entry the workflow did not create, with enough rights: used unchanged")
        },
        Some(AccessDecision::Skip) | None => {
            let reason = refused(doctor, names::ACCESS_ENTRY)
                .or_else(|| refused(doctor, names::AUTHENTICATION_MODE))
                .unwrap_or_default();
            Planned {
                action: Action::Refuse,
                ..item.reason(reason)
            }
        }
    }
}

async fn fargate_profile(
    clients: &AwsClients,
    view: &NamespaceView,
    owner: &Owner,
    request: &ProvisionRequest,
    network: Option<&Network>,
    doctor: &DoctorReport,
) -> Result<Planned> {
    let name = owner.fargate_profile_name();
    let subnets: Vec<&str> = network
        .map(|n| n.private_subnets.iter().map(|s| s.subnet_id.as_str()).collect())
        .unwrap_or_default();
    let item = Planned::new(Kind::FargateProfile, &name, Action::Create).settings(json!({
        "podExecutionRoleArn": request.pod_execution_role_arn,
        "subnets": subnets,
        "selectors": [{"namespace": request.namespace}],
    }));
    let found = fargate_profile::find(&clients.eks, view, owner).await?;
    let Some(profile) = &found.profile else {
        return Ok(item);
    };
    let item = item.id(profile.fargate_profile_arn().unwrap_or_default());
    Ok(if let Some(reason) = refused(doctor, names::FARGATE_PROFILE) {
        Planned {
            action: Action::Refuse,
            ..item.reason(reason)
        }
    } else if found.is_ours() {
        Planned {
            action: Action::Reuse,
            ..item
        }
    } else {
        Planned {
            action: Action::Adopt,
            ..item.reason("not recorded as created by this deployment; `adopt` lists fargateProfile")
        }
    })
}

/// The customer key behind the input's alias; `None` for the AWS-managed key or no encryption.
async fn kms_key(clients: &AwsClients, ledger: &Ledger, request: &ProvisionRequest) -> Result<Option<Planned>> {
    let encryption = &request.encryption;
    let (true, Some(alias)) = (encryption.at_rest, encryption.kms_key_alias.as_deref()) else {
        return Ok(None);
    };
    let item = Planned::new(Kind::KmsKey, alias, Action::Create)
        .settings(json!({"alias": alias, "keySpec": "SYMMETRIC_DEFAULT", "rotation": true}));
    let found = kms_key::find(&clients.kms, ledger, alias).await?;
    let Some(existing) = &found.key else {
        return Ok(Some(item));
    };
    let item = Planned {
        settings: Value::Null,
        ..item.id(existing.arn().unwrap_or(existing.key_id()))
    };
    Ok(Some(match kms_key::decide(&found) {
        Ok(kms_key::Decision::Use(key)) if key.created_by_workflow => Planned {
            action: Action::Reuse,
            ..item
        },
        Ok(_) => Planned {
            action: Action::Reuse,
            ..item.reason("a key the workflow did not create (its ledger does not record it): used, never deleted")
        },
        Err(e) => Planned {
            action: Action::Refuse,
            ..item.reason(format!("{}: {e}", e.error_type()))
        },
    }))
}

fn file_system_item(
    owner: &Owner,
    request: &ProvisionRequest,
    existing: Option<&aws_sdk_efs::types::FileSystemDescription>,
    doctor: &DoctorReport,
) -> Planned {
    let encryption = &request.encryption;
    let kms_key = match (encryption.at_rest, encryption.kms_key_alias.as_deref()) {
        (false, _) => Value::Null,
        (true, Some(alias)) => json!(alias),
        (true, None) => json!("aws/elasticfilesystem"),
    };
    let item = Planned::new(Kind::FileSystem, owner.creation_token(), Action::Create).settings(json!({
        "creationToken": owner.creation_token(),
        "encrypted": encryption.at_rest,
        "kmsKey": kms_key,
        "options": request.file_system,
    }));
    let Some(fs) = existing else { return item };
    let item = item.id(fs.file_system_id());
    match refused(doctor, names::FILE_SYSTEM) {
        Some(reason) => Planned {
            action: Action::Refuse,
            ..item.reason(reason)
        },
        None => Planned {
            action: Action::Reuse,
            ..item.reason("the workflow's; its throughput, lifecycle and backup settings converge to the options")
        },
    }
}

async fn security_group_item(
    clients: &AwsClients,
    view: &NamespaceView,
    owner: &Owner,
    network: &Network,
    doctor: &DoctorReport,
) -> Result<Planned> {
    let cidrs: Vec<&str> = network.private_subnets.iter().map(|s| s.cidr_block.as_str()).collect();
    let item = Planned::new(Kind::SecurityGroup, owner.security_group_name(), Action::Create).settings(json!({
        "vpcId": network.vpc_id,
        "ingress": {"protocol": "tcp", "port": 2049, "cidrs": cidrs},
    }));
    let found = security_group::find(&clients.ec2, view, owner, &network.vpc_id).await?;
    let Some(group) = &found.group else {
        return Ok(item);
    };
    let item = item.id(group.group_id().unwrap_or_default());
    Ok(match refused(doctor, names::SECURITY_GROUP) {
        Some(reason) => Planned {
            action: Action::Refuse,
            ..item.reason(reason)
        },
        None => Planned {
            action: Action::Reuse,
            ..item
        },
    })
}
