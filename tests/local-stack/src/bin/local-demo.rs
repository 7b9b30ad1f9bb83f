//! `make demo`: the whole workflow on the local stack. Starts moto, the gateway and the fake
//! Kubernetes API server, seeds an EKS cluster (with an IAM OIDC provider), shows the plan
//! (`efs-workflow plan`, a dry run that changes nothing), provisions with `efs-workflow start
//! --container-insights --watch`, shows the Container Insights collector it made,
//! the validation report and what the two workloads wrote, cleans up with `efs-workflow cleanup
//! --watch`, shows that nothing of ours is left, and stops everything it started.

use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use local_stack::stack::{CLUSTER, LocalStack, StackOptions};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> ExitCode {
    let began = Instant::now();
    println!("==> starting the local stack (moto + gateway + fake Kubernetes API server)");
    let stack = match LocalStack::start(StackOptions::default()).await {
        Ok(stack) => stack,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "    moto {}  gateway {}  kubernetes {}\n    cluster `{CLUSTER}` in {} with {} private subnets",
        stack.moto_endpoint(),
        stack.gateway_endpoint(),
        stack.kube.endpoint(),
        stack.cluster.vpc_id,
        stack.cluster.private_subnets.len()
    );
    println!("    from template.yaml: rules {:?}", stack.rules);
    for scheduled in &stack.schedules {
        println!(
            "    from template.yaml: {} {} → every {:.1}s on the stack's clock",
            scheduled.definition.function,
            scheduled.definition.expression,
            scheduled.period.as_secs_f64()
        );
    }
    let outcome = demo(&stack).await;
    stack.shutdown().await;
    println!("\n==> demo finished in {:.0}s", began.elapsed().as_secs_f64());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(stack: &LocalStack) -> Result<(), String> {
    // The plan and the run it plans take the same flags.
    let run_flags = ["--cluster", CLUSTER, "--ttl", "PT8H", "--container-insights"];
    println!(
        "\n==> efs-workflow plan {}   (a dry run: the doctor, then what the run would do)",
        run_flags.join(" ")
    );
    let before = workflow_tests::inventory(&stack.moto_clients, CLUSTER).await;
    cli(stack, &[&["plan"], &run_flags[..], &["--name", "plan-demo"]].concat())?;
    if workflow_tests::inventory(&stack.moto_clients, CLUSTER).await != before {
        return Err("the plan changed something".into());
    }
    println!("    (nothing was changed)");

    println!("\n==> efs-workflow start {} --watch", run_flags.join(" "));
    cli(
        stack,
        &[&["start"], &run_flags[..], &["--name", "provision-demo", "--watch"]].concat(),
    )?;
    let provision = stack
        .executions(&stack.provision_arn)
        .await
        .map_err(|e| e.to_string())?;
    let arn = provision
        .iter()
        .find(|e| e.name() == "provision-demo")
        .map(|e| e.execution_arn().to_string())
        .ok_or("no provisioning execution")?;
    let execution = stack
        .wait(&arn, Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;

    print_validation(&execution.output);
    print_collector(stack, &execution.output);
    let file_system = execution.output["resources"]["fileSystemId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!("\n==> what the two workloads wrote on {file_system} (fake EFS volume)");
    for (path, content) in stack.kube.store_files(&file_system) {
        let lines: Vec<&str> = content.lines().collect();
        println!("{path}: {} lines, the last ones:", lines.len());
        for line in &lines[lines.len().saturating_sub(3)..] {
            println!("    {line}");
        }
    }

    println!("\n==> efs-workflow cleanup --cluster {CLUSTER} --namespace {DEFAULT_NAMESPACE} --yes --watch");
    cli(
        stack,
        &[
            "cleanup",
            "--cluster",
            CLUSTER,
            "--namespace",
            DEFAULT_NAMESPACE,
            "--yes",
            "--watch",
        ],
    )?;

    println!("\n==> what is left in moto");
    let left = workflow_tests::inventory(&stack.moto_clients, CLUSTER).await;
    let ours = |tags: &std::collections::BTreeMap<String, String>| {
        tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
    };
    let counts = [
        (
            "Fargate profiles",
            left.fargate_profiles.iter().filter(|p| ours(&p.tags)).count(),
        ),
        (
            "EFS file systems",
            left.file_systems.iter().filter(|f| ours(&f.tags)).count(),
        ),
        (
            "security groups",
            left.security_groups.iter().filter(|g| ours(&g.tags)).count(),
        ),
        ("KMS keys", left.kms_keys.iter().filter(|k| ours(&k.tags)).count()),
        ("IAM roles", left.roles.iter().filter(|r| ours(&r.tags)).count()),
    ];
    for (kind, count) in counts {
        println!("    {kind} of ours: {count}");
    }
    let namespace = stack.kube.object("Namespace", None, DEFAULT_NAMESPACE);
    println!(
        "    namespace {DEFAULT_NAMESPACE}: {}",
        if namespace.is_some() { "still there" } else { "gone" }
    );
    if counts.iter().any(|(_, n)| *n > 0) || namespace.is_some() {
        return Err("cleanup left resources behind".into());
    }
    println!("    nothing of ours is left");
    let stats = stack.gateway_stats();
    println!(
        "\n==> IAM: {} AWS calls of the functions authorized against their roles' policies from template.yaml, {} denied",
        stats.iam_evaluated, stats.iam_denied
    );
    if stats.iam_denied > 0 {
        return Err("IAM denied calls of the functions: the gateway's warnings name each".into());
    }
    Ok(())
}

fn print_validation(output: &Value) {
    if let Some(report) = output.pointer("/validation/report") {
        println!(
            "\n==> validation report\n{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
    }
}

/// The Container Insights collector the run made: its IAM role and its Deployment (which the fake
/// API server stores but does not run).
fn print_collector(stack: &LocalStack, output: &Value) {
    let Some(insights) = output.pointer("/storageClass/containerInsights") else {
        return;
    };
    println!(
        "\n==> Container Insights\n{}",
        serde_json::to_string_pretty(insights).unwrap_or_default()
    );
    let (namespace, name) = insights["deployment"]
        .as_str()
        .and_then(|d| d.split_once('/'))
        .unwrap_or_default();
    if let Some(deployment) = stack.kube.object("Deployment", Some(namespace), name) {
        let pod = &deployment["spec"]["template"]["spec"];
        println!(
            "    deployment {namespace}/{name}: image {}, service account {}, runAsNonRoot {}",
            pod["containers"][0]["image"], pod["serviceAccountName"], pod["securityContext"]["runAsNonRoot"]
        );
    }
}

/// Runs the `efs-workflow` CLI built next to this binary, against this stack.
fn cli(stack: &LocalStack, args: &[&str]) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path: PathBuf = exe.with_file_name("efs-workflow");
    let status = std::process::Command::new(&path)
        .args(args)
        .envs(stack.cli_env())
        .status()
        .map_err(|e| format!("{}: {e} (build it with `cargo build -p efs-workflow`)", path.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("efs-workflow {} failed ({status})", args[0]))
    }
}
