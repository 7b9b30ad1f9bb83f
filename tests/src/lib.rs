//! Test harness for the workflow against a local moto server (`scripts/venv.sh` installs it) and
//! the fake Kubernetes API server. Integration tests start from a [`World`]:
//!
//! ```ignore
//! let world = workflow_tests::World::with_kube().await; // moto, network, cluster `demo`, fake API
//! let (run, file_system_id) = world.app_running("team-a").await;
//! let before = world.inventory().await;
//! ```

pub mod check;
pub mod events;
pub mod foreign;
pub mod http;
pub mod inventory;
pub mod local;
pub mod moto;
pub mod network;
pub mod server;
pub mod tables;
pub mod world;

pub use check::{OrPanic, error_name};
pub use events::{cleanup_event, kube_step, prepare_event, step};
pub use foreign::{Foreign, seed_foreign_resources};
pub use inventory::{
    AlarmInfo, FargateProfileInfo, FileSystemInfo, Inventory, KmsAliasInfo, KmsKeyInfo, MountTargetInfo, RoleInfo,
    SecurityGroupInfo, inventory,
};
pub use local::{CLUSTER, INSIGHTS_BOUNDARY, NAMESPACE, POD_ROLE, insights_settings, settings};
pub use moto::{ACCESS_KEY_ID, ACCOUNT_ID, MotoGuard, REGION, SECRET_ACCESS_KEY, moto, sdk_config};
pub use network::{SeededAccess, SeededCluster, Subnet, associate_oidc_provider, seed_network, seed_network_with};
pub use tables::{LEASE_TABLE, LEDGER_TABLE, create_lease_table, create_ledger_table};
pub use world::{CLEANUP_ORDER, CleanupScope, World};
