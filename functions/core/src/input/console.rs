//! The console (StartExecution) input.

use super::{
    Adoptable, DEFAULT_NAMESPACE, Encryption, FileSystemOptions, MonitoringOptions, OnFailure, PosixUser,
    ProvisionRequest, Trigger,
};
use crate::error::{Result, WorkflowError};
use crate::rules;
use crate::settings::Settings;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsoleInput {
    cluster_name: Option<String>,
    namespace: Option<String>,
    pod_execution_role_arn: Option<String>,
    encryption: Option<EncryptionInput>,
    file_system: Option<FileSystemOptions>,
    posix_user: Option<PosixUser>,
    monitoring: Option<MonitoringOptions>,
    ttl: Option<String>,
    deploy_poc_app: Option<bool>,
    on_failure: Option<OnFailure>,
    adopt: Option<Vec<Adoptable>>,
    dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EncryptionInput {
    at_rest: Option<bool>,
    kms_key_alias: Option<String>,
    in_transit: Option<bool>,
}

/// A run, or with `dryRun: true` its plan.
pub(super) fn parse(input: &Value, settings: &Settings) -> Result<Trigger> {
    if !input.is_object() {
        return Err(WorkflowError::invalid(
            "(input)",
            "must be a JSON object such as {\"clusterName\": \"demo\"}",
        ));
    }
    let raw: ConsoleInput = serde_path_to_error::deserialize(input).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "(input)".to_string() } else { path };
        WorkflowError::invalid(field, e.into_inner().to_string())
    })?;

    let cluster_name = raw
        .cluster_name
        .ok_or_else(|| WorkflowError::invalid("clusterName", "is required"))?;
    rules::cluster_name("clusterName", &cluster_name)?;
    let namespace = raw.namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    rules::namespace("namespace", &namespace)?;
    let pod_execution_role_arn = pod_execution_role(raw.pod_execution_role_arn, settings)?;
    let encryption = encryption(raw.encryption)?;
    let file_system = raw.file_system.unwrap_or_default();
    file_system.validate("fileSystem")?;
    let monitoring = raw.monitoring.unwrap_or_default();
    if monitoring.container_insights {
        settings.insights.boundary()?;
    }
    let posix_user = raw.posix_user.unwrap_or_default();
    posix_user.validate("posixUser")?;
    if let Some(ttl) = &raw.ttl {
        rules::ttl_seconds("ttl", ttl)?;
    }
    let request = Box::new(ProvisionRequest {
        cluster_name,
        namespace,
        pod_execution_role_arn,
        encryption,
        file_system,
        posix_user,
        monitoring,
        ttl: raw.ttl,
        deploy_poc_app: raw.deploy_poc_app.unwrap_or(true),
        on_failure: raw.on_failure.unwrap_or_default(),
        adopt: {
            let mut adopt = raw.adopt.unwrap_or_default();
            adopt.sort();
            adopt.dedup();
            adopt
        },
    });
    Ok(if raw.dry_run == Some(true) {
        Trigger::Plan(request)
    } else {
        Trigger::Provision(request)
    })
}

pub(super) fn pod_execution_role(from_input: Option<String>, settings: &Settings) -> Result<String> {
    match from_input {
        Some(arn) => rules::role_arn("podExecutionRoleArn", &arn).map(|()| arn),
        None => settings.pod_execution_role_arn.clone().ok_or_else(|| {
            WorkflowError::invalid(
                "podExecutionRoleArn",
                "is required when the deployment sets no POD_EXECUTION_ROLE_ARN",
            )
        }),
    }
}

fn encryption(raw: Option<EncryptionInput>) -> Result<Encryption> {
    let Some(raw) = raw else {
        return Ok(Encryption::default());
    };
    let at_rest = raw.at_rest.unwrap_or(true);
    if let Some(alias) = &raw.kms_key_alias {
        rules::kms_alias("encryption.kmsKeyAlias", alias)?;
        if !at_rest {
            return Err(WorkflowError::invalid(
                "encryption.kmsKeyAlias",
                "must be omitted when encryption.atRest is false",
            ));
        }
    }
    // efs-utils refuses an access-point mount without TLS, and every pod mounts through the
    // namespace's access point.
    if raw.in_transit == Some(false) {
        return Err(WorkflowError::invalid(
            "encryption.inTransit",
            "must be true: pods mount the file system through the namespace's EFS access point, which EFS only mounts with TLS",
        ));
    }
    Ok(Encryption {
        at_rest,
        kms_key_alias: raw.kms_key_alias,
        in_transit: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> Settings {
        Settings {
            pod_execution_role_arn: Some("arn:aws:iam::123456789012:role/pods".into()),
            ..Settings::default()
        }
    }

    /// The run an input asks for (not a dry run).
    fn parse(input: &Value, settings: &Settings) -> Result<ProvisionRequest> {
        match super::parse(input, settings)? {
            Trigger::Provision(request) => Ok(*request),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn dry_run_asks_for_the_plan_of_the_same_request() {
        let input = json!({"clusterName": "demo", "namespace": "team-a", "dryRun": true});
        let Trigger::Plan(planned) = super::parse(&input, &settings()).unwrap() else {
            panic!("a plan")
        };
        assert_eq!(
            *planned,
            parse(&json!({"clusterName": "demo", "namespace": "team-a"}), &settings()).unwrap()
        );
        let run = super::parse(&json!({"clusterName": "demo", "dryRun": false}), &settings()).unwrap();
        assert!(matches!(run, Trigger::Provision(_)));
        let err = super::parse(&json!({"clusterName": "demo", "dryRun": "yes"}), &settings()).unwrap_err();
        assert!(err.to_string().contains("dryRun"), "{err}");
    }

    #[test]
    fn minimal_input_gets_the_defaults() {
        let request = parse(&json!({"clusterName": "demo"}), &settings()).unwrap();
        assert_eq!(request.namespace, DEFAULT_NAMESPACE);
        assert_eq!(request.pod_execution_role_arn, "arn:aws:iam::123456789012:role/pods");
        assert_eq!(request.encryption, Encryption::default());
        assert!(request.deploy_poc_app);
        assert_eq!(request.on_failure, OnFailure::Rollback);
        assert_eq!(request.ttl, None);
    }

    #[test]
    fn type_errors_name_the_field() {
        let err = parse(
            &json!({"clusterName": "demo", "encryption": {"inTransit": "yes"}}),
            &settings(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "encryption.inTransit"),
            "{err}"
        );
        let err = parse(&json!({"clusterName": "demo", "colour": "blue"}), &settings()).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn adoption_is_explicit_and_limited() {
        let request = parse(
            &json!({"clusterName": "demo", "adopt": ["namespace", "fargateProfile", "namespace"]}),
            &settings(),
        )
        .unwrap();
        assert_eq!(request.adopt, vec![Adoptable::Namespace, Adoptable::FargateProfile]);
        assert!(request.adopts(Adoptable::Namespace));
        let err = parse(&json!({"clusterName": "demo", "adopt": ["fileSystem"]}), &settings()).unwrap_err();
        assert!(
            matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "adopt[0]"),
            "{err}"
        );
        assert!(
            !parse(&json!({"clusterName": "demo"}), &settings())
                .unwrap()
                .adopts(Adoptable::Namespace)
        );
    }
}
