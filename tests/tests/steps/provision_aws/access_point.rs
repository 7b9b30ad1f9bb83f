//! The namespace's access point and the file system policy on moto: created with the input's
//! POSIX user and `/<namespace>`, the policy names exactly that access point, a re-run converges
//! (no second access point, the policy text unchanged, a hand-edited policy restored) and an
//! access point with another POSIX user is an `AccessPointConflict`.

use aws_sdk_efs::types::AccessPointDescription;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY};
use efs_fargate_core::resources::file_system::policy;
use efs_fargate_core::steps::efs;
use efs_fargate_core::steps::prepare::PrepareOutput;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, NAMESPACE, OrPanic, World, error_name};

/// `prepare` (which decides on the file system before anything is created), then the `efs` step.
async fn converge(world: &World, input: Value) -> efs_fargate_core::Result<efs::EfsOutput> {
    let PrepareOutput::Ready { run } = world.try_prepare(input).await? else {
        panic!("prepare did not finish")
    };
    efs::converge(&world.clients, &world.settings, &run, 0)
        .await
        .map(|poll| poll.output)
}

async fn access_points(world: &World, file_system_id: &str) -> Vec<AccessPointDescription> {
    world
        .clients
        .efs
        .describe_access_points()
        .file_system_id(file_system_id)
        .send()
        .await
        .or_panic("efs describe access points")
        .access_points()
        .to_vec()
}

async fn policy_text(world: &World, file_system_id: &str) -> String {
    world
        .clients
        .efs
        .describe_file_system_policy()
        .file_system_id(file_system_id)
        .send()
        .await
        .or_panic("efs describe file system policy")
        .policy()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_access_point_enforces_the_posix_user_on_the_namespace_directory_and_is_the_only_door() {
    let world = World::new().await;
    let created = converge(&world, json!({"clusterName": CLUSTER, "posixUser": {"uid": 2001}}))
        .await
        .unwrap();
    let ap = created.access_point.clone().expect("access point in the output");
    assert_eq!((ap.uid, ap.gid), (2001, 1000));
    assert_eq!(ap.root_directory, format!("/{NAMESPACE}"));
    let described = access_points(&world, &created.file_system_id).await;
    assert_eq!(described.len(), 1);
    let described = &described[0];
    assert_eq!(described.access_point_id(), Some(ap.access_point_id.as_str()));
    let posix = described.posix_user().unwrap();
    assert_eq!((posix.uid(), posix.gid()), (2001, 1000));
    let root = described.root_directory().unwrap();
    assert_eq!(root.path(), Some(format!("/{NAMESPACE}").as_str()));
    let creation = root.creation_info().unwrap();
    assert_eq!(
        (creation.owner_uid(), creation.owner_gid(), creation.permissions()),
        (2001, 1000, "750")
    );
    let tags: Vec<(&str, &str)> = described.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert!(tags.contains(&(MANAGED_BY_KEY, MANAGED_BY_VALUE)), "{tags:?}");
    assert!(tags.contains(&(NAMESPACE_KEY, NAMESPACE)), "{tags:?}");

    let policy: Value = serde_json::from_str(&policy_text(&world, &created.file_system_id).await).unwrap();
    assert_eq!(
        policy,
        policy::document(&created.file_system_arn, std::slice::from_ref(&ap.access_point_arn))
    );
    let statements = policy["Statement"].as_array().unwrap();
    let sids: Vec<&str> = statements.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
    assert_eq!(
        sids,
        [
            "DenyUnencryptedTransport",
            "DenyOutsideMountTargets",
            "DenyOutsideNamespaceAccessPoints",
            "MountAndWriteThroughNamespaceAccessPoints"
        ]
    );
    assert_eq!(
        statements[0]["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
    assert_eq!(
        statements[3]["Action"],
        json!(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"])
    );
    assert_eq!(
        statements[3]["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"],
        json!([ap.access_point_arn])
    );
    assert!(
        statements
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .all(|s| !s["Action"].to_string().contains("ClientRootAccess"))
    );
}

#[tokio::test]
async fn a_rerun_converges_without_a_second_access_point_and_restores_an_edited_policy() {
    let world = World::new().await;
    let input = json!({"clusterName": CLUSTER});
    let first = converge(&world, input.clone()).await.unwrap();
    let text = policy_text(&world, &first.file_system_id).await;
    let second = converge(&world, input.clone()).await.unwrap();
    assert_eq!(second.access_point, first.access_point);
    assert_eq!(access_points(&world, &first.file_system_id).await.len(), 1);
    assert_eq!(
        policy_text(&world, &first.file_system_id).await,
        text,
        "an equal policy is not rewritten"
    );

    world
        .clients
        .efs
        .put_file_system_policy()
        .file_system_id(&first.file_system_id)
        .policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .or_panic("efs put policy");
    converge(&world, input).await.unwrap();
    assert_eq!(policy_text(&world, &first.file_system_id).await, text);
}

#[tokio::test]
async fn another_posix_user_for_an_existing_access_point_is_a_conflict() {
    let world = World::new().await;
    let first = converge(&world, json!({"clusterName": CLUSTER})).await.unwrap();
    let text = policy_text(&world, &first.file_system_id).await;
    let (name, err) = error_name(
        converge(
            &world,
            json!({"clusterName": CLUSTER, "posixUser": {"uid": 1000, "gid": 2000}}),
        )
        .await,
    );
    assert_eq!(name, "AccessPointConflict", "{err}");
    assert!(err.to_string().contains("gid 2000"), "{err}");
    assert_eq!(access_points(&world, &first.file_system_id).await.len(), 1);
    assert_eq!(policy_text(&world, &first.file_system_id).await, text);
}
