//! Shared setup of the bridge tests: the emulator on loopback, the real Graph client
//! pointed at it, and a bridge serving the emulator's default user as CardDAV user
//! [`USER`]. Only this file knows the emulator's admin API.
#![allow(dead_code)]

use cardbridge::bridge::{Account, Bridge, BridgeConfig, StaticAccounts};
use cardbridge::dav::store::{AddressBookStore, VCardVersion};
use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use cardbridge::graph::{GraphClient, Mailbox};
use cardbridge::state::{MemoryStore, SharedStore};
use std::sync::Arc;

/// The CardDAV user of every test.
pub const USER: &str = "alice";

pub async fn emulator() -> EmulatorHandle {
    cardbridge::emulator::start(EmulatorConfig {
        throttle: false,
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

pub fn client(emu: &EmulatorHandle, max_attempts: u32) -> GraphClient {
    let options = cardbridge::graph::GraphClientOptions {
        graph_root: emu.base_url(),
        max_attempts,
        initial_backoff: std::time::Duration::from_millis(10),
        max_retry_wait: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    GraphClient::new(
        options,
        Arc::new(cardbridge::graph::StaticToken::new(emu.default_token())),
    )
    .expect("graph client")
}

pub fn config(freshness_secs: u64) -> BridgeConfig {
    BridgeConfig {
        freshness_secs,
        folder_tree_secs: 3600,
        delta_page_size: 100,
        ..Default::default()
    }
}

pub fn bridge_with(
    emu: &EmulatorHandle,
    store: SharedStore,
    config: BridgeConfig,
    attempts: u32,
) -> Arc<Bridge> {
    let account = Account {
        key: "alice-account".into(),
        client: client(emu, attempts),
        mailbox: Mailbox::Me,
        display_name: "Alice".into(),
    };
    Arc::new(Bridge::new(
        store,
        config,
        Arc::new(StaticAccounts::new().with(USER, account)),
    ))
}

pub fn bridge(emu: &EmulatorHandle, freshness_secs: u64) -> Arc<Bridge> {
    bridge_with(emu, Arc::new(MemoryStore::new()), config(freshness_secs), 3)
}

/// Graph requests the emulator served since the last reset (a `$batch` counts once).
pub fn requests(emu: &EmulatorHandle) -> u64 {
    emu.stats().total
}

pub fn user(emu: &EmulatorHandle) -> String {
    emu.default_user()
}

/// Every card of a book as (name, body) in V3.
pub async fn cards(b: &Bridge, book: &str) -> Vec<(String, String)> {
    let metas = b
        .list_cards(USER, book, VCardVersion::V3)
        .await
        .expect("list");
    let names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
    let cards = b
        .get_cards(USER, book, &names, VCardVersion::V3)
        .await
        .expect("get");
    cards
        .into_iter()
        .map(|c| {
            let c = c.expect("listed card exists");
            (
                c.meta.name,
                String::from_utf8(c.body.to_vec()).expect("utf-8"),
            )
        })
        .collect()
}

/// A small vCard 3.0.
pub fn vcard(uid: &str, given: &str, family: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {family}\r\nN:{family};{given};;;\r\nEMAIL;TYPE=INTERNET:{given}@example.org\r\nX-CUSTOM:kept\r\nEND:VCARD\r\n"
    ))
}
