//! Starting the emulator and driving it from Rust tests ([`EmulatorHandle`]).
//!
//! The handle's helpers panic with a clear message when given an unknown user, folder or
//! contact: they are test fixtures, and a silent no-op would hide the mistake. Each has a
//! fallible twin on the admin API for scripts.

use super::faults::Fault;
use super::oauth::OAuth;
use super::server::{self, Shared};
use super::stats::Stats;
use super::throttle::Throttle;
use super::world::{Settings, World};
use super::{CLIENT_ID, EmulatorConfig};
use crate::graph::model::ContactFolder;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// A running emulator.
pub struct EmulatorHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Start the emulator on `config.listen` with one empty default user.
pub async fn start(config: EmulatorConfig) -> anyhow::Result<EmulatorHandle> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mut world = World::default();
    world.settings = Settings {
        personal: config.personal,
        ..Settings::default()
    };
    let default_user = world.add_user(&config.default_upn, "Demo User");
    let shared = Arc::new(Shared::new(
        world,
        OAuth::new(config.access_token_lifetime, config.device_code_interval),
        Throttle::new(config.throttle),
        config.auto_approve,
        default_user,
        CLIENT_ID.to_owned(),
        format!("http://{addr}"),
    ));
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
    tracing::info!(%addr, "graph emulator listening");
    Ok(EmulatorHandle {
        shared,
        addr,
        stop,
        task,
    })
}

fn must<T>(r: Result<T, super::errors::GraphErr>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("emulator: {what}: {} {}", e.code, e.message),
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the Graph root (append `/v1.0`) and the OAuth authority.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.base_url())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Id of the pre-created user.
    pub fn default_user(&self) -> String {
        self.shared.default_user.clone()
    }

    /// A new mailbox with an empty default Contacts folder; returns the user id.
    pub fn add_user(&self, upn: &str) -> String {
        self.shared.op_add_user(upn)
    }

    /// A valid delegated access token for `user_id`.
    pub fn mint_token(&self, user_id: &str) -> String {
        must(self.shared.op_mint_token(user_id), "mint_token")
    }

    /// An app-only access token (client credentials).
    pub fn mint_app_token(&self) -> String {
        self.shared.oauth.mint_access(None, &self.shared.client_id)
    }

    pub fn default_token(&self) -> String {
        self.mint_token(&self.default_user())
    }

    /// The app id the OAuth endpoints advertise (any id is accepted).
    pub fn client_id(&self) -> String {
        self.shared.client_id.clone()
    }

    /// `n` deterministic sample contacts over the default folder and three child folders.
    pub fn seed_sample(&self, user_id: &str, n: usize, rng_seed: u64) {
        must(
            self.shared.op_seed_sample(user_id, n, rng_seed),
            "seed_sample",
        );
    }

    /// Load a seed document (see `seed`).
    pub fn seed_json(&self, json: &str) -> anyhow::Result<()> {
        self.shared.op_seed_json(json)
    }

    pub fn default_folder_id(&self, user_id: &str) -> String {
        must(
            self.shared.op_default_folder_id(user_id),
            "default_folder_id",
        )
    }

    /// Every folder, the default one first.
    pub fn folders(&self, user_id: &str) -> Vec<ContactFolder> {
        must(self.shared.op_folders(user_id), "folders")
    }

    /// Create a folder (`None` parent = under the default folder); returns its id.
    pub fn create_folder(&self, user_id: &str, parent_id: Option<&str>, name: &str) -> String {
        must(
            self.shared.op_create_folder(user_id, parent_id, name),
            "create_folder",
        )
    }

    /// Create a contact as Outlook would; returns its immutable id.
    pub fn outlook_create(
        &self,
        user_id: &str,
        folder_id: &str,
        contact: serde_json::Value,
    ) -> String {
        must(
            self.shared
                .op_outlook_create(user_id, Some(folder_id), &contact),
            "outlook_create",
        )
    }

    /// Edit like the Outlook UI: new changeKey, visible in delta, extended properties untouched.
    pub fn outlook_edit(&self, user_id: &str, id: &str, patch: serde_json::Value) {
        must(
            self.shared.op_outlook_edit(user_id, id, &patch),
            "outlook_edit",
        );
    }

    /// Give a contact a picture as Outlook would: new changeKey, visible in delta, and the
    /// MAPI has-picture extended property set (graph.md §4.6, §5.1).
    pub fn outlook_set_photo(&self, user_id: &str, id: &str, content_type: &str, bytes: Vec<u8>) {
        must(
            self.shared
                .op_outlook_set_photo(user_id, id, content_type, bytes.into()),
            "outlook_set_photo",
        );
    }

    pub fn outlook_delete(&self, user_id: &str, id: &str) {
        must(self.shared.op_outlook_delete(user_id, id), "outlook_delete");
    }

    /// Move a contact; its default id changes, its immutable id does not.
    pub fn move_contact(&self, user_id: &str, id: &str, to_folder: &str) {
        must(self.shared.op_move(user_id, id, to_folder), "move_contact");
    }

    /// The contact as Graph returns it (immutable id, all extended properties), if it exists.
    pub fn contact(&self, user_id: &str, id: &str) -> Option<serde_json::Value> {
        self.shared.op_contact(user_id, id).ok()
    }

    /// Every contact of the mailbox (immutable ids, all extended properties).
    pub fn all_contacts(&self, user_id: &str) -> Vec<serde_json::Value> {
        must(self.shared.op_all_contacts(user_id), "all_contacts")
    }

    /// Contacts in every folder of the mailbox.
    pub fn contact_count(&self, user_id: &str) -> usize {
        must(self.shared.op_contact_count(user_id), "contact_count")
    }

    /// A contact's stored photo (media type, bytes); `None` when it has none or is unknown.
    pub fn photo(&self, user_id: &str, id: &str) -> Option<(String, Vec<u8>)> {
        self.shared.op_photo(user_id, id).ok().flatten()
    }

    /// Contacts with a photo in every folder of the mailbox.
    pub fn contacts_with_photo(&self, user_id: &str) -> usize {
        must(
            self.shared.op_contacts_with_photo(user_id),
            "contacts_with_photo",
        )
    }

    /// Every delta link of the mailbox answers 410 from now on.
    pub fn expire_delta_chains(&self, user_id: &str) {
        must(self.shared.op_expire_delta(user_id), "expire_delta_chains");
    }

    /// Approve a pending device code for `user_id`; false when none is pending.
    pub fn approve_device_code(&self, user_code: &str, user_id: &str) -> bool {
        self.shared.op_approve_device(user_code, user_id)
    }

    /// Revoke consent: refresh tokens → `invalid_grant`, access tokens → 401.
    pub fn revoke(&self, user_id: &str) {
        must(self.shared.op_revoke(user_id), "revoke");
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.add(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The faults still armed (a counted fault disappears when its last request arrives).
    pub fn faults(&self) -> Vec<Fault> {
        self.shared.faults.list()
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    pub fn set_throttle(&self, on: bool) {
        self.shared.throttle.set_enabled(on);
    }

    /// Current runtime settings.
    pub fn settings(&self) -> Settings {
        self.shared.world().settings.clone()
    }

    /// Replace the runtime settings (If-Match enforcement, page sizes, personal…).
    pub fn set_settings(&self, s: Settings) {
        self.shared.world().settings = s;
    }

    /// Stop accepting, let open connections finish (2 s at most), and return.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
