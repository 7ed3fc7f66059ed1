//! Upstream faults seen by a CardDAV client (issue 10 item 1; DESIGN.md "Graph is the
//! truth"): the whole stack over HTTP, a delegated sign-in against the emulator, and
//! the emulator's fault injection. For each fault: the client gets 503 + Retry-After
//! (or the served mirror for reads), never a false success; a PUT that failed is not in
//! Graph; sync tokens issued before stay valid; the account recovers by itself once
//! the faults are cleared (or after a new sign-in, for a revoked consent).
//! `tests/bridge_faults.rs` covers the same at the `AddressBookStore` level.

mod faults_support;
mod prometheus_support;

use cardbridge::emulator::Fault;
use faults_support::*;

fn fault(method: &str, path: Option<&str>, status: u16, retry_after: Option<u64>) -> Fault {
    Fault {
        method: Some(method.into()),
        path_contains: path.map(Into::into),
        status: Some(status),
        retry_after,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_storm_on_create_is_503_with_retry_after_and_nothing_is_written() {
    let w = World::start(Slow::No).await;
    let t0 = w.sync_token("").await;
    let before = w.graph_count();
    let listed = w.propfind_count().await;
    w.emu.add_fault(fault("POST", None, 429, Some(30)));
    let r = w.put("storm.vcf", "uid-storm", None).await;
    assert_unavailable(&r);
    assert_eq!(w.graph_count(), before, "a refused PUT is not in Graph");
    // /metrics shows the throttling (issue 11 item 3).
    assert!(w.metric("cardbridge_graph_throttled_total").await >= 1.0);
    // Reads keep working from the mirror; the old token is still good.
    assert_eq!(w.propfind_count().await, listed);
    w.sync_token(&t0).await;

    w.emu.clear_faults();
    assert_eq!(w.put("storm.vcf", "uid-storm", None).await.status, 201);
    assert_eq!(w.graph_count(), before + 1);
    let changed = w.sync_changes(&t0).await;
    assert!(changed.contains("storm.vcf"), "{changed}");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_on_update_leave_graph_unchanged_then_recover() {
    let w = World::start(Slow::No).await;
    assert_eq!(w.put("u.vcf", "uid-u", None).await.status, 201);
    let etag = w.get("u.vcf").await.etag.expect("etag");
    for status in [503, 504, 500, 502] {
        w.emu.add_fault(fault("PATCH", None, status, Some(2)));
        let r = w.put_named("u.vcf", "uid-u", "Changed", Some(&etag)).await;
        assert_unavailable(&r);
        w.emu.clear_faults();
        let now = w.get("u.vcf").await;
        assert!(
            now.body.contains("FN:Fault uid-u") && !now.body.contains("Changed"),
            "after a failed update ({status}) Graph still has the old card: {}",
            now.body
        );
        assert_eq!(now.etag.as_deref(), Some(etag.as_str()));
    }
    let r = w.put_named("u.vcf", "uid-u", "Changed", Some(&etag)).await;
    assert_eq!(r.status, 204);
    assert!(w.get("u.vcf").await.body.contains("Changed"));
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_never_duplicate_a_create() {
    let w = World::start(Slow::No).await;
    let before = w.graph_count();
    let listed = w.propfind_count().await;
    // Dropped before Graph handled it: nothing written, the client is told to retry.
    w.emu.add_fault(Fault {
        method: Some("POST".into()),
        drop_connection: true,
        ..Default::default()
    });
    assert_unavailable(&w.put("d1.vcf", "uid-d1", None).await);
    assert_eq!(w.graph_count(), before);
    w.emu.clear_faults();
    // Dropped after Graph made the contact: resolved by UID, never a second contact.
    w.emu.add_fault(Fault {
        method: Some("POST".into()),
        drop_after: true,
        count: Some(1),
        ..Default::default()
    });
    let r = w.put("d2.vcf", "uid-d2", None).await;
    assert!(
        r.status == 201 || is_unavailable(&r),
        "create with a lost answer: {}",
        r.status
    );
    w.emu.clear_faults();
    // The client retries (as it would after a 503) and Graph ends with one contact.
    let again = w.put("d2.vcf", "uid-d2", None).await;
    assert!(matches!(again.status, 201 | 204), "{}", again.status);
    assert_eq!(
        w.graph_count(),
        before + 1,
        "exactly one contact for uid-d2"
    );
    assert_eq!(w.propfind_count().await, listed + 1);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_graph_past_the_client_timeout_is_503_and_no_duplicate_later() {
    let w = World::start(Slow::Yes).await;
    let before = w.graph_count();
    // Graph handles the create only after the client gave up (delay, no status).
    w.emu.add_fault(Fault {
        method: Some("POST".into()),
        path_contains: Some("/contacts".into()),
        delay_ms: Some(SLOW_FAULT_MS),
        count: Some(1),
        ..Default::default()
    });
    let r = w.put("slow.vcf", "uid-slow", None).await;
    assert!(
        r.status == 201 || is_unavailable(&r),
        "slow create: {}",
        r.status
    );
    // Wait (for the emulator, not for a deadline) until the late create landed.
    // (Bounded, so a regression fails instead of hanging the suite.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while w.graph_count() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the create Graph began never landed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let again = w.put("slow.vcf", "uid-slow", None).await;
    assert!(matches!(again.status, 201 | 204), "{}", again.status);
    assert_eq!(
        w.graph_count(),
        before + 1,
        "the late create is not doubled"
    );
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_token_expiring_mid_sync_is_refreshed_transparently() {
    let w = World::start(Slow::No).await;
    let t0 = w.sync_token("").await;
    w.emu.outlook_create(
        &w.mailbox,
        &w.folder,
        serde_json::json!({"givenName": "Mid", "surname": "Sync"}),
    );
    // The delta call is refused once as expired: the client refreshes and goes on.
    w.emu.add_fault(Fault {
        method: Some("GET".into()),
        path_contains: Some("/delta".into()),
        status: Some(401),
        code: Some("InvalidAuthenticationToken".into()),
        message: Some("Access token has expired or is not yet valid.".into()),
        count: Some(1),
        ..Default::default()
    });
    let changed = w.sync_changes(&t0).await;
    assert!(
        changed.contains("Mid")
            || changed.matches("<d:response>").count() == 1
            || changed.contains(".vcf"),
        "{changed}"
    );
    assert!(w.refreshes() >= 1, "the token was refreshed");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_consent_is_a_clear_error_until_signed_in_again() {
    let w = World::start(Slow::No).await;
    let t0 = w.sync_token("").await;
    let before = w.graph_count();
    w.emu.revoke(&w.mailbox);
    let r = w.put("rev.vcf", "uid-rev", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("sign in"), "clear message: {}", r.body);
    assert!(r.retry_after.is_some());
    assert_eq!(w.graph_count(), before);
    // /metrics says a person must sign in, and counts the failed token refresh.
    assert_eq!(w.metric("cardbridge_account_sign_in_required").await, 1.0);
    assert!(w.metric("cardbridge_graph_token_failures_total").await >= 1.0);
    // A new sign-in (cardbridge login) restores service; the old token is still valid.
    w.sign_in_again().await;
    assert_eq!(w.put("rev.vcf", "uid-rev", None).await.status, 201);
    assert_eq!(w.metric("cardbridge_account_sign_in_required").await, 0.0);
    let changed = w.sync_changes(&t0).await;
    assert!(changed.contains("rev.vcf"), "{changed}");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_delta_chain_keeps_client_tokens_valid_and_journals_only_real_changes() {
    let w = World::start(Slow::No).await;
    let t0 = w.sync_token("").await;
    let listed = w.propfind_count().await;
    let id = w.emu.outlook_create(
        &w.mailbox,
        &w.folder,
        serde_json::json!({"givenName": "Only", "surname": "Change"}),
    );
    let t1 = w.sync_token(&t0).await;
    w.emu
        .outlook_edit(&w.mailbox, &id, serde_json::json!({"surname": "Edited"}));
    w.emu.expire_delta_chains(&w.mailbox);
    // The bridge resyncs the folder; the client's token is still valid and the only
    // change reported is the real one.
    let changed = w.sync_changes(&t1).await;
    assert_eq!(
        changed.matches("<d:response>").count(),
        1,
        "exactly the edited card: {changed}"
    );
    assert_eq!(
        w.propfind_count().await,
        listed + 1,
        "no card lost or doubled"
    );
    w.stop().await;
}
