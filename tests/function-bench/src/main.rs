//! `make bench`, the per-function part: builds the release Lambda binary (host, to run it; arm64
//! zip, as deployed), then for every function measures cold start (process exec → first poll of a
//! mock Lambda Runtime API, `RUNS` runs, min/median/max) and peak RSS after one invocation of its
//! sample event, and weighs the zip. `BUILD=1` adds cold and warm release build times (minutes).
//! Prints a table and writes `$CARGO_TARGET_DIR/bench/functions.json`.

mod artifacts;
mod measure;
mod runtime_api;

use efs_fargate_core::functions::Function;
use serde::Serialize;

/// The goals of issue 11, per function.
const COLD_START_GOAL_MS: f64 = 40.0;
const PEAK_RSS_GOAL_MB: f64 = 40.0;
const ZIP_GOAL_MB: f64 = 5.0;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionFigures {
    function: &'static str,
    cold_start_ms: Stats,
    peak_rss_mb: f64,
    /// How the measured invocation ended (`response` or `error <errorType>`).
    invocation: String,
    event: String,
}

#[derive(Serialize)]
struct Stats {
    min: f64,
    median: f64,
    max: f64,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self {
            min: samples[0],
            median: samples[samples.len() / 2],
            max: samples[samples.len() - 1],
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    machine: String,
    runs: usize,
    /// Every function ships the same artifact: one zip.
    zip_mb: f64,
    unzipped_mb: f64,
    functions: Vec<FunctionFigures>,
    /// Seconds; only with `BUILD=1`.
    build: Option<BuildTimes>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BuildTimes {
    cold_release_arm64_s: f64,
    warm_release_arm64_after_core_touch_s: f64,
    cargo_build_jobs: String,
}

/// The sample event each function is invoked with (`events/`): a real event, so the handler parses
/// it and runs until its first AWS call, which fails at once (no AWS here).
fn sample_event(function: Function) -> &'static str {
    match function {
        Function::Prepare => "events/functions/prepare.json",
        Function::FargateProfile => "events/functions/fargate-profile-converge.json",
        Function::Efs => "events/functions/efs-converge.json",
        Function::StorageClass => "events/functions/storage-class-create.json",
        Function::PocApp => "events/functions/poc-app-converge.json",
        Function::Validate => "events/functions/validate-report.json",
        Function::Cleanup => "events/functions/cleanup-file-system.json",
        Function::Rollback => "events/functions/rollback-failed.json",
        Function::TtlReaper => "events/scheduled/reaper.json",
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    if let Err(error) = bench() {
        eprintln!("function-bench: {error}");
        std::process::exit(1);
    }
}

fn bench() -> Result<(), String> {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10)
        .max(1);
    let with_build_times = std::env::var("BUILD").is_ok_and(|b| b == "1");
    let target = artifacts::target_dir();

    // With BUILD=1 the timed builds make the zip that is weighed: one arm64 build fewer.
    let (build, (zip_bytes, unzipped_bytes)) = if with_build_times {
        eprintln!("==> BUILD=1: cold and warm arm64 release builds in a fresh target directory (minutes)");
        let timed = artifacts::build_times()?;
        let build = BuildTimes {
            cold_release_arm64_s: timed.cold_s,
            warm_release_arm64_after_core_touch_s: timed.warm_s,
            cargo_build_jobs: std::env::var("CARGO_BUILD_JOBS").unwrap_or_else(|_| "all cores".into()),
        };
        (Some(build), timed.zip)
    } else {
        eprintln!("==> release build of the arm64 zip, to weigh");
        (None, artifacts::zip_sizes(&artifacts::build_arm64_zip(&target)?)?)
    };
    eprintln!("==> release build for this machine, to run");
    let binary = artifacts::build_host(&target)?;

    let mut functions = Vec::new();
    for function in Function::ALL {
        eprintln!("==> {}: {runs} cold starts, one invocation", function.name());
        let samples = (0..runs)
            .map(|_| measure::cold_start_ms(&binary, function))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", function.name()))?;
        let path = sample_event(function);
        let event = std::fs::read_to_string(artifacts::repo_root().join(path)).map_err(|e| format!("{path}: {e}"))?;
        let invocation =
            measure::invoke_once(&binary, function, event).map_err(|e| format!("{}: {e}", function.name()))?;
        functions.push(FunctionFigures {
            function: function.name(),
            cold_start_ms: Stats::of(samples),
            peak_rss_mb: invocation.peak_rss_kib as f64 * 1024.0 / 1e6,
            invocation: invocation.outcome,
            event: path.into(),
        });
    }

    let report = Report {
        machine: machine(),
        runs,
        zip_mb: mb(zip_bytes),
        unzipped_mb: mb(unzipped_bytes),
        functions,
        build,
    };
    print_table(&report);
    let out = target.join("bench/functions.json");
    std::fs::create_dir_all(out.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    std::fs::write(&out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    println!("\nJSON: {}", out.display());
    Ok(())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<_> = load.split_whitespace().take(3).collect();
    format!(
        "{} {cores} cores, load average {}",
        std::env::consts::ARCH,
        load.join(" ")
    )
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER GOAL" }
}

fn print_table(report: &Report) {
    println!(
        "\nPer function, release build ({}; {} cold starts each)",
        report.machine, report.runs
    );
    println!(
        "{:<16} {:>28} {:>14}  invocation",
        "function", "cold start ms min/med/max", "peak RSS MB"
    );
    for f in &report.functions {
        let c = &f.cold_start_ms;
        println!(
            "{:<16} {:>28} {:>14}  {}",
            f.function,
            format!(
                "{:.1} / {:.1} / {:.1} {}",
                c.min,
                c.median,
                c.max,
                mark(c.median <= COLD_START_GOAL_MS)
            ),
            format!("{:.1} {}", f.peak_rss_mb, mark(f.peak_rss_mb <= PEAK_RSS_GOAL_MB)),
            f.invocation
        );
    }
    println!(
        "zip (arm64, every function): {:.2} MB {}, unzipped {:.2} MB   goals: cold start ≤ {COLD_START_GOAL_MS} ms (median), peak RSS ≤ {PEAK_RSS_GOAL_MB} MB, zip ≤ {ZIP_GOAL_MB} MB",
        report.zip_mb,
        mark(report.zip_mb <= ZIP_GOAL_MB),
        report.unzipped_mb
    );
    if let Some(b) = &report.build {
        println!(
            "release build, arm64 (CARGO_BUILD_JOBS={}): cold {:.0} s, warm after touching functions/core/src/lib.rs {:.0} s",
            b.cargo_build_jobs, b.cold_release_arm64_s, b.warm_release_arm64_after_core_touch_s
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_min_median_max_of_unsorted_samples() {
        let stats = Stats::of(vec![30.0, 10.0, 20.0, 50.0, 40.0]);
        assert_eq!((stats.min, stats.median, stats.max), (10.0, 30.0, 50.0));
    }

    #[test]
    fn every_function_has_a_sample_event_in_the_repository() {
        for function in Function::ALL {
            let path = artifacts::repo_root().join(sample_event(function));
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap();
        }
    }
}
