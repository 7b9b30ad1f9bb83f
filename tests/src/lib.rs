//! Test harness for the workflow against a local moto server (`scripts/venv.sh` installs it).
//!
//! ```ignore
//! let moto = workflow_tests::moto().await;          // exclusive, freshly reset server
//! let clients = moto.clients();
//! let cluster = workflow_tests::seed_network(&clients, "demo").await;
//! let before = workflow_tests::inventory(&clients, "demo").await;
//! ```

pub mod check;
pub mod foreign;
pub mod http;
pub mod inventory;
pub mod lease_table;
pub mod moto;
pub mod network;
pub mod server;

pub use check::OrPanic;
pub use foreign::{Foreign, seed_foreign_resources};
pub use inventory::{
    FargateProfileInfo, FileSystemInfo, Inventory, KmsAliasInfo, KmsKeyInfo, MountTargetInfo, SecurityGroupInfo,
    inventory,
};
pub use lease_table::{LEASE_TABLE, create_lease_table};
pub use moto::{ACCESS_KEY_ID, ACCOUNT_ID, MotoGuard, REGION, SECRET_ACCESS_KEY, moto, sdk_config};
pub use network::{SeededAccess, SeededCluster, Subnet, seed_network, seed_network_with};
