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
//! Entries are lean ([`Entry`], see `entry`): the full contact stays in the state store.
//! Each contact row has a summary row beside it (written in the same batch) holding
//! what the entry needs, with the vCard 3.0 ETag, so loading a book decodes only the
//! summaries; a book written by an earlier version (no summaries) is migrated on load.
//!
//! Group cards (DESIGN.md "Groups", see `groups`): with [`PlanOptions::groups`], a change
//! to a contact's categories (or its arrival, departure or UID change) also journals the
//! group card of each category concerned, so a member change moves the group's sync
//! state like any card's.

pub use super::entry::Entry;
use super::entry::RecSource;
use super::hrefs::name_for_graph_id;
use super::journal::Journal;
use super::records::{
    self, BookState, ContactRec, GroupRec, SummaryRec, book_state_key, contact_key, group_key,
    href_key, journal_key, summary_key,
};
use crate::state::{SharedStore, StateError, Table, WriteBatch};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

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
    pub contacts: HashMap<Arc<str>, Arc<Entry>>,
    /// Name → Graph id (the entry's), in name order.
    pub names: BTreeMap<String, Arc<str>>,
    /// Group cards a client named: name → record (see `groups`).
    pub group_recs: BTreeMap<String, GroupRec>,
    /// Where the entries read their full records back (`None` only in unit tests).
    pub source: Option<Arc<RecSource>>,
}

impl BookData {
    /// An empty book whose entries read their records from `store`.
    pub fn new(store: &SharedStore, acct: &str, book: &str) -> BookData {
        BookData {
            source: Some(RecSource::new(store.clone(), acct, book)),
            ..Default::default()
        }
    }

    /// Load a book's rows from the store: the summaries, or (a book written by an
    /// earlier version, or a summary of another renderer) the full rows, then writing
    /// the missing summaries.
    pub fn load(store: &SharedStore, acct: &str, book: &str) -> Result<BookData, StateError> {
        let stored = store.get(Table::Sync, &book_state_key(acct, book))?;
        let had_state = stored.is_some();
        let state: BookState = match stored {
            Some(v) => records::decode(&v)?,
            None => BookState::default(),
        };
        let mut data = BookData {
            journal: Journal {
                rev: state.rev,
                floor: state.floor,
                entries: BTreeMap::new(),
            },
            delta_link: state.delta_link.clone(),
            refreshed: state.refreshed_ms.map(records::from_ms),
            ..BookData::new(store, acct, book)
        };
        for (k, v) in store.scan_prefix(Table::Journal, &records::book_prefix(acct, book))? {
            if let Some(rev) = records::journal_rev(&k) {
                data.journal.entries.insert(rev, records::decode(&v)?);
            }
        }
        let mut complete = state.summaries;
        if complete {
            let prefix = records::summaries_prefix(acct, book);
            for (k, v) in store.scan_prefix(Table::Mirror, &prefix)? {
                let id = std::str::from_utf8(&k[prefix.len()..])
                    .map_err(|e| StateError::Corrupt(e.to_string()))?;
                let summary: SummaryRec = records::decode(&v)?;
                match Entry::from_summary(id, summary, data.source.clone()) {
                    Some(e) => data.insert(Arc::new(e)),
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
        }
        if !complete {
            data.contacts.clear();
            data.names.clear();
            let mut batch = WriteBatch::new();
            batch.delete_prefix(Table::Mirror, records::summaries_prefix(acct, book));
            for (_, v) in store.scan_prefix(Table::Mirror, &records::contacts_prefix(acct, book))? {
                let rec: ContactRec = records::decode(&v)?;
                let e = Entry::from_rec(&rec, data.source.clone());
                batch.put(
                    Table::Mirror,
                    summary_key(acct, book, rec.id()),
                    records::encode(&e.summary()?)?,
                );
                data.insert(Arc::new(e));
            }
            if had_state || !data.contacts.is_empty() {
                batch.put(
                    Table::Sync,
                    book_state_key(acct, book),
                    records::encode(&BookState {
                        summaries: true,
                        ..state
                    })?,
                );
                store.commit(batch)?;
            }
        }
        let prefix = records::group_prefix(acct, book);
        for (k, v) in store.scan_prefix(Table::Meta, &prefix)? {
            let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            data.group_recs.insert(name, records::decode(&v)?);
        }
        Ok(data)
    }

    fn insert(&mut self, e: Arc<Entry>) {
        self.names.insert(e.name.clone(), e.id.clone());
        self.contacts.insert(e.id.clone(), e);
    }

    pub fn state(&self) -> BookState {
        BookState {
            rev: self.journal.rev,
            floor: self.journal.floor,
            delta_link: self.delta_link.clone(),
            refreshed_ms: self.refreshed.map(records::to_ms),
            summaries: true,
        }
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<Entry>> {
        self.names.get(name).and_then(|id| self.contacts.get(&**id))
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
                    let existing = self.contacts.get(id.as_str());
                    match existing {
                        Some(e) if e.uid() != rec.uid() => {
                            touch(&mut e.categories.iter().chain(&rec.contact.categories))
                        }
                        Some(e) => {
                            let (old, new) = (&e.categories, &rec.contact.categories);
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
                        rec.name = e.name.clone();
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
                    let entry = Entry::from_rec(&rec, self.source.clone());
                    batch.put(
                        Table::Mirror,
                        contact_key(acct, book, &id),
                        records::encode(&rec)?,
                    );
                    batch.put(
                        Table::Mirror,
                        summary_key(acct, book, &id),
                        records::encode(&entry.summary()?)?,
                    );
                    journal.push((rec.name.clone(), false));
                    names.insert(id, rec.name);
                    ops.push(Op::Put(Arc::new(entry)));
                }
                Change::Remove(id) => {
                    if last.get(&id) != Some(&i) {
                        continue;
                    }
                    let Some(e) = self.contacts.get(id.as_str()) else {
                        continue;
                    };
                    touch(&mut e.categories.iter());
                    let name = e.name.clone();
                    batch.delete(Table::Mirror, contact_key(acct, book, &id));
                    batch.delete(Table::Mirror, summary_key(acct, book, &id));
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
            summaries: true,
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
                    if let Some(old) = self.contacts.get(&e.id)
                        && old.name != e.name
                    {
                        self.names.remove(&old.name);
                    }
                    self.insert(e);
                }
                Op::Remove { id, name } => {
                    self.contacts.remove(id.as_str());
                    if self.names.get(&name).is_some_and(|n| **n == *id) {
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
    use crate::bridge::etag::etag;
    use crate::dav::store::CardMeta;
    use crate::graph::model::Contact;
    use crate::state::{KvStore, MemoryStore};
    use crate::vcard::VCardVersion;

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

    fn store() -> (Arc<MemoryStore>, SharedStore) {
        let m = Arc::new(MemoryStore::new());
        (m.clone(), m)
    }

    fn run(store: &MemoryStore, data: &mut BookData, changes: Vec<Change>, journal: bool) -> usize {
        let mut plan = data
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
        store.commit(std::mem::take(&mut plan.batch)).unwrap();
        data.apply(plan);
        n
    }

    #[test]
    fn initial_load_then_diffs_journal_only_real_changes() {
        let (store, shared) = store();
        let mut d = BookData::new(&shared, "acct", "contacts");
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
        assert_eq!(&*d.by_name(&derived).unwrap().id, "1");
        assert_eq!(&*d.by_name("client.vcf").unwrap().id, "2");

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
        assert_eq!(d.by_name(&derived).unwrap().change_key(), "b");
        assert!(d.by_name("client.vcf").is_none());

        // The store holds the same picture.
        let back = BookData::load(&shared, "acct", "contacts").unwrap();
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
        let (store, shared) = store();
        let mut d = BookData::new(&shared, "acct", "contacts");
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
        assert_eq!(&*d.by_name(&clash).unwrap().id, "1");
        assert_eq!(&*d.by_name(&name_for_graph_id("2", 1)).unwrap().id, "2");
    }

    #[test]
    fn rendering_is_cached_and_etag_hashes_the_body() {
        let (store, shared) = store();
        let mut d = BookData::new(&shared, "acct", "contacts");
        run(
            &store,
            &mut d,
            vec![Change::Upsert(Box::new(rec("1", "a", "x.vcf")))],
            true,
        );
        let e = d.by_name("x.vcf").unwrap();
        let a = e.card(VCardVersion::V3).unwrap();
        assert_eq!(a.meta.etag, etag("a", VCardVersion::V3, &a.body));
        assert!(
            std::str::from_utf8(&a.body)
                .unwrap()
                .contains("VERSION:3.0")
        );
        let again = e.card(VCardVersion::V3).unwrap();
        assert_eq!(
            again.body.as_ptr(),
            a.body.as_ptr(),
            "cached, not rendered again"
        );
        // vCard 4.0 is rendered from the stored record on first use.
        let v4 = e.card(VCardVersion::V4).unwrap();
        assert!(
            std::str::from_utf8(&v4.body)
                .unwrap()
                .contains("VERSION:4.0")
        );
        assert_eq!(v4.meta.content_length, v4.body.len() as u64);
        assert_eq!(v4.meta.etag, etag("a", VCardVersion::V4, &v4.body));
        let etags = e.etags().unwrap();
        assert_eq!(etags, [a.meta.etag.clone(), v4.meta.etag.clone()]);
        assert_ne!(etags[0], etags[1]);
    }

    fn listing(d: &BookData, version: VCardVersion) -> Vec<CardMeta> {
        d.names
            .values()
            .map(|id| d.contacts[&**id].meta(version).unwrap())
            .collect()
    }

    #[test]
    fn a_book_loads_from_its_summaries_and_serves_the_same_cards() {
        let (store, shared) = store();
        let mut d = BookData::new(&shared, "acct", "contacts");
        let mut with_uid = rec("2", "b", "two.vcf");
        with_uid.contact.categories = vec!["Golf".into()];
        with_uid.contact.single_value_extended_properties =
            vec![crate::graph::model::SingleValueExtendedProperty {
                id: crate::vcard::UID_PROPERTY_ID.into(),
                value: Some("client-uid".into()),
            }];
        run(
            &store,
            &mut d,
            vec![
                Change::Upsert(Box::new(rec("1", "a", "one.vcf"))),
                Change::Upsert(Box::new(with_uid)),
            ],
            false,
        );
        assert!(d.state().summaries);
        let back = BookData::load(&shared, "acct", "contacts").unwrap();
        assert_eq!(
            listing(&back, VCardVersion::V3),
            listing(&d, VCardVersion::V3)
        );
        let two = back.by_name("two.vcf").unwrap();
        assert_eq!(two.uid(), "client-uid");
        assert_eq!(&*two.categories, ["Golf".to_string()]);
        let (a, b) = (
            two.card(VCardVersion::V3).unwrap(),
            d.by_name("two.vcf")
                .unwrap()
                .card(VCardVersion::V3)
                .unwrap(),
        );
        assert_eq!((a.body, a.meta.etag), (b.body, b.meta.etag));
        assert_eq!(
            listing(&back, VCardVersion::V4),
            listing(&d, VCardVersion::V4)
        );
        // Replaying the same contact changes nothing (the summary keeps the fingerprint).
        let mut back = back;
        let mut same = rec("2", "b", "");
        same.contact.single_value_extended_properties = d
            .by_name("two.vcf")
            .unwrap()
            .rec()
            .unwrap()
            .contact
            .single_value_extended_properties;
        same.contact.categories = vec!["Golf".into()];
        assert_eq!(
            run(
                &store,
                &mut back,
                vec![Change::Upsert(Box::new(same))],
                true
            ),
            0
        );
    }

    #[test]
    fn a_book_of_an_earlier_version_is_migrated_on_load() {
        // Rows as the previous version wrote them: a contact row, its href, and a book
        // state without the `summaries` flag (no summary rows).
        let (store, shared) = store();
        let old = rec("1", "a", "old.vcf");
        let mut b = WriteBatch::new();
        b.put(
            Table::Mirror,
            contact_key("acct", "contacts", "1"),
            records::encode(&old).unwrap(),
        );
        b.put(
            Table::Hrefs,
            href_key("acct", "contacts", "old.vcf"),
            &b"1"[..],
        );
        b.put(
            Table::Sync,
            book_state_key("acct", "contacts"),
            &br#"{"rev":3,"floor":1,"delta_link":"https://graph/delta?x","refreshed_ms":5}"#[..],
        );
        store.commit(b).unwrap();

        let d = BookData::load(&shared, "acct", "contacts").unwrap();
        assert_eq!((d.journal.rev, d.journal.floor), (3, 1));
        assert_eq!(d.delta_link.as_deref(), Some("https://graph/delta?x"));
        let card = d
            .by_name("old.vcf")
            .unwrap()
            .card(VCardVersion::V3)
            .unwrap();
        assert_eq!(card.meta.etag, etag("a", VCardVersion::V3, &card.body));
        assert!(std::str::from_utf8(&card.body).unwrap().contains("Given 1"));
        // The summaries were written, and the next load reads them.
        assert!(
            store
                .get(Table::Mirror, &summary_key("acct", "contacts", "1"))
                .unwrap()
                .is_some()
        );
        let state: BookState = records::decode(
            &store
                .get(Table::Sync, &book_state_key("acct", "contacts"))
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert!(state.summaries);
        assert_eq!(state.rev, 3);
        let again = BookData::load(&shared, "acct", "contacts").unwrap();
        assert_eq!(
            listing(&again, VCardVersion::V3),
            listing(&d, VCardVersion::V3)
        );
    }

    #[test]
    fn a_summary_of_another_renderer_is_rebuilt() {
        let (store, shared) = store();
        let mut d = BookData::new(&shared, "acct", "contacts");
        run(
            &store,
            &mut d,
            vec![Change::Upsert(Box::new(rec("1", "a", "x.vcf")))],
            true,
        );
        let key = summary_key("acct", "contacts", "1");
        let mut s: SummaryRec =
            records::decode(&store.get(Table::Mirror, &key).unwrap().unwrap()).unwrap();
        s.rendering += 1;
        s.etag3 = "\"stale\"".into();
        store
            .put(Table::Mirror, &key, &records::encode(&s).unwrap())
            .unwrap();
        let back = BookData::load(&shared, "acct", "contacts").unwrap();
        let card = back
            .by_name("x.vcf")
            .unwrap()
            .card(VCardVersion::V3)
            .unwrap();
        assert_eq!(card.meta.etag, etag("a", VCardVersion::V3, &card.body));
    }
}
