//! `World`: everything an integration test runs the workflow's steps against, set up in one place.
//! The moto server (exclusive and freshly reset), the seeded network with the EKS cluster
//! [`CLUSTER`], optionally the fake Kubernetes API server, clients straight to moto and the local
//! stack's settings; and the steps as the state machines run them, on that world.
//!
//! ```ignore
//! let world = World::new().await;                     // moto + network + cluster `demo`
//! let run = world.run("team-a").await;                 // prepare
//! let (profile, storage) = world.provision(&run).await; // Fargate profile + EFS, until ready
//! let before = world.inventory().await;
//! ```

mod kube;

use efs_fargate_core::Result;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::run::Run;
use efs_fargate_core::settings::{KubeApiOverride, Settings};
use efs_fargate_core::steps::cleanup::{CleanupAction, CleanupProgress, cleanup};
use efs_fargate_core::steps::efs::{self, EfsOutput};
use efs_fargate_core::steps::fargate::{self, ProfileOutput};
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use fake_kube_apiserver::FakeKube;
use serde_json::{Value, json};

use crate::check::OrPanic;
use crate::events::{cleanup_event, prepare_event};
use crate::{
    CLUSTER, Foreign, Inventory, LEASE_TABLE, MotoGuard, SeededCluster, create_lease_table, inventory, moto,
    seed_foreign_resources, seed_network, settings,
};

/// The AWS cleanup actions, in the cleanup state machine's order (everything after `kubernetes`).
pub const CLEANUP_ORDER: &[CleanupAction] = CleanupAction::ALL.split_at(1).1;

/// What a cleanup may remove: a manual cleanup (`None`, `None`), a rollback (its run, and its
/// generation when known) or a TTL cleanup (`None`, the expired generation).
#[derive(Clone, Copy, Debug, Default)]
pub struct CleanupScope<'a> {
    pub run_id: Option<&'a str>,
    pub generation: Option<u64>,
}

pub struct World {
    /// Every client of the workflow, straight to moto.
    pub clients: AwsClients,
    /// The local stack's [`settings`], pointed at the fake API server when the world has one.
    /// A test that needs others changes them here.
    pub settings: Settings,
    network: Option<SeededCluster>,
    fake: Option<FakeKube>,
    /// Declared last so that it is dropped last: the fake API server asks moto about Fargate
    /// profiles until it is gone, and the next test resets moto once the guard is released.
    pub moto: MotoGuard,
}

impl World {
    /// moto alone (with the ownership ledger, as every deployment has): no network, no cluster.
    pub async fn empty() -> Self {
        let moto = moto().await;
        let clients = moto.clients();
        Self {
            clients,
            settings: settings(),
            network: None,
            fake: None,
            moto,
        }
    }

    /// moto with the seeded network and the EKS cluster [`CLUSTER`].
    pub async fn new() -> Self {
        let mut world = Self::empty().await;
        world.network = Some(seed_network(&world.clients, CLUSTER).await);
        world
    }

    /// [`World::new`] and a fake API server for [`CLUSTER`] (see [`World::start_fake_kube`]),
    /// which the settings point at.
    pub async fn with_kube() -> Self {
        Self::with_kube_config(|config| config).await
    }

    /// [`World::with_kube`], with the fake API server's configuration changed by `configure`.
    pub async fn with_kube_config(
        configure: impl FnOnce(fake_kube_apiserver::Config) -> fake_kube_apiserver::Config,
    ) -> Self {
        let mut world = Self::new().await;
        let fake = world.start_fake_kube(configure).await;
        world.settings = world.settings_for(&fake);
        world.fake = Some(fake);
        world
    }

    /// The lease table as `template.yaml` declares it, named in the settings.
    pub async fn with_lease_table(mut self) -> Self {
        create_lease_table(&self.clients.dynamodb, LEASE_TABLE).await;
        self.settings.lease_table_name = Some(LEASE_TABLE.into());
        self
    }

    /// The seeded network and cluster.
    #[track_caller]
    pub fn network(&self) -> &SeededCluster {
        self.network.as_ref().expect("World::empty has no network")
    }

    /// The fake API server the settings point at.
    #[track_caller]
    pub fn fake(&self) -> &FakeKube {
        self.fake.as_ref().expect("only World::with_kube has a fake API server")
    }

    /// Another fake API server for [`CLUSTER`]: it accepts tokens signed with the local
    /// credentials and runs a namespace's pods only once moto has an ACTIVE Fargate profile for
    /// it; its time runs 20 times faster. `configure` changes that.
    pub async fn start_fake_kube(
        &self,
        configure: impl FnOnce(fake_kube_apiserver::Config) -> fake_kube_apiserver::Config,
    ) -> FakeKube {
        let config = fake_kube_apiserver::Config {
            credentials: vec![(crate::ACCESS_KEY_ID.into(), crate::SECRET_ACCESS_KEY.into())],
            eks: Some(self.clients.eks.clone()),
            efs: Some(self.clients.efs.clone()),
            pod_start_delay: std::time::Duration::from_secs(10),
            time_scale: 0.05,
            ..fake_kube_apiserver::Config::new(CLUSTER, crate::REGION)
        };
        FakeKube::start(configure(config))
            .await
            .expect("the fake API server starts")
    }

    /// The world's settings with `fake`'s endpoint and CA.
    pub fn settings_for(&self, fake: &FakeKube) -> Settings {
        Settings {
            kube_api_override: Some(KubeApiOverride {
                endpoint: fake.endpoint(),
                ca_pem: fake.ca_pem().to_string(),
            }),
            ..self.settings.clone()
        }
    }

    /// Everything the workflow may create or delete, with the Fargate profiles of [`CLUSTER`].
    pub async fn inventory(&self) -> Inventory {
        inventory(&self.clients, CLUSTER).await
    }

    /// Someone else's file system, security group (in the seeded VPC) and KMS key.
    pub async fn foreign_resources(&self) -> Foreign {
        seed_foreign_resources(&self.clients, &self.network().vpc_id).await
    }

    /// `prepare` with the world's settings.
    pub async fn prepare(&self, event: PrepareEvent) -> Result<PrepareOutput> {
        prepare(&self.clients, &self.settings, event)
            .await
            .map(|poll| poll.output)
    }

    /// `prepare` of run `run-1` for the execution input `input`.
    pub async fn try_prepare(&self, input: Value) -> Result<PrepareOutput> {
        self.prepare(prepare_event(input)).await
    }

    /// The run `prepare` makes of `input` (it must be ready).
    pub async fn prepared(&self, input: Value) -> Run {
        match self.try_prepare(input).await.expect("prepare") {
            PrepareOutput::Ready { run } => *run,
            other => panic!("prepare did not finish: {other:?}"),
        }
    }

    /// The run for `namespace` on [`CLUSTER`], with every other input at its default.
    pub async fn run(&self, namespace: &str) -> Run {
        self.prepared(json!({"clusterName": CLUSTER, "namespace": namespace}))
            .await
    }

    /// epic01's Fargate profile for `run`, created (or found) as the step does, ignoring the
    /// cluster's profile lease.
    pub async fn ensure_profile(&self, run: &Run) -> Result<ProfileOutput> {
        match fargate::converge(&self.clients, &self.settings, run, None).await? {
            fargate::Converged::Created(created) => Ok(created),
            fargate::Converged::Found(found) => Ok(ProfileOutput {
                profile_name: found.fargate_profile_name().unwrap_or_default().to_string(),
                profile_arn: found.fargate_profile_arn().unwrap_or_default().to_string(),
                status: found.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                created: false,
            }),
            fargate::Converged::Queued { holder } => panic!("queued behind {holder}"),
        }
    }

    /// epic01 + epic02 with their status loops, as the state machine runs them.
    pub async fn provision(&self, run: &Run) -> (ProfileOutput, EfsOutput) {
        // moto's profiles are ACTIVE and its mount targets available at once: a call after each
        // one that created (the namespace's profile, then the collector's) is ready.
        let mut profile = fargate::profile(&self.clients, &self.settings, run, None, 0)
            .await
            .expect("fargate-profile converge");
        for _ in 0..2 {
            if !profile.ready {
                profile = fargate::profile(&self.clients, &self.settings, run, None, profile.attempt)
                    .await
                    .expect("fargate-profile converge");
            }
        }
        assert!(profile.ready, "moto's profiles are ACTIVE at once: {profile:?}");
        let profile = profile.output;
        let mut poll = efs::converge(&self.clients, &self.settings, run, 0)
            .await
            .expect("efs converge");
        if !poll.ready {
            poll = efs::converge(&self.clients, &self.settings, run, poll.attempt)
                .await
                .expect("efs converge");
        }
        assert!(poll.ready, "moto's mount targets are available at once: {poll:?}");
        (profile, poll.output)
    }

    /// Every AWS cleanup action for `namespace` on [`CLUSTER`] in order, each called again until
    /// done (as the cleanup state machine does).
    pub async fn clean_up(&self, namespace: &str) -> Vec<(CleanupAction, CleanupProgress)> {
        self.roll_back(namespace, None).await
    }

    /// [`World::clean_up`] scoped to what run `run_id` created, as a rollback's cleanup is (`None`:
    /// everything of ours).
    pub async fn roll_back(&self, namespace: &str, run_id: Option<&str>) -> Vec<(CleanupAction, CleanupProgress)> {
        let scope = CleanupScope {
            run_id,
            generation: None,
        };
        self.clean_up_with(namespace, CLEANUP_ORDER, scope, 10).await
    }

    /// The cleanup `actions` for `namespace` on [`CLUSTER`] in order, in `scope`, each called again
    /// until done (as the cleanup state machine does: 100 ms apart, fewer than `max_polls` times).
    /// Every call's progress, in order.
    pub async fn clean_up_with(
        &self,
        namespace: &str,
        actions: &[CleanupAction],
        scope: CleanupScope<'_>,
        max_polls: u32,
    ) -> Vec<(CleanupAction, CleanupProgress)> {
        let mut log = Vec::new();
        for &action in actions {
            let mut event = cleanup_event(action, CLUSTER, namespace);
            event.run_id = scope.run_id.map(str::to_string);
            event.generation = scope.generation;
            loop {
                let progress = cleanup(&self.clients, &self.settings, event.clone())
                    .await
                    .unwrap_or_else(|e| panic!("{action:?}: {e}"));
                event.attempt = progress.attempt;
                event.removed = progress.output.removed.clone();
                let finished = progress.ready;
                log.push((action, progress));
                if finished {
                    break;
                }
                assert!(event.attempt < max_polls, "{action:?} never finished: {log:?}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        log
    }

    /// The state of a KMS key (`Enabled`, `PendingDeletion`, …) by id, ARN or alias.
    pub async fn key_state(&self, key: &str) -> String {
        self.clients
            .kms
            .describe_key()
            .key_id(key)
            .send()
            .await
            .or_panic("kms describe_key")
            .key_metadata
            .and_then(|metadata| metadata.key_state)
            .expect("a key state")
            .as_str()
            .to_string()
    }

    /// A cleanup state machine that only records its executions (moto runs none without its
    /// engine): where the reaper and rollback tests look for the cleanups they started.
    pub async fn stand_in_cleanup_state_machine(&self) -> String {
        let created = self
            .clients
            .sfn
            .create_state_machine()
            .name("cleanup")
            .definition(r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#)
            .role_arn("arn:aws:iam::123456789012:role/states")
            .send()
            .await
            .or_panic("sfn create_state_machine");
        created.state_machine_arn().to_string()
    }

    /// The one execution of `state_machine` (fails on none or several): its name and input.
    pub async fn only_execution(&self, state_machine: &str) -> (String, Value) {
        let listed = self
            .clients
            .sfn
            .list_executions()
            .state_machine_arn(state_machine)
            .send()
            .await
            .or_panic("sfn list_executions");
        let [execution] = listed.executions() else {
            panic!(
                "expected exactly one execution of {state_machine}: {:?}",
                listed.executions()
            );
        };
        let described = self
            .clients
            .sfn
            .describe_execution()
            .execution_arn(execution.execution_arn())
            .send()
            .await
            .or_panic("sfn describe_execution");
        let input = serde_json::from_str(described.input().expect("an input")).expect("JSON input");
        (execution.name().to_string(), input)
    }

    /// A Fargate profile under the name the workflow uses for [`crate::NAMESPACE`], without our
    /// tags: someone else's.
    pub async fn foreign_profile(&self, pod_role: &str, subnets: Vec<String>) {
        self.clients
            .eks
            .create_fargate_profile()
            .cluster_name(CLUSTER)
            .fargate_profile_name(format!("fp-{}", crate::NAMESPACE))
            .pod_execution_role_arn(pod_role)
            .set_subnets(Some(subnets).filter(|s: &Vec<String>| !s.is_empty()))
            .selectors(
                aws_sdk_eks::types::FargateProfileSelector::builder()
                    .namespace(crate::NAMESPACE)
                    .build(),
            )
            .send()
            .await
            .or_panic("eks create_fargate_profile");
    }
}
