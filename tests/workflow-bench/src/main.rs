//! `make bench-workflow`: provisioning replayed on the local stack under AWS's latency model
//! (README, Performance). For each case (low, median, high) a fresh stack takes the case's
//! latencies at `--time-scale`, with the workflow's own poll plans and Wait states scaled the same
//! way; one provisioning and one cleanup run are measured: wall time (scaled back to AWS seconds)
//! against the critical-path bound, state transitions, AWS API calls, Lambda time and the cost.
//! Then scale: N runs at once on N distinct clusters (`scale.rs`). Prints tables and writes JSON.

mod cost;
mod model;
mod run;
mod scale;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;

use model::Case;
use run::CaseResult;
use scale::ScaleResult;

/// Transitions a median provisioning run may take (issue 11).
const TRANSITIONS_GOAL: usize = 40;

#[derive(Parser)]
#[command(about = "Provisioning replayed under AWS's latency model on the local stack")]
struct Args {
    /// Real seconds per simulated second: 0.1 replays a 335 s median run in about 34 s.
    #[arg(long, default_value_t = 0.1)]
    time_scale: f64,
    /// The cases to replay.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Case::ALL)]
    cases: Vec<Case>,
    /// How many concurrent runs (on as many clusters) each scale wave starts; `--scale 0` for none.
    #[arg(long, value_delimiter = ',', default_values_t = [50, 100])]
    scale: Vec<usize>,
    /// Where the JSON goes (default `$CARGO_TARGET_DIR/bench/workflow.json`, else `target/...`).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut results = Vec::new();
    for case in &args.cases {
        eprintln!("==> {} case at time scale {}", case.name(), args.time_scale);
        match run::case(*case, args.time_scale).await {
            Ok(result) => results.push(result),
            Err(e) => {
                eprintln!("error: the {} case failed: {e}", case.name());
                return ExitCode::FAILURE;
            }
        }
    }
    print_table(&results, args.time_scale);
    let mut scaled = Vec::new();
    for runs in args.scale.iter().copied().filter(|n| *n > 0) {
        eprintln!("==> scale: {runs} runs on {runs} clusters");
        match scale::scale(runs).await {
            Ok(result) => scaled.push(result),
            Err(e) => {
                eprintln!("error: the scale run of {runs} failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    print_scale(&scaled);
    let out = args.out.unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
        target.join("bench").join("workflow.json")
    });
    let report = json!({
        "timeScale": args.time_scale,
        "machine": machine(),
        "cases": results,
        "scale": scaled,
    });
    let written = out
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap_or_default()));
    match written {
        Ok(()) => {
            println!("\nJSON: {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

fn print_table(results: &[CaseResult], scale: f64) {
    println!("\nProvisioning under AWS's latency model, replayed at time scale {scale} (times in AWS seconds)");
    println!(
        "{:<7} {:>6} {:>7} {:>6} {:>5} | {:>5} {:>5} {:>6} {:>8} {:>9} | {:>5} {:>5} {:>9} | goal",
        "case", "bound", "wall", "ratio", "", "trans", "api", "invoc", "lambda s", "USD", "trans", "api", "USD",
    );
    println!(
        "{:<36} | {:<39} | {:<21} |",
        "", "provisioning execution", "cleanup execution"
    );
    for r in results {
        let (p, c) = (&r.provisioning, &r.cleanup);
        let met = r.ratio <= r.case.ratio_goal() && (r.case != Case::Median || p.state_transitions <= TRANSITIONS_GOAL);
        println!(
            "{:<7} {:>6} {:>7.1} {:>6.3} {:>5} | {:>5} {:>5} {:>6} {:>8.1} {:>9.6} | {:>5} {:>5} {:>9.6} | {}",
            r.case.name(),
            r.bound_seconds,
            p.wall_seconds,
            r.ratio,
            format!("≤{}", r.case.ratio_goal()),
            p.state_transitions,
            p.aws_api_calls,
            p.lambda_invocations,
            p.lambda_seconds,
            p.cost.total(),
            c.state_transitions,
            c.aws_api_calls,
            c.cost.total(),
            if met { "met" } else { "MISSED" },
        );
    }
}

fn print_scale(results: &[ScaleResult]) {
    if results.is_empty() {
        return;
    }
    println!("\nScale: N provisioning runs at once on N clusters, then N cleanups (local stack timings, real seconds)");
    println!(
        "{:>5} {:>7} | {:>9} {:>7} {:>8} {:>7} | {:>9} {:>7} {:>8} {:>7}",
        "runs", "setup", "completed", "wall", "median", "max", "completed", "wall", "median", "max"
    );
    println!("{:<13} | {:<34} | {:<34}", "", "provisioning", "cleanup");
    for r in results {
        let (p, c) = (&r.provisioning, &r.cleanup);
        println!(
            "{:>5} {:>7.1} | {:>8.0}% {:>7.1} {:>8.1} {:>7.1} | {:>8.0}% {:>7.1} {:>8.1} {:>7.1}",
            r.runs,
            r.setup_seconds,
            100.0 * p.completion_rate(r.runs),
            p.wall_seconds,
            p.median_seconds,
            p.max_seconds,
            100.0 * c.completion_rate(r.runs),
            c.wall_seconds,
            c.median_seconds,
            c.max_seconds,
        );
        for failure in p.failures.iter().chain(&c.failures).take(5) {
            println!("      not completed: {failure}");
        }
    }
}

/// What the figures were measured on: they depend on it through the handlers' own time.
fn machine() -> serde_json::Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map_or(0, usize::from),
        "loadAverage": read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}
