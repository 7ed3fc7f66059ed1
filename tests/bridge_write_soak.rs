//! Write soak under upstream faults (issue 7 "Done when"; DESIGN.md "Graph is the
//! truth"): 500 PUTs (creates and updates) through the `AddressBookStore` API while about
//! a fifth of Graph requests fail — 429 with `Retry-After` 0 or 1, 503, connections
//! dropped before handling, and connections dropped after handling (the answer lost).
//!
//! At the end, read straight from the emulator: every acknowledged card is there once
//! (counted by the UID extended property) with the acknowledged content or with a later
//! write the client sent but never heard back about; a card never acknowledged is
//! absent or holds one of its writes completely; nothing else exists.

mod bridge_support;

use bridge_support::*;
use cardbridge::bridge::hrefs::DEFAULT_BOOK;
use cardbridge::dav::store::{AddressBookStore, Precondition, StoreError};
use cardbridge::emulator::Fault;
use cardbridge::vcard::UID_PROPERTY_ID;
use std::collections::HashMap;

const TASKS: usize = 4;
const CARDS_PER_TASK: usize = 25;
const PUTS_PER_TASK: usize = 125;

/// What one card's client knows.
#[derive(Debug, Default, Clone)]
struct Ledger {
    /// Version of the last acknowledged write.
    acked: Option<usize>,
    /// Versions sent after it without an acknowledgement.
    unacked: Vec<usize>,
}

fn given(card: usize, version: usize) -> String {
    format!("G{card}v{version}")
}

fn faults(emu: &cardbridge::emulator::EmulatorHandle) {
    let graph = Some("/v1.0/".to_owned());
    for f in [
        Fault {
            status: Some(429),
            retry_after: Some(0),
            probability: Some(0.04),
            ..Default::default()
        },
        Fault {
            status: Some(429),
            retry_after: Some(1),
            probability: Some(0.04),
            ..Default::default()
        },
        Fault {
            status: Some(503),
            probability: Some(0.04),
            ..Default::default()
        },
        Fault {
            drop_connection: true,
            probability: Some(0.04),
            ..Default::default()
        },
        Fault {
            drop_after: true,
            probability: Some(0.05),
            ..Default::default()
        },
    ] {
        emu.add_fault(Fault {
            path_contains: graph.clone(),
            ..f
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_puts_under_faults_lose_and_duplicate_nothing() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    emu.reset_stats();
    faults(&emu);

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            let mut ledgers: Vec<Ledger> = vec![Ledger::default(); CARDS_PER_TASK];
            let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
            // A fixed, interleaved order: every card created first, then updates.
            for n in 0..PUTS_PER_TASK {
                let local = (n * 7 + t) % CARDS_PER_TASK;
                let card = t * CARDS_PER_TASK + local;
                let version = n;
                let body = vcard(&format!("soak-{card}"), &given(card, version), "Soak");
                let out = b
                    .put_card(
                        USER,
                        DEFAULT_BOOK,
                        &format!("soak-{card}.vcf"),
                        body,
                        Precondition::default(),
                    )
                    .await;
                let l = &mut ledgers[local];
                match out {
                    Ok(_) => {
                        l.acked = Some(version);
                        l.unacked.clear();
                        *outcomes.entry("ok").or_default() += 1;
                    }
                    Err(e) => {
                        l.unacked.push(version);
                        let kind = match e {
                            StoreError::Unavailable { .. } => "503",
                            StoreError::PreconditionFailed => "412",
                            other => panic!("unexpected answer to a PUT: {other:?}"),
                        };
                        *outcomes.entry(kind).or_default() += 1;
                    }
                }
            }
            (t, ledgers, outcomes)
        }));
    }
    let mut ledgers: HashMap<usize, Ledger> = HashMap::new();
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    for task in tasks {
        let (t, ls, o) = task.await.unwrap();
        for (local, l) in ls.into_iter().enumerate() {
            ledgers.insert(t * CARDS_PER_TASK + local, l);
        }
        for (k, v) in o {
            *outcomes.entry(k).or_default() += v;
        }
    }
    emu.clear_faults();
    let stats = emu.stats();
    println!(
        "outcomes {outcomes:?}; {} Graph requests, {} faulted",
        stats.total, stats.faults_injected
    );
    assert_eq!(outcomes.values().sum::<usize>(), TASKS * PUTS_PER_TASK);
    assert!(
        stats.faults_injected * 10 >= stats.total,
        "faults fired on at least 10 % of requests"
    );
    assert!(
        outcomes.get("ok").copied().unwrap_or(0) > 250,
        "{outcomes:?}"
    );

    // Graph's state, by the UID extended property.
    let mut by_uid: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for c in emu.all_contacts(&user(&emu)) {
        let uid = c["singleValueExtendedProperties"]
            .as_array()
            .and_then(|ps| {
                ps.iter()
                    .find(|p| p["id"] == UID_PROPERTY_ID)
                    .and_then(|p| p["value"].as_str().map(str::to_owned))
            })
            .expect("every contact carries its UID");
        by_uid.entry(uid).or_default().push(c);
    }
    for (uid, cs) in &by_uid {
        assert_eq!(cs.len(), 1, "duplicate contacts for {uid}");
        assert!(uid.starts_with("soak-"), "stray contact {uid}");
    }
    for (card, l) in &ledgers {
        let uid = format!("soak-{card}");
        let Some(c) = by_uid.get(&uid).map(|cs| &cs[0]) else {
            assert!(l.acked.is_none(), "acknowledged card {uid} is missing");
            continue;
        };
        let allowed: Vec<usize> = l.acked.into_iter().chain(l.unacked.clone()).collect();
        let g = c["givenName"].as_str().unwrap_or_default();
        let version = allowed
            .iter()
            .copied()
            .find(|v| given(*card, *v) == g)
            .unwrap_or_else(|| panic!("{uid} holds {g}, not one of {allowed:?}"));
        // Complete: every field of that write, not a mix of two.
        let email = c["emailAddresses"][0]["address"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            email,
            format!("{}@example.org", given(*card, version)),
            "{uid}"
        );
        assert_eq!(c["surname"], "Soak");
        if let Some(acked) = l.acked {
            assert!(
                version >= acked,
                "{uid}: an older write overwrote an acknowledged one"
            );
        }
    }

    // The bridge serves what Graph holds, once per card, at the client's names.
    b.warm_up(USER).await.unwrap();
    let served = cards(&b, DEFAULT_BOOK).await;
    assert_eq!(served.len(), by_uid.len(), "one served card per contact");
    for (name, body) in served {
        let uid = name.trim_end_matches(".vcf");
        let c = &by_uid
            .get(uid)
            .unwrap_or_else(|| panic!("{name} has no contact"))[0];
        let g = c["givenName"].as_str().unwrap_or_default();
        assert!(
            body.contains(&format!("\r\nFN:{g} Soak\r\n")),
            "{name}: {body}"
        );
        assert!(
            body.contains("X-CUSTOM:kept"),
            "the stash came along: {body}"
        );
    }
    emu.shutdown().await;
}
