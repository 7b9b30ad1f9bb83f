//! The release artifact: built for the host (to run it) and as Lambda's arm64 zip (to weigh it),
//! and, when asked, cold and warm release build times.

use efs_fargate_core::functions::LAMBDA_BINARY;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `CARGO_TARGET_DIR`, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from)
}

/// cargo, with the deploy venv (cargo-lambda and zig, `scripts/venv.sh deploy`) first on PATH.
fn cargo(target_dir: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let venv = repo_root().join(".venv-deploy/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let paths = std::iter::once(venv).chain(std::env::split_paths(&path));
    command
        .current_dir(repo_root())
        .env("CARGO_TARGET_DIR", target_dir)
        .env("PATH", std::env::join_paths(paths).expect("PATH entries join"));
    command
}

fn run(mut command: Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("{command:?} failed: {status}"))
}

/// `cargo build --release` of the Lambda binary for this machine; returns its path.
pub fn build_host(target_dir: &Path) -> Result<PathBuf, String> {
    let mut command = cargo(target_dir);
    command.args(["build", "--release", "--bin", LAMBDA_BINARY]);
    run(command)?;
    Ok(target_dir.join("release").join(LAMBDA_BINARY))
}

/// `cargo lambda build --release --arm64 --output-format zip`, as deployed; returns the zip's path.
pub fn build_arm64_zip(target_dir: &Path) -> Result<PathBuf, String> {
    let mut command = cargo(target_dir);
    command.args([
        "lambda",
        "build",
        "--release",
        "--arm64",
        "--output-format",
        "zip",
        "--bin",
        LAMBDA_BINARY,
    ]);
    run(command)?;
    Ok(target_dir.join("lambda").join(LAMBDA_BINARY).join("bootstrap.zip"))
}

/// The arm64 zip built twice in a fresh target directory: cold, then warm after touching the core
/// library.
pub struct TimedBuilds {
    pub cold_s: f64,
    pub warm_s: f64,
    /// The zip's size and its unzipped size.
    pub zip: (u64, u64),
}

/// Cold (fresh target directory) and warm (after touching the core library) release build times
/// of the arm64 zip, in seconds, and the zip they made. The fresh directory is removed afterwards.
pub fn build_times() -> Result<TimedBuilds, String> {
    let fresh = std::env::temp_dir().join(format!("efs-workflow-bench-build-{}", std::process::id()));
    let timed = |target: &Path| -> Result<(f64, PathBuf), String> {
        let started = Instant::now();
        let zip = build_arm64_zip(target)?;
        Ok((started.elapsed().as_secs_f64(), zip))
    };
    let result = (|| {
        let (cold_s, _) = timed(&fresh)?;
        let lib = repo_root().join("functions/core/src/lib.rs");
        let file = std::fs::File::options()
            .append(true)
            .open(&lib)
            .map_err(|e| e.to_string())?;
        file.set_modified(std::time::SystemTime::now())
            .map_err(|e| e.to_string())?;
        let (warm_s, zip) = timed(&fresh)?;
        Ok(TimedBuilds {
            cold_s,
            warm_s,
            zip: zip_sizes(&zip)?,
        })
    })();
    let _ = std::fs::remove_dir_all(&fresh);
    result
}

/// The zip's size and the sum of its entries' uncompressed sizes, from its central directory.
pub fn zip_sizes(zip: &Path) -> Result<(u64, u64), String> {
    let bytes = std::fs::read(zip).map_err(|e| format!("{}: {e}", zip.display()))?;
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes")) as usize;
    // The end-of-central-directory record: its signature, searched from the end (a comment may follow).
    let end = (0..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| format!("{} is not a zip file", zip.display()))?;
    let (entries, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut unzipped = 0;
    for _ in 0..entries {
        if bytes.get(at..at + 4) != Some(&[0x50, 0x4b, 0x01, 0x02][..]) {
            return Err(format!("{}: bad central directory entry", zip.display()));
        }
        unzipped += u32_at(at + 24) as u64;
        at += 46 + u16_at(at + 28) + u16_at(at + 30) + u16_at(at + 32);
    }
    Ok((bytes.len() as u64, unzipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) zip of `entries`, as `zip` writes one, with a trailing comment.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in entries {
            let offset = out.len() as u32;
            out.extend([0x50, 0x4b, 0x03, 0x04]);
            out.extend([0; 14]); // version, flags, method, time, date, crc
            out.extend((data.len() as u32).to_le_bytes()); // compressed
            out.extend((data.len() as u32).to_le_bytes()); // uncompressed
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes());
            out.extend(name.as_bytes());
            out.extend(*data);
            central.extend([0x50, 0x4b, 0x01, 0x02]);
            central.extend([0; 16]); // versions, flags, method, time, date, crc
            central.extend((data.len() as u32).to_le_bytes());
            central.extend((data.len() as u32).to_le_bytes());
            central.extend((name.len() as u16).to_le_bytes());
            central.extend([0; 12]); // extra, comment, disk, attributes
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let start = out.len() as u32;
        out.extend(&central);
        out.extend([0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(start.to_le_bytes());
        out.extend(3u16.to_le_bytes());
        out.extend(b"hi!");
        out
    }

    #[test]
    fn zip_sizes_add_up_the_entries_from_the_central_directory() {
        let path = std::env::temp_dir().join(format!("function-bench-test-{}.zip", std::process::id()));
        let bytes = zip_of(&[("bootstrap", &[7; 1000]), ("extra", b"12345")]);
        std::fs::write(&path, &bytes).unwrap();
        let sizes = zip_sizes(&path);
        std::fs::write(&path, b"not a zip at all, just text").unwrap();
        let refused = zip_sizes(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(sizes, Ok((bytes.len() as u64, 1005)));
        assert!(refused.unwrap_err().contains("is not a zip file"));
    }
}
