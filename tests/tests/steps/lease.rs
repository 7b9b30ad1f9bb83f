//! The lease (`efs_fargate_core::lease`) against moto's DynamoDB: acquire, extend, expiry,
//! release, hand-over, takeover of ended or unknown executions, and two claimants racing.

use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::lease::{self, Acquire, Claim, HandOver, Held, HolderStatus, LeaseKey, Released};
use jiff::Timestamp;
use std::time::Duration;
use workflow_tests::{LEASE_TABLE, OrPanic, World};

const FIRST: &str = "run-first";
const SECOND: &str = "run-second";
const HOUR: Duration = Duration::from_secs(3600);

fn claim(holder: &str) -> Claim<'_> {
    Claim {
        holder,
        purpose: "provision",
        duration: HOUR,
    }
}

fn t0() -> Timestamp {
    "2026-11-30T10:00:00Z".parse().unwrap()
}

fn key() -> LeaseKey {
    LeaseKey::namespace("demo", "team-a")
}

async fn acquire(clients: &AwsClients, holder: &str, now: Timestamp) -> Acquire {
    lease::acquire(&clients.dynamodb, LEASE_TABLE, &key(), &claim(holder), now)
        .await
        .unwrap()
}

/// The stored item, or `None` when there is none.
async fn stored(clients: &AwsClients) -> Option<Held> {
    let got = clients
        .dynamodb
        .get_item()
        .table_name(LEASE_TABLE)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key().to_string()))
        .consistent_read(true)
        .send()
        .await
        .or_panic("dynamodb get_item");
    got.item().map(|item| Held::from_item(item).unwrap())
}

/// The lease as `holder` holds it until `expires_at`.
fn lease_of(holder: &str, expires_at: Timestamp) -> Held {
    Held {
        holder: holder.into(),
        expires_at,
    }
}

fn held(holder: &str, expires_at: Timestamp) -> Acquire {
    Acquire::Held(lease_of(holder, expires_at))
}

#[tokio::test]
async fn one_holder_at_a_time_until_expiry() {
    let world = World::empty().await.with_lease_table().await;
    let clients = &world.clients;
    let expires = t0() + HOUR;
    assert_eq!(
        acquire(clients, FIRST, t0()).await,
        Acquire::Acquired { expires_at: expires }
    );
    assert_eq!(stored(clients).await, Some(lease_of(FIRST, expires)));

    // Another holder is refused, named, and nothing changes.
    assert_eq!(acquire(clients, SECOND, t0()).await, held(FIRST, expires));
    let err = acquire(clients, SECOND, t0())
        .await
        .or_run_in_progress(&key())
        .unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert!(err.to_string().contains(FIRST), "{err}");

    // The holder acquiring again extends its lease.
    let later = t0() + Duration::from_secs(600);
    assert_eq!(
        acquire(clients, FIRST, later).await,
        Acquire::Acquired {
            expires_at: later + HOUR
        }
    );
    assert_eq!(stored(clients).await.unwrap().expires_at, later + HOUR);

    // At the expiry second it is still held; one second after, anyone may take it.
    let expiry = later + HOUR;
    assert_eq!(acquire(clients, SECOND, expiry).await, held(FIRST, expiry));
    let after = expiry + Duration::from_secs(1);
    assert_eq!(
        acquire(clients, SECOND, after).await,
        Acquire::Acquired {
            expires_at: after + HOUR
        }
    );
    assert_eq!(stored(clients).await.unwrap().holder, SECOND);
}

#[tokio::test]
async fn release_only_by_the_holder() {
    let world = World::empty().await.with_lease_table().await;
    let clients = &world.clients;
    acquire(clients, FIRST, t0()).await;
    let key = key();
    let release = |holder| lease::release(&clients.dynamodb, LEASE_TABLE, &key, holder);

    assert_eq!(
        release(SECOND).await.unwrap(),
        Released::HeldByOther(lease_of(FIRST, t0() + HOUR))
    );
    assert_eq!(stored(clients).await.unwrap().holder, FIRST);

    assert_eq!(release(FIRST).await.unwrap(), Released::Released);
    assert_eq!(stored(clients).await, None);
    assert_eq!(release(FIRST).await.unwrap(), Released::AlreadyGone);
    assert_eq!(
        acquire(clients, SECOND, t0()).await,
        Acquire::Acquired {
            expires_at: t0() + HOUR
        }
    );
}

#[tokio::test]
async fn hand_over_only_from_the_holder() {
    let world = World::empty().await.with_lease_table().await;
    let clients = &world.clients;
    let cleanup = Claim {
        holder: "rollback-cleanup",
        purpose: "cleanup",
        duration: Duration::from_secs(7200),
    };
    let later = t0() + Duration::from_secs(60);
    let key = key();
    let hand_over = |from| lease::hand_over(&clients.dynamodb, LEASE_TABLE, &key, from, &cleanup, later);

    assert_eq!(hand_over(FIRST).await.unwrap(), HandOver::Gone);
    acquire(clients, FIRST, t0()).await;
    assert_eq!(
        hand_over(SECOND).await.unwrap(),
        HandOver::HeldByOther(lease_of(FIRST, t0() + HOUR))
    );
    assert_eq!(stored(clients).await.unwrap().holder, FIRST);

    let handed = HandOver::HandedOver {
        expires_at: later + Duration::from_secs(7200),
    };
    assert_eq!(hand_over(FIRST).await.unwrap(), handed);
    // A retried hand-over (the step ran twice) succeeds again.
    assert_eq!(hand_over(FIRST).await.unwrap(), handed);
    assert_eq!(
        stored(clients).await,
        Some(lease_of(cleanup.holder, later + Duration::from_secs(7200)))
    );
    assert_eq!(
        acquire(clients, FIRST, later).await,
        held(cleanup.holder, later + Duration::from_secs(7200))
    );
}

#[tokio::test]
async fn a_finished_or_unknown_execution_is_taken_over() {
    let world = World::empty().await.with_lease_table().await;
    let clients = &world.clients;
    // Without its engine moto records an execution as RUNNING until it is stopped: a crashed run.
    let state_machine = world.stand_in_cleanup_state_machine().await;
    let finished = clients
        .sfn
        .start_execution()
        .state_machine_arn(&state_machine)
        .name("crashed-run")
        .send()
        .await
        .or_panic("sfn start_execution")
        .execution_arn()
        .to_string();
    let running = lease::holder_status(&clients.sfn, &finished).await.unwrap();
    assert_eq!(running, HolderStatus::Running);
    clients
        .sfn
        .stop_execution()
        .execution_arn(&finished)
        .send()
        .await
        .or_panic("sfn stop_execution");
    let status = lease::holder_status(&clients.sfn, &finished).await.unwrap();
    assert_eq!(
        status,
        HolderStatus::Ended(aws_sdk_sfn::types::ExecutionStatus::Aborted)
    );
    let missing = state_machine.replace(":stateMachine:", ":execution:") + ":never-started";

    let mut now = t0();
    let mut holder = finished.clone();
    for next in [missing.as_str(), SECOND] {
        assert_eq!(
            acquire(clients, &holder, now).await,
            Acquire::Acquired { expires_at: now + HOUR }
        );
        now += Duration::from_secs(60);
        let taken =
            lease::acquire_or_take_over(&clients.dynamodb, &clients.sfn, LEASE_TABLE, &key(), &claim(next), now)
                .await
                .unwrap();
        assert_eq!(
            taken,
            Acquire::Acquired { expires_at: now + HOUR },
            "taking over from {holder}"
        );
        assert_eq!(stored(clients).await.unwrap().holder, next);
        lease::release(&clients.dynamodb, LEASE_TABLE, &key(), next)
            .await
            .unwrap();
        holder = next.to_string();
    }

    // A holder that is not an execution ARN cannot be checked: it keeps the lease until expiry.
    acquire(clients, FIRST, now).await;
    let outcome = lease::acquire_or_take_over(
        &clients.dynamodb,
        &clients.sfn,
        LEASE_TABLE,
        &key(),
        &claim(&finished),
        now,
    )
    .await
    .unwrap();
    assert_eq!(outcome, held(FIRST, now + HOUR));
}

#[tokio::test]
async fn a_takeover_is_conditional_on_the_old_holder() {
    let world = World::empty().await.with_lease_table().await;
    let clients = &world.clients;
    let ended = "arn:aws:states:us-east-1:123456789012:execution:gone:run";
    acquire(clients, ended, t0()).await;
    let stale = lease_of(ended, t0() + HOUR);
    let key = key();
    let (first, second) = (claim(FIRST), claim(SECOND));
    let take = |claim| lease::take_over(&clients.dynamodb, &clients.sfn, LEASE_TABLE, &key, &stale, claim, t0());
    assert_eq!(
        take(&first).await.unwrap(),
        Acquire::Acquired {
            expires_at: t0() + HOUR
        }
    );
    // The second claimant saw the same dead holder, but the lease has moved on.
    assert_eq!(take(&second).await.unwrap(), held(FIRST, t0() + HOUR));
    assert_eq!(stored(clients).await.unwrap().holder, FIRST);
}

#[tokio::test]
async fn of_two_concurrent_claimants_exactly_one_wins() {
    let world = World::empty().await.with_lease_table().await;
    let clients = &world.clients;
    let (first, second) = (claim(FIRST), claim(SECOND));
    for round in 0..5 {
        let key = LeaseKey::fargate_profiles(&format!("cluster-{round}"));
        let (first, second) = tokio::join!(
            lease::acquire(&clients.dynamodb, LEASE_TABLE, &key, &first, t0()),
            lease::acquire(&clients.dynamodb, LEASE_TABLE, &key, &second, t0()),
        );
        let outcomes = [first.unwrap(), second.unwrap()];
        let winners: Vec<&str> = [FIRST, SECOND]
            .into_iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| matches!(outcome, Acquire::Acquired { .. }))
            .map(|(holder, _)| holder)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        let loser = outcomes.iter().find(|o| matches!(o, Acquire::Held(_))).unwrap();
        assert_eq!(loser, &held(winners[0], t0() + HOUR), "round {round}");
    }
}
