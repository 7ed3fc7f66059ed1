//! The in-memory mirror of one address book and how a set of changes becomes one
//! atomic state-store batch (DESIGN.md "Reads come from the mirror"; issue 5 items 1, 3, 6).
//!
//! A change set (from a delta round, a resync or a write confirmed by Graph) is first
//! *planned* against the current state — which entries really changed, which names they
//! get, which journal revisions — producing one [`WriteBatch`] (contact rows, hrefs,
//! journal, book state) and the matching in-memory operations. The caller commits the
//! batch and only then applies the plan, under the book's lock: memory never runs ahead
//! of the store, and a failed commit changes nothing.
//!
//! Rendered vCards are cached per entry and version ([`Entry::rendered`]): rendered on
//! first use, never stored; the ETag hashes exactly the bytes served.
//!
//! Group cards (DESIGN.md "Groups", see `groups`): with [`PlanOptions::groups`], a change
//! to a contact's categories (or its arrival, departure or UID change) also journals the
//! group card of each category concerned, so a member change moves the group's sync
//! state like any card's.

use super::etag::etag;
use super::hrefs::name_for_graph_id;
use super::journal::Journal;
use super::records::{
    self, BookState, ContactRec, GroupRec, book_state_key, contact_key, group_key, href_key,
    journal_key,
};
use crate::dav::store::{Card, CardMeta};
use crate::state::{StateError, Table, WriteBatch};
use crate::vcard::VCardVersion;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// A representation as served: the bytes and their ETag.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    pub etag: String,
}

/// One mirrored contact with its lazily rendered representations.
#[derive(Debug)]
pub struct Entry {
    pub rec: ContactRec,
    rendered: [OnceLock<Rendered>; 2],
}

impl Entry {
    pub fn new(rec: ContactRec) -> Arc<Entry> {
        Arc::new(Entry {
            rec,
            rendered: [OnceLock::new(), OnceLock::new()],
        })
    }

    /// The card in `version`, rendered once and cached.
    pub fn rendered(&self, version: VCardVersion) -> &Rendered {
        let slot = match version {
            VCardVersion::V3 => &self.rendered[0],
            VCardVersion::V4 => &self.rendered[1],
        };
        slot.get_or_init(|| {
            let photo = self.rec.photo.as_ref().and_then(|p| p.to_photo());
            let text = crate::vcard::contact_to_card(&self.rec.contact, photo.as_ref(), version);
            let body = Bytes::from(text);
            let etag = etag(self.rec.change_key(), version, &body);
            Rendered { body, etag }
        })
    }

    pub fn meta(&self, version: VCardVersion) -> CardMeta {
        let r = self.rendered(version);
        CardMeta {
            name: self.rec.name.clone(),
            etag: r.etag.clone(),
            content_length: r.body.len() as u64,
            last_modified: self.rec.last_modified(),
            version,
        }
    }

    pub fn card(&self, version: VCardVersion) -> Card {
        Card {
            meta: self.meta(version),
            body: self.rendered(version).body.clone(),
        }
    }

    /// The ETags of every version (for `If-Match`, which may name either).
    pub fn etags(&self) -> [&str; 2] {
        [
            self.rendered(VCardVersion::V3).etag.as_str(),
            self.rendered(VCardVersion::V4).etag.as_str(),
        ]
    }

    /// Whether `other` would serve the same cards as this entry.
    fn same_as(&self, other: &ContactRec) -> bool {
        let a = &self.rec;
        a.change_key() == other.change_key()
            && a.photo == other.photo
            && a.has_photo == other.has_photo
            && a.contact.single_value_extended_properties
                == other.contact.single_value_extended_properties
    }
}

/// A change to apply to a book.
#[derive(Debug, Clone)]
pub enum Change {
    /// Create or update; an empty `name` means "keep the existing name, or derive one".
    Upsert(Box<ContactRec>),
    /// Remove the contact with this Graph id (no-op when absent).
    Remove(String),
    /// Set (`Some`) or drop (`None`) the record of the group card `name`; journals it.
    Group { name: String, rec: Option<GroupRec> },
    /// Journal `name` (a group card whose content changed without a contact change).
    Touch(String),
}

/// Bookkeeping that goes with a change set.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Journal each change (false for the initial load, which resets the floor instead
    /// when it loaded anything).
    pub journal: bool,
    pub retention: u64,
    /// `Some(link)`: replace the stored delta link.
    pub delta_link: Option<Option<String>>,
    /// `Some(t)`: the folder was refreshed from Graph at `t`.
    pub refreshed: Option<SystemTime>,
    /// Journal the group cards whose members change (group cards are served to someone).
    pub groups: bool,
}

#[derive(Debug)]
enum Op {
    Put(Arc<Entry>),
    Remove { id: String, name: String },
    Group { name: String, rec: Option<GroupRec> },
    Journal { name: String, deleted: bool },
}

/// What [`BookData::plan`] decided: the batch to commit, then [`BookData::apply`].
#[derive(Debug)]
pub struct Plan {
    pub batch: WriteBatch,
    ops: Vec<Op>,
    options: PlanOptions,
    /// Names of the entries put by this plan, by Graph id.
    pub names: HashMap<String, String>,
    /// Number of journaled changes.
    pub changes: usize,
}

/// What a committed plan did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Names of the entries put, by Graph id.
    pub names: HashMap<String, String>,
    /// Number of journaled changes.
    pub changes: usize,
}

/// The mirror of one book.
#[derive(Debug, Default)]
pub struct BookData {
    pub journal: Journal,
    pub delta_link: Option<String>,
    pub refreshed: Option<SystemTime>,
    /// Graph id → entry.
    pub contacts: HashMap<String, Arc<Entry>>,
    /// Name → Graph id, in name order.
    pub names: BTreeMap<String, String>,
    /// Group cards a client named: name → record (see `groups`).
    pub group_recs: BTreeMap<String, GroupRec>,
}

impl BookData {
    /// Load a book's rows from the store.
    pub fn load(
        store: &dyn crate::state::KvStore,
        acct: &str,
        book: &str,
    ) -> Result<BookData, StateError> {
        let state: BookState = match store.get(Table::Sync, &book_state_key(acct, book))? {
            Some(v) => records::decode(&v)?,
            None => BookState::default(),
        };
        let mut data = BookData {
            journal: Journal {
                rev: state.rev,
                floor: state.floor,
                entries: BTreeMap::new(),
            },
            delta_link: state.delta_link,
            refreshed: state.refreshed_ms.map(records::from_ms),
            ..Default::default()
        };
        for (k, v) in store.scan_prefix(Table::Journal, &records::book_prefix(acct, book))? {
            if let Some(rev) = records::journal_rev(&k) {
                data.journal.entries.insert(rev, records::decode(&v)?);
            }
        }
        for (_, v) in store.scan_prefix(Table::Mirror, &records::contacts_prefix(acct, book))? {
            let rec: ContactRec = records::decode(&v)?;
            data.names.insert(rec.name.clone(), rec.id().to_owned());
            data.contacts.insert(rec.id().to_owned(), Entry::new(rec));
        }
        let prefix = records::group_prefix(acct, book);
        for (k, v) in store.scan_prefix(Table::Meta, &prefix)? {
            let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            data.group_recs.insert(name, records::decode(&v)?);
        }
        Ok(data)
    }

    pub fn state(&self) -> BookState {
        BookState {
            rev: self.journal.rev,
            floor: self.journal.floor,
            delta_link: self.delta_link.clone(),
            refreshed_ms: self.refreshed.map(records::to_ms),
        }
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<Entry>> {
        self.names.get(name).and_then(|id| self.contacts.get(id))
    }

    /// Plan `changes`; nothing changes until [`BookData::apply`].
    pub fn plan(
        &self,
        acct: &str,
        book: &str,
        changes: Vec<Change>,
        options: PlanOptions,
    ) -> Result<Plan, StateError> {
        let mut batch = WriteBatch::new();
        let mut ops = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        let mut freed: HashSet<String> = HashSet::new();
        let mut journal = Vec::new();
        let mut names = HashMap::new();
        // Later changes to the same id win.
        let mut last: HashMap<String, usize> = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            let id = match c {
                Change::Upsert(r) => r.id().to_owned(),
                Change::Remove(id) => id.clone(),
                Change::Group { .. } | Change::Touch(_) => continue,
            };
            last.insert(id, i);
        }
        // Categories whose group cards change.
        let mut categories: Vec<String> = Vec::new();
        let mut touch = |cats: &mut dyn Iterator<Item = &String>| {
            if options.groups {
                for c in cats {
                    if !categories.contains(c) {
                        categories.push(c.clone());
                    }
                }
            }
        };
        for (i, change) in changes.into_iter().enumerate() {
            match change {
                Change::Upsert(rec) => {
                    let mut rec = *rec;
                    let id = rec.id().to_owned();
                    if id.is_empty() || last.get(&id) != Some(&i) {
                        continue;
                    }
                    let existing = self.contacts.get(&id);
                    match existing {
                        Some(e) if e.rec.uid() != rec.uid() => touch(
                            &mut e
                                .rec
                                .contact
                                .categories
                                .iter()
                                .chain(&rec.contact.categories),
                        ),
                        Some(e) => {
                            let (old, new) = (&e.rec.contact.categories, &rec.contact.categories);
                            touch(
                                &mut old
                                    .iter()
                                    .filter(|c| !new.contains(c))
                                    .chain(new.iter().filter(|c| !old.contains(c))),
                            )
                        }
                        None => touch(&mut rec.contact.categories.iter()),
                    }
                    if let Some(e) = existing {
                        if e.same_as(&rec) {
                            continue;
                        }
                        rec.name = e.rec.name.clone();
                    } else {
                        let in_use = |n: &str| {
                            (self.names.contains_key(n) && !freed.contains(n)) || taken.contains(n)
                        };
                        if rec.name.is_empty() || in_use(&rec.name) {
                            let mut attempt = 0;
                            rec.name = name_for_graph_id(&id, attempt);
                            while in_use(&rec.name) {
                                attempt += 1;
                                rec.name = name_for_graph_id(&id, attempt);
                            }
                        }
                        batch.put(Table::Hrefs, href_key(acct, book, &rec.name), id.as_bytes());
                    }
                    taken.insert(rec.name.clone());
                    batch.put(
                        Table::Mirror,
                        contact_key(acct, book, &id),
                        records::encode(&rec)?,
                    );
                    journal.push((rec.name.clone(), false));
                    names.insert(id, rec.name.clone());
                    ops.push(Op::Put(Entry::new(rec)));
                }
                Change::Remove(id) => {
                    if last.get(&id) != Some(&i) {
                        continue;
                    }
                    let Some(e) = self.contacts.get(&id) else {
                        continue;
                    };
                    touch(&mut e.rec.contact.categories.iter());
                    let name = e.rec.name.clone();
                    batch.delete(Table::Mirror, contact_key(acct, book, &id));
                    batch.delete(Table::Hrefs, href_key(acct, book, &name));
                    freed.insert(name.clone());
                    journal.push((name.clone(), true));
                    ops.push(Op::Remove { id, name });
                }
                Change::Group { name, rec } => {
                    let key = group_key(acct, book, &name);
                    match &rec {
                        Some(r) => batch.put(Table::Meta, key, records::encode(r)?),
                        None => batch.delete(Table::Meta, key),
                    }
                    journal.push((name.clone(), false));
                    ops.push(Op::Group { name, rec });
                }
                Change::Touch(name) => journal.push((name, false)),
            }
        }
        for c in &categories {
            let name = super::groups::group_name(&self.group_recs, c);
            if !journal.iter().any(|(n, _)| *n == name) {
                journal.push((name, false));
            }
        }
        // Simulate the journal to know the revisions and what pruning removes.
        let changes = journal.len();
        let mut sim = Journal {
            rev: self.journal.rev,
            floor: self.journal.floor,
            entries: BTreeMap::new(),
        };
        if options.journal {
            for (name, deleted) in journal {
                let rev = sim.push(&name, deleted);
                batch.put(
                    Table::Journal,
                    journal_key(acct, book, rev),
                    records::encode(&records::JournalRec {
                        name: name.clone(),
                        deleted,
                    })?,
                );
                ops.push(Op::Journal { name, deleted });
            }
            for rev in sim.prune(options.retention) {
                batch.delete(Table::Journal, journal_key(acct, book, rev));
            }
        } else if changes > 0 {
            // A load without journaling invalidates earlier tokens; an empty load (a book
            // just created by MKCOL) keeps them.
            batch.delete_prefix(Table::Journal, records::book_prefix(acct, book));
            sim.reset_floor();
        }
        let state = BookState {
            rev: sim.rev,
            floor: sim.floor,
            delta_link: match &options.delta_link {
                Some(l) => l.clone(),
                None => self.delta_link.clone(),
            },
            refreshed_ms: options.refreshed.or(self.refreshed).map(records::to_ms),
        };
        batch.put(
            Table::Sync,
            book_state_key(acct, book),
            records::encode(&state)?,
        );
        Ok(Plan {
            batch,
            ops,
            options,
            names,
            changes,
        })
    }

    /// Apply a plan whose batch was committed.
    pub fn apply(&mut self, plan: Plan) {
        for op in plan.ops {
            match op {
                Op::Put(e) => {
                    let id = e.rec.id().to_owned();
                    if let Some(old) = self.contacts.get(&id)
                        && old.rec.name != e.rec.name
                    {
                        self.names.remove(&old.rec.name);
                    }
                    self.names.insert(e.rec.name.clone(), id.clone());
                    self.contacts.insert(id, e);
                }
                Op::Remove { id, name } => {
                    self.contacts.remove(&id);
                    if self.names.get(&name) == Some(&id) {
                        self.names.remove(&name);
                    }
                }
                Op::Group { name, rec } => match rec {
                    Some(r) => {
                        self.group_recs.insert(name, r);
                    }
                    None => {
                        self.group_recs.remove(&name);
                    }
                },
                Op::Journal { name, deleted } => {
                    self.journal.push(&name, deleted);
                }
            }
        }
        if plan.options.journal {
            self.journal.prune(plan.options.retention);
        } else if plan.changes > 0 {
            self.journal.reset_floor();
        }
        if let Some(l) = plan.options.delta_link {
            self.delta_link = l;
        }
        if let Some(t) = plan.options.refreshed {
            self.refreshed = Some(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::Contact;
    use crate::state::{KvStore, MemoryStore};

    fn rec(id: &str, ck: &str, name: &str) -> ContactRec {
        ContactRec {
            name: name.into(),
            contact: Contact {
                id: Some(id.into()),
                change_key: Some(ck.into()),
                given_name: Some(format!("Given {id}")),
                ..Default::default()
            },
            has_photo: false,
            photo: None,
            photo_ck: None,
        }
    }

    fn run(store: &MemoryStore, data: &mut BookData, changes: Vec<Change>, journal: bool) -> usize {
        let plan = data
            .plan(
                "acct",
                "contacts",
                changes,
                PlanOptions {
                    journal,
                    retention: 1000,
                    ..Default::default()
                },
            )
            .unwrap();
        let n = plan.changes;
        store.commit(plan.batch.clone()).unwrap();
        data.apply(plan);
        n
    }

    #[test]
    fn initial_load_then_diffs_journal_only_real_changes() {
        let store = MemoryStore::new();
        let mut d = BookData::default();
        run(
            &store,
            &mut d,
            vec![
                Change::Upsert(Box::new(rec("1", "a", ""))),
                Change::Upsert(Box::new(rec("2", "a", "client.vcf"))),
            ],
            false,
        );
        assert_eq!(d.journal.rev, 1);
        assert_eq!(d.journal.floor, 1);
        assert!(d.journal.entries.is_empty());
        let mut empty = BookData::default();
        run(&store, &mut empty, vec![], false);
        assert_eq!(
            (empty.journal.rev, empty.journal.floor),
            (0, 0),
            "empty load keeps rev 0 valid"
        );
        let derived = name_for_graph_id("1", 0);
        assert_eq!(d.by_name(&derived).unwrap().rec.id(), "1");
        assert_eq!(d.by_name("client.vcf").unwrap().rec.id(), "2");

        // Replaying the same contacts (a 410 resync) changes nothing.
        let n = run(
            &store,
            &mut d,
            vec![
                Change::Upsert(Box::new(rec("1", "a", ""))),
                Change::Upsert(Box::new(rec("2", "a", ""))),
            ],
            true,
        );
        assert_eq!(n, 0);
        assert_eq!(d.journal.rev, 1);

        // One edit, one delete, one create.
        let n = run(
            &store,
            &mut d,
            vec![
                Change::Upsert(Box::new(rec("1", "b", ""))),
                Change::Remove("2".into()),
                Change::Upsert(Box::new(rec("3", "a", ""))),
                Change::Remove("404".into()),
            ],
            true,
        );
        assert_eq!(n, 3);
        assert_eq!(d.journal.rev, 4);
        let journaled: Vec<_> = d
            .journal
            .entries
            .values()
            .map(|e| (e.name.clone(), e.deleted))
            .collect();
        assert_eq!(
            journaled,
            [
                (derived.clone(), false),
                ("client.vcf".to_string(), true),
                (name_for_graph_id("3", 0), false)
            ]
        );
        assert_eq!(d.by_name(&derived).unwrap().rec.change_key(), "b");
        assert!(d.by_name("client.vcf").is_none());

        // The store holds the same picture.
        let back = BookData::load(&store, "acct", "contacts").unwrap();
        assert_eq!(back.state(), d.state());
        assert_eq!(back.names, d.names);
        assert_eq!(back.journal.entries, d.journal.entries);
        assert_eq!(
            store
                .get(Table::Hrefs, &href_key("acct", "contacts", "client.vcf"))
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_taken_name_gets_an_alternative() {
        let store = MemoryStore::new();
        let mut d = BookData::default();
        let clash = name_for_graph_id("2", 0);
        run(
            &store,
            &mut d,
            vec![Change::Upsert(Box::new(rec("1", "a", &clash)))],
            true,
        );
        run(
            &store,
            &mut d,
            vec![Change::Upsert(Box::new(rec("2", "a", "")))],
            true,
        );
        assert_eq!(d.by_name(&clash).unwrap().rec.id(), "1");
        assert_eq!(d.by_name(&name_for_graph_id("2", 1)).unwrap().rec.id(), "2");
    }

    #[test]
    fn rendering_is_cached_and_etag_hashes_the_body() {
        let e = Entry::new(rec("1", "a", "x.vcf"));
        let a = e.rendered(VCardVersion::V3);
        assert!(std::ptr::eq(a, e.rendered(VCardVersion::V3)));
        assert_eq!(a.etag, etag("a", VCardVersion::V3, &a.body));
        assert!(
            std::str::from_utf8(&a.body)
                .unwrap()
                .contains("VERSION:3.0")
        );
        let m = e.meta(VCardVersion::V4);
        assert_eq!(
            m.content_length,
            e.rendered(VCardVersion::V4).body.len() as u64
        );
        assert_ne!(e.etags()[0], e.etags()[1]);
    }
}
