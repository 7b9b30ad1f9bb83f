//! Generates the workflow's two Step Functions definitions from one typed description, so Retry
//! lists, poll loops and caps are written once and the error names come from the core crate's
//! error enum. `cargo run -p asl-gen` rewrites `statemachine/*.asl.json`; a test fails when the
//! committed files differ from what this crate generates.

pub mod asl;
mod cleanup;
pub mod json;
pub mod machine_errors;
mod poll;
mod provision;
pub mod retry;
mod task;

use std::path::PathBuf;

/// A definition file and its generated text.
pub struct Definition {
    pub file_name: &'static str,
    pub text: String,
}

/// Both definitions, as they are written to `statemachine/`: pretty JSON, 2-space indent, with a
/// trailing newline.
pub fn definitions() -> [Definition; 2] {
    [
        ("provision.asl.json", provision::provision()),
        ("cleanup.asl.json", cleanup::cleanup()),
    ]
    .map(|(file_name, machine)| Definition {
        file_name,
        text: serde_json::to_string_pretty(&machine).expect("a state machine serializes") + "\n",
    })
}

/// The `statemachine/` directory of the repository.
pub fn statemachine_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in statemachine/gen")
        .to_path_buf()
}
