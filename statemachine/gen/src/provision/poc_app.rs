//! epic04 and epic05, only with `deployPocApp`: the PoC app until both pods run, the cross-read,
//! the persistence check and its report. A poll cap records its error and rolls back.

use crate::asl::States;
use crate::machine_errors::MachineError;
use crate::poll::{PollLoop, poll_selector};
use crate::retry::RetryPolicy;
use crate::task::LambdaTask;
use efs_fargate_core::functions::Function;

use super::{file_system_payload, record_and_roll_back, rolls_back};

pub fn add_poc_app_and_validation(states: &mut States, policy: &RetryPolicy) {
    states.extend(
        PollLoop {
            task: (
                "PocApp".into(),
                rolls_back(
                    LambdaTask::invoke(Function::PocApp, file_system_payload("converge"))
                        .comment("epic04: static PV and PVC, then (once the claim is Bound) pods poc-app1/poc-app2; ready once both run."),
                ),
            ),
            result_path: "$.app".into(),
            before_ready: vec![],
            check: "ArePodsRunning".into(),
            wait: "WaitForPods".into(),
            on_ready: "ValidateCrossRead".into(),
            cap: 40,
            cap_state: "PodsNotRunningTimeout".into(),
            on_cap: record_and_roll_back(
                MachineError::PodsNotRunningTimeout,
                "States.Format('PoC pods not Running after {} polls: {}', $.app.attempt, $.app.detail)",
            ),
        }
        .states(policy),
    );
    states.extend(
        PollLoop {
            task: (
                "ValidateCrossRead".into(),
                rolls_back(
                    LambdaTask::invoke(Function::Validate, file_system_payload("cross-read"))
                        .comment("epic05: each workload reads the other's file."),
                ),
            ),
            result_path: "$.validation.crossRead".into(),
            before_ready: vec![],
            check: "IsCrossReadDone".into(),
            wait: "WaitForCrossRead".into(),
            on_ready: "ValidatePersistence".into(),
            cap: 30,
            cap_state: "CrossReadTimeout".into(),
            on_cap: record_and_roll_back(
                MachineError::ValidationTimeout,
                "States.Format('cross-read validation not done after {} polls', $.validation.crossRead.attempt)",
            ),
        }
        .states(policy),
    );
    states.add(
        "ValidatePersistence",
        rolls_back(
            LambdaTask::invoke(Function::Validate, file_system_payload("persistence").set("attempt", 0))
                .comment("epic05: deletes the app objects (the PV is Retain) and starts a reader on a fresh PV/PVC.")
                .result(poll_selector(), "$.validation.persistence"),
        )
        .build(policy, "ValidateReport"),
    );
    states.extend(
        PollLoop {
            task: (
                "ValidateReport".into(),
                rolls_back(
                    LambdaTask::invoke(Function::Validate, file_system_payload("report"))
                        .comment("epic05: the fresh reader lists /data; the final output carries the report."),
                ),
            ),
            result_path: "$.validation.report".into(),
            before_ready: vec![],
            check: "IsReportReady".into(),
            wait: "WaitForReport".into(),
            on_ready: super::END_RUN_WITH_POC_APP.into(),
            cap: 30,
            cap_state: "ReportTimeout".into(),
            on_cap: record_and_roll_back(
                MachineError::ValidationTimeout,
                "States.Format('validation report not ready after {} polls', $.validation.report.attempt)",
            ),
        }
        .states(policy),
    );
}
