//! The Kubernetes side of a [`World`]: the steps of epic01 (namespace), epic03 (storage), epic04
//! (PoC app), epic05 (validation) and the `kubernetes` cleanup, against the fake API server, with
//! their status loops run as the state machine runs them.

use std::time::Duration;

use efs_fargate_core::Result;
use efs_fargate_core::aws;
use efs_fargate_core::k8s::Kube;
use efs_fargate_core::ledger::Ledger;
use efs_fargate_core::poll::Poll;
use efs_fargate_core::resources::namespace::{self, NamespaceOutput};
use efs_fargate_core::resources::rbac::RbacState;
use efs_fargate_core::resources::{Kind, Recorder, access_point, kube_object};
use efs_fargate_core::run::Run;
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupProgress};
use efs_fargate_core::steps::k8s::KubeStepEvent;
use efs_fargate_core::steps::k8s::poc_app::{self, PocAppAction, PocAppOutput};
use efs_fargate_core::steps::k8s::validate::{self, ValidateAction, ValidateOutput};
use efs_fargate_core::steps::storage_class::{
    self, StorageAction, StorageClassEvent, StorageClassOutput, StorageOutput,
};
use serde_json::{Value, json};

use super::World;
use crate::CLUSTER;
use crate::CleanupScope;
use crate::events::kube_step;

impl World {
    /// A client of [`CLUSTER`]'s API as the workflow's identity, through the world's settings.
    pub async fn kube(&self) -> Kube {
        Kube::connect(&self.clients, &self.settings, CLUSTER)
            .await
            .expect("connect to the fake API server")
    }

    /// epic03: the CSI driver and the storage class for `run` on `file_system_id`.
    pub async fn storage_created(&self, run: &Run, file_system_id: &str) -> StorageOutput {
        let access_point = self.access_point_id(run, file_system_id).await;
        let event = kube_step(StorageAction::Create, run, file_system_id, &access_point, 0);
        let event = StorageClassEvent::Storage(Box::new(event));
        match storage_class::handle(&self.clients, &self.settings, event)
            .await
            .expect("storage-class create")
        {
            StorageClassOutput::Storage(poll) => poll.output,
            StorageClassOutput::Plan(_) => unreachable!("a create event gets the storage step's output"),
        }
    }

    /// The namespace's access point on `file_system_id`, as the `efs` step finds or creates it
    /// (moto does not check the file system, so the tests' made-up ids get one too).
    pub async fn access_point_id(&self, run: &Run, file_system_id: &str) -> String {
        let ledger = self.ledger();
        let (owner, creator) = (run.owner(), run.creator());
        let recorder = Recorder {
            ledger: &ledger,
            owner: &owner,
            creator: &creator,
        };
        let view = ledger
            .namespace(&owner.cluster, &owner.namespace)
            .await
            .expect("ledger");
        let points = aws::efs::access_points(&self.clients.efs, file_system_id)
            .await
            .expect("access points");
        let user = run.request.posix_user;
        let decision = access_point::decide(&view, &owner, &points, file_system_id, user).expect("access point");
        access_point::apply(
            &self.clients.efs,
            recorder,
            decision,
            file_system_id,
            user,
            run.tags("ap"),
        )
        .await
        .expect("access point")
        .access_point_id
    }

    /// The world's ownership ledger.
    pub fn ledger(&self) -> Ledger {
        Ledger::of(&self.clients.dynamodb, &self.settings).expect("the world has a ledger table")
    }

    /// epic01's namespace for `run`, through `kube`, recorded in the world's ledger.
    pub async fn ensure_namespace_with(&self, kube: &Kube, run: &Run) -> Result<NamespaceOutput> {
        let ledger = self.ledger();
        let (owner, creator) = (run.owner(), run.creator());
        let recorder = Recorder {
            ledger: &ledger,
            owner: &owner,
            creator: &creator,
        };
        namespace::ensure_namespace(kube, recorder, run, RbacState::Current).await
    }

    /// Applies `object` as `run`'s own, recorded in the ledger as the steps record what they make:
    /// for tests that need an object of ours in a state the steps would not leave it in.
    pub async fn apply_recorded<K>(&self, run: &Run, kind: Kind, api: &kube::Api<K>, object: &K) -> K
    where
        K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
    {
        let ledger = self.ledger();
        let (owner, creator) = (run.owner(), run.creator());
        let recorder = Recorder {
            ledger: &ledger,
            owner: &owner,
            creator: &creator,
        };
        let kube = self.kube().await;
        kube_object::apply(&kube, recorder, recorder.namespace(), kind, api, object)
            .await
            .expect("apply a recorded object")
    }

    /// [`World::ensure_namespace_with`] through the world's own client.
    pub async fn ensure_namespace(&self, run: &Run) -> Result<NamespaceOutput> {
        self.ensure_namespace_with(&self.kube().await, run).await
    }

    /// One call of the PoC app step.
    pub async fn poc_app(&self, event: KubeStepEvent<PocAppAction>) -> Result<Poll<PocAppOutput>> {
        poc_app::handle(&self.clients, &self.settings, event).await
    }

    /// epic04: `converge` until both pods run.
    pub async fn poc_app_running(&self, run: &Run, file_system_id: &str) -> Poll<PocAppOutput> {
        let access_point = self.access_point_id(run, file_system_id).await;
        until_ready("poc-app", 200, async |attempt| {
            self.poc_app(kube_step(
                PocAppAction::Converge,
                run,
                file_system_id,
                &access_point,
                attempt,
            ))
            .await
        })
        .await
    }

    /// One call of the validation step.
    pub async fn validate(&self, event: KubeStepEvent<ValidateAction>) -> Result<Poll<ValidateOutput>> {
        validate::handle(&self.clients, &self.settings, event).await
    }

    /// One validation action, called again until ready.
    pub async fn validated(&self, run: &Run, file_system_id: &str, action: ValidateAction) -> Poll<ValidateOutput> {
        let access_point = self.access_point_id(run, file_system_id).await;
        until_ready(&format!("validate {action:?}"), 200, async |attempt| {
            self.validate(kube_step(action, run, file_system_id, &access_point, attempt))
                .await
        })
        .await
    }

    /// Everything up to a running PoC app in `namespace`: prepare, the Fargate profile and EFS
    /// (moto), the namespace, the storage objects and the app. Returns the run and its file
    /// system id.
    pub async fn app_running(&self, namespace: &str) -> (Run, String) {
        self.app_running_for(json!({"clusterName": CLUSTER, "namespace": namespace}))
            .await
    }

    /// [`World::app_running`] for any execution input (e.g. one that adopts an existing namespace).
    pub async fn app_running_for(&self, input: Value) -> (Run, String) {
        let run = self.prepared(input).await;
        self.ensure_namespace(&run).await.expect("namespace");
        let (_, storage) = self.provision(&run).await;
        self.storage_created(&run, &storage.file_system_id).await;
        self.poc_app_running(&run, &storage.file_system_id).await;
        self.end_run(&run).await;
        (run, storage.file_system_id)
    }

    /// Ends `run`'s part in the ledger, as the state machine's last task does (it is no longer in
    /// flight, so a cleanup of the cluster's last other namespace does not wait for it).
    pub async fn end_run(&self, run: &Run) {
        let owner = run.owner();
        self.ledger()
            .end_run(&owner.cluster, &owner.namespace, &run.run_id, None)
            .await
            .expect("end the run in the ledger");
    }

    /// The `kubernetes` cleanup action for `namespace` on [`CLUSTER`], called until done.
    pub async fn clean_up_kubernetes(&self, namespace: &str) -> Vec<CleanupProgress> {
        self.clean_up_with(namespace, &[CleanupAction::Kubernetes], CleanupScope::default(), 100)
            .await
            .into_iter()
            .map(|(_, progress)| progress)
            .collect()
    }
}

/// Calls a poll action until it is ready, passing the last `attempt` as the state machine does;
/// polls every 100 ms (the fake's time runs fast) and gives up after `max` attempts.
async fn until_ready<T: std::fmt::Debug>(
    what: &str,
    max: u32,
    mut step: impl AsyncFnMut(u32) -> Result<Poll<T>>,
) -> Poll<T> {
    let mut attempt = 0;
    loop {
        let poll = step(attempt).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        if poll.ready {
            return poll;
        }
        assert!(
            poll.attempt < max,
            "{what} not ready after {max} polls: {}",
            poll.detail
        );
        attempt = poll.attempt;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
