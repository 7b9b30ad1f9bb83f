//! Seeded fault injection on the handlers' AWS calls: throttling, 5xx and dropped connections,
//! each answered in the service's own protocol, before anything reaches moto.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::response::Response;
use http::StatusCode;

use crate::config::{FaultConfig, FaultKind};
use crate::error::GatewayError;
use crate::protocol_errors::{self, AwsError, Protocol};
use crate::server;

/// The services whose calls may be faulted: the handlers' EKS, EFS, KMS, EC2 and STS calls.
const FAULTED_SERVICES: [&str; 5] = ["eks", "elasticfilesystem", "kms", "ec2", "sts"];

const THROTTLE_JSON: AwsError<'static> = AwsError {
    status: StatusCode::BAD_REQUEST,
    code: "ThrottlingException",
    message: "Rate exceeded (injected by the local gateway)",
};
/// EC2 throttles with a 503, unlike the other services.
const THROTTLE_EC2: AwsError = AwsError {
    status: StatusCode::SERVICE_UNAVAILABLE,
    code: "RequestLimitExceeded",
    message: "Request limit exceeded (injected by the local gateway)",
};
const THROTTLE_QUERY: AwsError<'static> = AwsError {
    status: StatusCode::BAD_REQUEST,
    code: "Throttling",
    message: "Rate exceeded (injected by the local gateway)",
};
const INTERNAL_ERROR: AwsError<'static> = AwsError {
    status: StatusCode::INTERNAL_SERVER_ERROR,
    code: "InternalError",
    message: "We encountered an internal error, please try again (injected by the local gateway)",
};
const SERVICE_UNAVAILABLE: AwsError<'static> = AwsError {
    status: StatusCode::SERVICE_UNAVAILABLE,
    code: "ServiceUnavailable",
    message: "The service is unavailable, please try again shortly (injected by the local gateway)",
};

/// Decides, request by request, whether and how to fail.
#[derive(Debug)]
pub(crate) struct Faults {
    rate: f64,
    kinds: Vec<FaultKind>,
    /// One RNG for all connections, so a seed and a request order give one sequence of faults.
    rng: Mutex<fastrand::Rng>,
    request_ids: AtomicU64,
}

/// One injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub kind: FaultKind,
    /// Set for [`FaultKind::Throttle`] and [`FaultKind::ServerError`].
    error: Option<(Protocol, AwsError<'static>)>,
    request_id: u64,
}

impl Faults {
    /// `None` when the rate is 0: nothing is ever injected.
    pub(crate) fn new(config: &FaultConfig) -> Result<Option<Self>, GatewayError> {
        if !(0.0..=1.0).contains(&config.rate) {
            return Err(GatewayError::FaultRate(config.rate));
        }
        if config.rate == 0.0 {
            return Ok(None);
        }
        if config.kinds.is_empty() {
            return Err(GatewayError::NoFaultKinds);
        }
        Ok(Some(Self {
            rate: config.rate,
            kinds: config.kinds.clone(),
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            request_ids: AtomicU64::new(1),
        }))
    }

    /// Whether the request to `service` fails. Only the services the handlers call are eligible:
    /// Lambda invokes and Step Functions calls (the engine's, the CLI's) always go through.
    pub(crate) fn pick(&self, service: Option<&str>) -> Option<Fault> {
        let protocol = service
            .filter(|s| FAULTED_SERVICES.contains(s))
            .map(Protocol::of_service)?;
        let (kind, unavailable) = {
            let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if rng.f64() >= self.rate {
                return None;
            }
            (self.kinds[rng.usize(..self.kinds.len())], rng.bool())
        };
        let error = match (kind, protocol) {
            (FaultKind::Drop, _) => None,
            (FaultKind::Throttle, Protocol::Json) => Some(THROTTLE_JSON),
            (FaultKind::Throttle, Protocol::Ec2) => Some(THROTTLE_EC2),
            (FaultKind::Throttle, Protocol::Query) => Some(THROTTLE_QUERY),
            (FaultKind::ServerError, _) if unavailable => Some(SERVICE_UNAVAILABLE),
            (FaultKind::ServerError, _) => Some(INTERNAL_ERROR),
        };
        Some(Fault {
            kind,
            error: error.map(|e| (protocol, e)),
            request_id: self.request_ids.fetch_add(1, Ordering::Relaxed),
        })
    }
}

impl Fault {
    /// The error response, or for [`FaultKind::Drop`] the marker that makes the server close the
    /// connection without answering.
    pub(crate) fn response(&self) -> Response {
        match self.error {
            Some((protocol, error)) => protocol_errors::response(
                protocol,
                error,
                &format!("00000000-0000-4000-8000-{:012x}", self.request_id),
            ),
            None => server::drop_connection(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(rate: f64, kinds: &[FaultKind]) -> Faults {
        Faults::new(&FaultConfig {
            rate,
            seed: 7,
            kinds: kinds.to_vec(),
        })
        .unwrap()
        .expect("a rate above 0 injects")
    }

    #[test]
    fn only_the_handlers_services_are_faulted() {
        let always = faults(1.0, &FaultKind::ALL);
        for service in ["ec2", "elasticfilesystem", "eks", "kms", "sts"] {
            assert!(always.pick(Some(service)).is_some(), "{service}");
        }
        for service in [Some("states"), Some("lambda"), Some("s3"), None] {
            assert_eq!(always.pick(service), None, "{service:?}");
        }
    }

    #[test]
    fn each_protocol_throttles_its_own_way() {
        let throttle = faults(1.0, &[FaultKind::Throttle]);
        let status = |service| throttle.pick(Some(service)).unwrap().response().status();
        assert_eq!(status("eks"), StatusCode::BAD_REQUEST);
        assert_eq!(status("kms"), StatusCode::BAD_REQUEST);
        assert_eq!(status("sts"), StatusCode::BAD_REQUEST);
        assert_eq!(status("ec2"), StatusCode::SERVICE_UNAVAILABLE);
        let json = throttle.pick(Some("elasticfilesystem")).unwrap().response();
        assert_eq!(json.headers()["x-amzn-errortype"], "ThrottlingException");
    }

    #[test]
    fn a_seed_gives_one_sequence_at_the_configured_rate() {
        let run = || {
            let some = faults(0.3, &FaultKind::ALL);
            (0..1000)
                .map(|_| some.pick(Some("eks")).map(|f| f.kind))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let injected = first.iter().flatten().count();
        assert!((200..400).contains(&injected), "{injected} of 1000 at rate 0.3");
        for kind in FaultKind::ALL {
            assert!(first.contains(&Some(kind)), "{kind} never picked");
        }
    }

    #[test]
    fn rates_outside_zero_to_one_and_empty_kinds_are_refused() {
        let config = |rate, kinds: Vec<FaultKind>| FaultConfig { rate, seed: 1, kinds };
        assert!(matches!(
            Faults::new(&config(1.5, FaultKind::ALL.to_vec())),
            Err(GatewayError::FaultRate(_))
        ));
        assert!(matches!(
            Faults::new(&config(0.5, vec![])),
            Err(GatewayError::NoFaultKinds)
        ));
        assert!(Faults::new(&config(0.0, vec![])).unwrap().is_none());
    }
}
