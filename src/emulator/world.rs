//! The emulator's in-memory Exchange store (reference/graph.md §2, §2.5, §2.6, §4.5, §4.8).
//!
//! Users own mailboxes; a mailbox holds one undeletable default "Contacts" folder, a tree
//! of child folders and the contacts. Every change takes the next value of the mailbox's
//! change counter, which is both the contact's changeKey counter (§2.5) and the position
//! delta rounds compare against; deletions and moves leave tombstones per folder so delta
//! can report `@removed`. Contacts carry two ids: an immutable one and a default (REST)
//! one that changes on every move (§0, IMM).

use super::delta::Chain;
use super::errors::{GraphErr, GraphResult};
use super::ids;
use super::props::{self, RenderMeta, WriteMode};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Runtime switches shared by all mailboxes (admin `POST /_emulator/settings`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Honour `If-Match` on contact PATCH / DELETE (§4.9); off = "server ignores it".
    pub enforce_if_match: bool,
    /// outlook.com behaviour: contact photo PUT refused (§4.6).
    pub personal: bool,
    /// Emit the 2026 `primaryEmailAddress`… slots (§2.3).
    pub schema_2026: bool,
    /// List page size without `$top` (Graph: 10).
    pub default_page_size: usize,
    /// Largest `$top` (Graph: 1000).
    pub max_top: usize,
    /// Delta page size without `Prefer: odata.maxpagesize`.
    pub delta_default_page_size: usize,
    /// Largest delta page honoured.
    pub delta_max_page_size: usize,
    /// A photo PUT changes the contact's changeKey (open question §14.2; default yes).
    pub photo_bumps_change_key: bool,
    /// In a parallel `$batch` (no `dependsOn`), sub-requests past the throttle's
    /// concurrency get 429, as 20-request batches commonly do against Outlook (§6);
    /// off by default so batches are deterministic.
    pub batch_overflow_throttled: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enforce_if_match: true,
            personal: false,
            schema_2026: false,
            default_page_size: 10,
            max_top: 1000,
            delta_default_page_size: 100,
            delta_max_page_size: 1000,
            photo_bumps_change_key: true,
            batch_overflow_throttled: false,
        }
    }
}

/// A contact photo as stored.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

/// One contact folder.
#[derive(Debug, Clone)]
pub struct Folder {
    pub key: u64,
    pub id: String,
    pub parent: Option<u64>,
    pub display_name: String,
    pub change_seq: u64,
}

/// One contact.
#[derive(Debug, Clone)]
pub struct StoredContact {
    pub key: u64,
    pub immutable_id: String,
    pub default_id: String,
    pub move_gen: u32,
    pub folder: u64,
    /// Writable properties that hold a value (see `props`).
    pub props: Map<String, Value>,
    /// Single-value extended properties by exact id.
    pub ext: BTreeMap<String, String>,
    pub photo: Option<StoredPhoto>,
    /// Open extensions by extension name.
    pub extensions: BTreeMap<String, Map<String, Value>>,
    pub created: String,
    pub modified: String,
    pub change_seq: u64,
}

/// A contact that left a folder (deleted or moved away).
#[derive(Debug, Clone)]
pub struct Tombstone {
    pub seq: u64,
    pub folder: u64,
    pub immutable_id: String,
    pub default_id: String,
}

/// How to render contacts for one request.
#[derive(Debug, Clone, Default)]
pub struct RenderOpts {
    /// `Prefer: IdType="ImmutableId"`.
    pub immutable: bool,
    /// Canonical `$select` names; `None` = every property.
    pub select: Option<Vec<String>>,
    /// `$expand=singleValueExtendedProperties($filter=…)`: ids to include.
    pub expand_extended: Option<Vec<String>>,
    /// `$expand=multiValueExtendedProperties(…)`: always empty here.
    pub expand_multi: bool,
    /// `$expand=extensions(…)`: names (None = not expanded, empty = all).
    pub expand_extensions: Option<Vec<String>>,
    pub schema_2026: bool,
}

/// One mailbox.
#[derive(Debug)]
pub struct Mailbox {
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub guid: [u8; 16],
    seq: u64,
    next_key: u64,
    pub folders: BTreeMap<u64, Folder>,
    folder_index: HashMap<String, u64>,
    pub default_folder: u64,
    pub contacts: HashMap<u64, StoredContact>,
    id_index: HashMap<String, u64>,
    pub by_folder: HashMap<u64, BTreeSet<u64>>,
    pub tombstones: Vec<Tombstone>,
    pub folder_tombstones: Vec<(u64, String)>,
    pub chains: HashMap<u64, Chain>,
}

pub fn now_string() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Mailbox {
    pub fn new(n: u64, upn: &str, display_name: &str) -> Self {
        let guid = ids::mailbox_guid(n);
        let mut mb = Self {
            id: crate::guid::hyphenated(&guid),
            upn: upn.to_owned(),
            display_name: display_name.to_owned(),
            guid,
            // Real counters are large; start there so changeKeys look alike.
            seq: 0x00ee_e300_0000,
            next_key: 1,
            folders: BTreeMap::new(),
            folder_index: HashMap::new(),
            default_folder: 0,
            contacts: HashMap::new(),
            id_index: HashMap::new(),
            by_folder: HashMap::new(),
            tombstones: Vec::new(),
            folder_tombstones: Vec::new(),
            chains: HashMap::new(),
        };
        let key = mb.take_key();
        let folder = Folder {
            key,
            id: ids::folder_id(&guid, key, true),
            parent: None,
            display_name: "Contacts".into(),
            change_seq: mb.bump(),
        };
        mb.folder_index.insert(folder.id.clone(), key);
        mb.folders.insert(key, folder);
        mb.by_folder.insert(key, BTreeSet::new());
        mb.default_folder = key;
        mb
    }

    fn take_key(&mut self) -> u64 {
        let k = self.next_key;
        self.next_key += 1;
        k
    }

    /// Next change counter value.
    pub fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Current change counter (delta rounds start after it).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn change_key(&self, seq: u64) -> String {
        ids::change_key(&self.guid, seq)
    }

    /// Folder by id, or the well-known name `contacts` for the default folder (§2.6).
    pub fn folder_key(&self, id: &str) -> Option<u64> {
        if id.eq_ignore_ascii_case("contacts") {
            return Some(self.default_folder);
        }
        self.folder_index.get(id).copied()
    }

    pub fn folder_id(&self, key: u64) -> &str {
        self.folders.get(&key).map(|f| f.id.as_str()).unwrap_or("")
    }

    /// Direct children of `parent`, in creation order.
    pub fn child_folders(&self, parent: u64) -> Vec<&Folder> {
        self.folders
            .values()
            .filter(|f| f.parent == Some(parent))
            .collect()
    }

    pub fn create_folder(&mut self, parent: u64, name: &str) -> GraphResult<u64> {
        if !self.folders.contains_key(&parent) {
            return Err(GraphErr::not_found());
        }
        if name.trim().is_empty() {
            return Err(GraphErr::new(
                400,
                "ErrorInvalidRequest",
                "The folder display name cannot be empty.",
            ));
        }
        if self
            .child_folders(parent)
            .iter()
            .any(|f| f.display_name.eq_ignore_ascii_case(name))
        {
            return Err(GraphErr::new(
                409,
                "ErrorFolderExists",
                "A folder with the specified name already exists.",
            ));
        }
        let key = self.take_key();
        let folder = Folder {
            key,
            id: ids::folder_id(&self.guid, key, false),
            parent: Some(parent),
            display_name: name.to_owned(),
            change_seq: self.bump(),
        };
        self.folder_index.insert(folder.id.clone(), key);
        self.folders.insert(key, folder);
        self.by_folder.insert(key, BTreeSet::new());
        Ok(key)
    }

    pub fn rename_folder(&mut self, key: u64, name: &str) -> GraphResult<()> {
        let parent = self
            .folders
            .get(&key)
            .ok_or_else(GraphErr::not_found)?
            .parent;
        if let Some(p) = parent
            && self
                .child_folders(p)
                .iter()
                .any(|f| f.key != key && f.display_name.eq_ignore_ascii_case(name))
        {
            return Err(GraphErr::new(
                409,
                "ErrorFolderExists",
                "A folder with the specified name already exists.",
            ));
        }
        let seq = self.bump();
        if let Some(f) = self.folders.get_mut(&key) {
            f.display_name = name.to_owned();
            f.change_seq = seq;
        }
        Ok(())
    }

    /// Delete a folder, its subfolders and their contacts (§4.7).
    pub fn delete_folder(&mut self, key: u64) -> GraphResult<()> {
        if key == self.default_folder {
            return Err(GraphErr::new(
                400,
                "ErrorDeleteDistinguishedFolder",
                "Distinguished folders cannot be deleted.",
            ));
        }
        if !self.folders.contains_key(&key) {
            return Err(GraphErr::not_found());
        }
        let mut doomed = vec![key];
        let mut i = 0;
        while i < doomed.len() {
            let kids: Vec<u64> = self
                .child_folders(doomed[i])
                .iter()
                .map(|f| f.key)
                .collect();
            doomed.extend(kids);
            i += 1;
        }
        for f in doomed {
            let members: Vec<u64> = self
                .by_folder
                .get(&f)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            for c in members {
                self.delete_contact(c);
            }
            self.by_folder.remove(&f);
            if let Some(folder) = self.folders.remove(&f) {
                self.folder_index.remove(&folder.id);
                let seq = self.bump();
                self.folder_tombstones.push((seq, folder.id));
            }
            self.chains.retain(|_, c| c.folder != Some(f));
        }
        Ok(())
    }

    /// Contact by immutable or current default id (ids are case-sensitive).
    pub fn contact_key(&self, id: &str) -> Option<u64> {
        self.id_index.get(id).copied()
    }

    pub fn create_contact(
        &mut self,
        folder: u64,
        body: &Value,
        mode: WriteMode,
    ) -> GraphResult<u64> {
        if !self.folders.contains_key(&folder) {
            return Err(GraphErr::not_found());
        }
        let mut p = Map::new();
        let folder_id = self.folder_id(folder).to_owned();
        let effect = props::apply_write(&mut p, body, &folder_id, mode)?;
        let key = self.take_key();
        let seq = self.bump();
        let now = now_string();
        let mut ext = BTreeMap::new();
        for (id, v) in effect.extended {
            if let Some(v) = v {
                ext.insert(id, v);
            }
        }
        let c = StoredContact {
            key,
            immutable_id: ids::contact_immutable_id(&self.guid, key),
            default_id: ids::contact_default_id(&self.guid, key, 0),
            move_gen: 0,
            folder,
            props: p,
            ext,
            photo: None,
            extensions: BTreeMap::new(),
            created: now.clone(),
            modified: now,
            change_seq: seq,
        };
        self.id_index.insert(c.immutable_id.clone(), key);
        self.id_index.insert(c.default_id.clone(), key);
        self.by_folder.entry(folder).or_default().insert(key);
        self.contacts.insert(key, c);
        Ok(key)
    }

    /// Apply a PATCH body; a body that names nothing changes nothing.
    pub fn update_contact(&mut self, key: u64, body: &Value, mode: WriteMode) -> GraphResult<()> {
        let folder_id = {
            let c = self.contacts.get(&key).ok_or_else(GraphErr::not_found)?;
            self.folder_id(c.folder).to_owned()
        };
        let seq = self.seq + 1;
        let Some(c) = self.contacts.get_mut(&key) else {
            return Err(GraphErr::not_found());
        };
        let effect = props::apply_write(&mut c.props, body, &folder_id, mode)?;
        for (id, v) in effect.extended {
            match v {
                Some(v) => {
                    c.ext.insert(id, v);
                }
                None => {
                    c.ext.remove(&id);
                }
            }
        }
        c.change_seq = seq;
        c.modified = now_string();
        self.seq = seq;
        Ok(())
    }

    pub fn delete_contact(&mut self, key: u64) -> bool {
        let Some(c) = self.contacts.remove(&key) else {
            return false;
        };
        self.id_index.remove(&c.immutable_id);
        self.id_index.remove(&c.default_id);
        if let Some(s) = self.by_folder.get_mut(&c.folder) {
            s.remove(&key);
        }
        let seq = self.bump();
        self.tombstones.push(Tombstone {
            seq,
            folder: c.folder,
            immutable_id: c.immutable_id,
            default_id: c.default_id,
        });
        true
    }

    /// Move (as Outlook does): new default id, new changeKey, removal in the source folder.
    pub fn move_contact(&mut self, key: u64, to: u64) -> GraphResult<()> {
        if !self.folders.contains_key(&to) {
            return Err(GraphErr::not_found());
        }
        let guid = self.guid;
        let seq_out = self.bump();
        let seq_in = self.bump();
        let Some(c) = self.contacts.get_mut(&key) else {
            return Err(GraphErr::not_found());
        };
        if c.folder == to {
            return Ok(());
        }
        let from = c.folder;
        let old_default = std::mem::take(&mut c.default_id);
        c.move_gen += 1;
        c.default_id = ids::contact_default_id(&guid, key, c.move_gen);
        c.folder = to;
        c.change_seq = seq_in;
        c.modified = now_string();
        let new_default = c.default_id.clone();
        let immutable = c.immutable_id.clone();
        self.id_index.remove(&old_default);
        self.id_index.insert(new_default, key);
        if let Some(s) = self.by_folder.get_mut(&from) {
            s.remove(&key);
        }
        self.by_folder.entry(to).or_default().insert(key);
        self.tombstones.push(Tombstone {
            seq: seq_out,
            folder: from,
            immutable_id: immutable,
            default_id: old_default,
        });
        Ok(())
    }

    pub fn set_photo(&mut self, key: u64, photo: StoredPhoto, bump: bool) -> GraphResult<()> {
        let seq = if bump { Some(self.bump()) } else { None };
        let c = self
            .contacts
            .get_mut(&key)
            .ok_or_else(GraphErr::not_found)?;
        c.photo = Some(photo);
        // Exchange flags an item with a picture attachment (PidLidHasPicture); it is
        // what a Graph client can see without fetching every photo (graph.md §5.1).
        c.ext.insert(
            super::photos::HAS_PICTURE_PROPERTY_ID.to_owned(),
            "true".to_owned(),
        );
        if let Some(seq) = seq {
            c.change_seq = seq;
            c.modified = now_string();
        }
        Ok(())
    }

    /// Record a change that touched only side data (extensions).
    pub fn touch(&mut self, key: u64) {
        let seq = self.bump();
        if let Some(c) = self.contacts.get_mut(&key) {
            c.change_seq = seq;
            c.modified = now_string();
        }
    }

    /// The id a response shows for a contact.
    pub fn shown_id<'a>(&self, c: &'a StoredContact, immutable: bool) -> &'a str {
        if immutable {
            &c.immutable_id
        } else {
            &c.default_id
        }
    }

    /// A contact as Graph returns it (§2.3) under `opts`.
    pub fn render_contact(&self, c: &StoredContact, opts: &RenderOpts) -> Map<String, Value> {
        let ck = self.change_key(c.change_seq);
        let meta = RenderMeta {
            id: self.shown_id(c, opts.immutable),
            change_key: &ck,
            created: &c.created,
            modified: &c.modified,
            parent_folder_id: self.folder_id(c.folder),
            schema_2026: opts.schema_2026,
        };
        let full = props::render_full(&c.props, &meta);
        let mut out = match &opts.select {
            None => full,
            Some(sel) => {
                let mut m = Map::new();
                for (k, v) in full {
                    if k == "@odata.etag" || k == "id" || sel.contains(&k) {
                        m.insert(k, v);
                    }
                }
                m
            }
        };
        if let Some(wanted) = &opts.expand_extended {
            let items = props::render_extended(&c.ext, |id| wanted.iter().any(|w| w == id));
            if !items.is_empty() {
                out.insert("singleValueExtendedProperties".into(), Value::Array(items));
            }
        }
        if opts.expand_multi {
            out.insert("multiValueExtendedProperties".into(), Value::Array(vec![]));
        }
        if let Some(names) = &opts.expand_extensions {
            let items: Vec<Value> = c
                .extensions
                .iter()
                .filter(|(n, _)| {
                    names.is_empty()
                        || names
                            .iter()
                            .any(|w| w == *n || w.ends_with(&format!(".{n}")))
                })
                .map(|(n, body)| super::contacts::render_extension(n, body))
                .collect();
            out.insert("extensions".into(), Value::Array(items));
        }
        out
    }

    /// The contact as `$filter` sees it: every property plus all extended properties.
    pub fn filter_view(&self, c: &StoredContact) -> Value {
        let ck = self.change_key(c.change_seq);
        let meta = RenderMeta {
            id: &c.immutable_id,
            change_key: &ck,
            created: &c.created,
            modified: &c.modified,
            parent_folder_id: self.folder_id(c.folder),
            schema_2026: false,
        };
        let mut m = props::render_full(&c.props, &meta);
        m.insert(
            "singleValueExtendedProperties".into(),
            Value::Array(props::render_extended(&c.ext, |_| true)),
        );
        m.insert(
            "extensions".into(),
            Value::Array(
                c.extensions
                    .keys()
                    .map(|n| {
                        serde_json::json!({"id": format!("Microsoft.OutlookServices.OpenTypeExtension.{n}")})
                    })
                    .collect(),
            ),
        );
        Value::Object(m)
    }

    /// Folder JSON (§2.6).
    pub fn render_folder(&self, f: &Folder) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(f.id.clone()));
        m.insert(
            "parentFolderId".into(),
            match f.parent {
                Some(p) => Value::String(self.folder_id(p).to_owned()),
                // The default folder's parent is the mailbox root.
                None => Value::String(ids::folder_id(&self.guid, 0, true)),
            },
        );
        m.insert("displayName".into(), Value::String(f.display_name.clone()));
        m
    }

    /// Contacts in `folder`, in creation order.
    pub fn contacts_in(&self, folder: u64) -> impl Iterator<Item = &StoredContact> {
        self.by_folder
            .get(&folder)
            .into_iter()
            .flat_map(|s| s.iter())
            .filter_map(|k| self.contacts.get(k))
    }
}

/// Every mailbox, by user id, plus settings.
#[derive(Debug, Default)]
pub struct World {
    pub users: BTreeMap<String, Mailbox>,
    upn_index: HashMap<String, String>,
    next_mailbox: u64,
    pub next_chain: u64,
    pub settings: Settings,
}

impl World {
    /// Create a mailbox (or return the existing one with that UPN); returns the user id.
    pub fn add_user(&mut self, upn: &str, display_name: &str) -> String {
        if let Some(id) = self.upn_index.get(&upn.to_ascii_lowercase()) {
            return id.clone();
        }
        self.next_mailbox += 1;
        let mb = Mailbox::new(self.next_mailbox, upn, display_name);
        let id = mb.id.clone();
        self.upn_index.insert(upn.to_ascii_lowercase(), id.clone());
        self.users.insert(id.clone(), mb);
        id
    }

    /// User id for an id or a UPN (case-insensitive).
    pub fn resolve_user(&self, id_or_upn: &str) -> Option<String> {
        if self.users.contains_key(id_or_upn) {
            return Some(id_or_upn.to_owned());
        }
        if let Some(id) = self
            .users
            .keys()
            .find(|k| k.eq_ignore_ascii_case(id_or_upn))
        {
            return Some(id.clone());
        }
        self.upn_index.get(&id_or_upn.to_ascii_lowercase()).cloned()
    }

    pub fn mailbox(&self, user: &str) -> Option<&Mailbox> {
        let id = self.resolve_user(user)?;
        self.users.get(&id)
    }

    pub fn mailbox_mut(&mut self, user: &str) -> Option<&mut Mailbox> {
        let id = self.resolve_user(user)?;
        self.users.get_mut(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CREATE: WriteMode = WriteMode {
        create: true,
        allow_extended: true,
    };

    #[test]
    fn move_changes_default_id_keeps_immutable_and_leaves_tombstone() {
        let mut mb = Mailbox::new(1, "a@b", "A");
        let work = mb.create_folder(mb.default_folder, "Work").unwrap();
        let k = mb
            .create_contact(mb.default_folder, &json!({"givenName":"X"}), CREATE)
            .unwrap();
        let (imm, def) = {
            let c = &mb.contacts[&k];
            (c.immutable_id.clone(), c.default_id.clone())
        };
        mb.move_contact(k, work).unwrap();
        let c = &mb.contacts[&k];
        assert_eq!(c.immutable_id, imm);
        assert_ne!(c.default_id, def);
        assert_eq!(mb.contact_key(&def), None);
        assert_eq!(mb.contact_key(&imm), Some(k));
        assert_eq!(mb.tombstones.len(), 1);
        assert_eq!(mb.tombstones[0].folder, mb.default_folder);
    }

    #[test]
    fn folders_reject_duplicates_and_default_cannot_be_deleted() {
        let mut mb = Mailbox::new(1, "a@b", "A");
        let d = mb.default_folder;
        mb.create_folder(d, "Work").unwrap();
        assert_eq!(mb.create_folder(d, "work").unwrap_err().status, 409);
        assert_eq!(
            mb.delete_folder(d).unwrap_err().code,
            "ErrorDeleteDistinguishedFolder"
        );
        assert_eq!(mb.folder_key("Contacts"), Some(d));
    }

    #[test]
    fn each_change_gets_a_new_change_key() {
        let mut mb = Mailbox::new(1, "a@b", "A");
        let k = mb
            .create_contact(mb.default_folder, &json!({"givenName":"X"}), CREATE)
            .unwrap();
        let before = mb.contacts[&k].change_seq;
        mb.update_contact(
            k,
            &json!({"jobTitle":"CTO"}),
            WriteMode {
                create: false,
                allow_extended: true,
            },
        )
        .unwrap();
        assert!(mb.contacts[&k].change_seq > before);
    }

    #[test]
    fn users_resolve_by_id_or_upn() {
        let mut w = World::default();
        let id = w.add_user("Demo@Cardbridge.test", "Demo");
        assert_eq!(w.resolve_user("demo@cardbridge.test"), Some(id.clone()));
        assert_eq!(w.resolve_user(&id), Some(id.clone()));
        assert_eq!(w.add_user("demo@cardbridge.test", "x"), id);
    }
}
