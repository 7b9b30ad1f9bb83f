//! A Task that invokes one of the workflow's Lambda functions: the function, its payload, what is
//! kept of the result and where, and the catch. The retriers come from the machine's retry policy.

use crate::asl::{Catcher, Task};
use crate::json::Obj;
use crate::retry::{Reach, RetryPolicy};
use efs_fargate_core::functions::Function;

pub struct LambdaTask {
    function: Function,
    payload: Obj,
    reach: Reach,
    comment: Option<String>,
    result: Option<(Obj, String)>,
    output_path: Option<String>,
    catch: Vec<Catcher>,
}

impl LambdaTask {
    /// Invokes `function` with `payload`; what the call reaches is the function's (see [`reach`]).
    pub fn invoke(function: Function, payload: Obj) -> Self {
        Self {
            function,
            payload,
            reach: reach(function),
            comment: None,
            result: None,
            output_path: None,
            catch: vec![],
        }
    }

    pub fn comment(mut self, comment: &str) -> Self {
        self.comment = Some(comment.to_string());
        self
    }

    /// For a function whose actions differ in what they reach.
    pub fn reaching(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    /// Keeps `selector` of the Lambda response (`$.Payload...`) at `path` of the state.
    pub fn result(mut self, selector: Obj, path: &str) -> Self {
        self.result = Some((selector, path.to_string()));
        self
    }

    /// Passes on only `path` of the state (after `result` placed the result in it).
    pub fn output(mut self, path: &str) -> Self {
        self.output_path = Some(path.to_string());
        self
    }

    /// Records any error at `result_path` and goes on to `next`.
    pub fn catch_all(mut self, result_path: &str, next: &str) -> Self {
        self.catch = Catcher::all(result_path, next);
        self
    }

    pub(crate) fn add_to_payload(mut self, entries: Obj) -> Self {
        self.payload = self.payload.extend(entries);
        self
    }

    pub fn build(self, policy: &RetryPolicy, next: &str) -> Task {
        let (result_selector, result_path) = self
            .result
            .unwrap_or_else(|| panic!("a {} task without `result`", self.function.name()));
        Task {
            comment: self.comment,
            resource: "arn:aws:states:::lambda:invoke",
            parameters: Obj::new()
                .set("FunctionName", self.function.arn_placeholder())
                .set("Payload", self.payload),
            result_selector,
            result_path,
            output_path: self.output_path,
            retry: policy.retriers(self.reach),
            catch: self.catch,
            next: next.to_string(),
        }
    }
}

/// What each function talks to. `cleanup` reaches Kubernetes in one action only, which says so
/// with [`LambdaTask::reaching`]; `prepare` creates the access entry through the EKS API and never
/// calls Kubernetes itself.
fn reach(function: Function) -> Reach {
    match function {
        Function::FargateProfile | Function::StorageClass | Function::PocApp | Function::Validate => Reach::Kubernetes,
        Function::Prepare | Function::Efs | Function::Cleanup | Function::Rollback | Function::TtlReaper => Reach::Aws,
    }
}
