//! The validation pod's log, read back: `find /data` lists the files, `tail -n 3` of each app's
//! file shows what the apps wrote before they were deleted.

use super::record::{CrossRead, Timings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The files each PoC app writes, with the mark its lines end with.
pub const APP_FILES: [(&str, &str); 2] = [("/data/out1.txt", " - PoC APP 1"), ("/data/out2.txt", " - PoC APP 2")];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    pub file_system_id: String,
    /// Who the pods were and what they saw of the file system.
    pub runs_as: RunsAs,
    /// Every path under /data the validation pod listed.
    pub files_found: Vec<String>,
    /// The app lines the validation pod read, per file.
    pub lines_read: BTreeMap<String, Vec<String>>,
    /// What the apps read from each other while running (absent if the record was lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_read: Option<CrossRead>,
    pub timings: Timings,
}

/// The non-root identity the PoC and validation pods ran as, through the namespace's access point
/// (EFS enforces the same uid/gid on every file operation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunsAs {
    pub uid: u32,
    pub gid: u32,
    pub access_point_id: String,
    /// The access point's root directory: what `/data` is on the file system.
    pub root_directory: String,
}

impl ValidationReport {
    pub fn from_log(
        file_system_id: &str,
        runs_as: RunsAs,
        log: &str,
        cross_read: Option<CrossRead>,
        timings: Timings,
    ) -> Self {
        let mut files_found = Vec::new();
        let mut lines_read: BTreeMap<String, Vec<String>> =
            APP_FILES.iter().map(|(file, _)| (file.to_string(), vec![])).collect();
        for line in log.lines().map(str::trim_end) {
            if line.starts_with("/data/") {
                files_found.push(line.to_string());
            } else if let Some((file, _)) = APP_FILES.iter().find(|(_, mark)| line.ends_with(mark)) {
                lines_read.entry(file.to_string()).or_default().push(line.to_string());
            }
        }
        Self {
            file_system_id: file_system_id.into(),
            runs_as,
            files_found,
            lines_read,
            cross_read,
            timings,
        }
    }

    /// What the report lacks, if anything: each app's file listed, and lines read from it.
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for (file, _) in APP_FILES {
            if !self.files_found.iter().any(|f| f == file) {
                missing.push(format!("{file} was not listed"));
            }
            if self.lines_read.get(file).is_none_or(Vec::is_empty) {
                missing.push(format!("no line of {file} was read"));
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_as() -> RunsAs {
        RunsAs {
            uid: 1000,
            gid: 1000,
            access_point_id: "fsap-12345678".into(),
            root_directory: "/ns".into(),
        }
    }

    #[test]
    fn both_files_and_their_lines_are_found() {
        let log = "/data\n/data/out2.txt\n/data/out1.txt\n\
                   Mon Jan  1 00:00:00 UTC 2024 - PoC APP 1\nMon Jan  1 00:00:05 UTC 2024 - PoC APP 1\n\
                   Mon Jan  1 00:00:01 UTC 2024 - PoC APP 2\n";
        let report = ValidationReport::from_log("fs-12345678", runs_as(), log, None, Timings::default());
        assert_eq!(report.files_found, ["/data/out2.txt", "/data/out1.txt"]);
        assert_eq!(report.lines_read["/data/out1.txt"].len(), 2);
        assert_eq!(report.lines_read["/data/out2.txt"].len(), 1);
        assert!(report.missing().is_empty());
    }

    #[test]
    fn a_missing_file_is_named() {
        let log = "/data\n/data/out1.txt\nMon Jan  1 00:00:00 UTC 2024 - PoC APP 1\n";
        let report = ValidationReport::from_log("fs-12345678", runs_as(), log, None, Timings::default());
        assert_eq!(
            report.missing(),
            ["/data/out2.txt was not listed", "no line of /data/out2.txt was read"]
        );
    }
}
