//! The per-book change journal and what `sync-collection` answers from it (DESIGN.md
//! "Sync tokens"; RFC 6578 §3.6 paging with `limit`).
//!
//! Every member change takes the next revision; the entry says which name was
//! created/changed or deleted. Revisions are contiguous, so pruning to a retention of
//! N revisions deletes exactly the keys `floor+1 ..= rev-N`. A token is valid when
//! `floor <= rev <= current` (a token older than the floor or from the future is
//! [`Invalid`]). Answers report each name once, with its *current* state (present →
//! changed, absent → deleted), which is correct whatever happened in between.

use super::records::JournalRec;
use super::sync_token::SyncToken;
use std::collections::{BTreeMap, HashSet};

/// A token this journal cannot answer (expired, future or foreign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid;

/// The journal of one book, held in memory (loaded from `Table::Journal`).
#[derive(Debug, Clone, Default)]
pub struct Journal {
    pub rev: u64,
    pub floor: u64,
    pub entries: BTreeMap<u64, JournalRec>,
}

/// Which members a sync answer must report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Names to report with their current state, each once.
    pub names: Vec<String>,
    /// The token to hand out.
    pub next: SyncToken,
    pub truncated: bool,
}

impl Journal {
    /// Record a change; returns its revision.
    pub fn push(&mut self, name: &str, deleted: bool) -> u64 {
        self.rev += 1;
        self.entries.insert(
            self.rev,
            JournalRec {
                name: name.to_owned(),
                deleted,
            },
        );
        self.rev
    }

    /// Drop entries beyond `retention` revisions (0: keep everything); returns the pruned
    /// revisions (to delete from the store in the same batch).
    pub fn prune(&mut self, retention: u64) -> Vec<u64> {
        if retention == 0 {
            return Vec::new();
        }
        let new_floor = self.rev.saturating_sub(retention);
        if new_floor <= self.floor {
            return Vec::new();
        }
        let pruned: Vec<u64> = (self.floor + 1..=new_floor).collect();
        self.entries = self.entries.split_off(&(new_floor + 1));
        self.floor = new_floor;
        pruned
    }

    /// Make every earlier token invalid without journaling (initial load: the full
    /// listing is the answer for a token-less sync).
    pub fn reset_floor(&mut self) {
        self.rev += 1;
        self.floor = self.rev;
        self.entries.clear();
    }

    /// What to report for `since` (`None`: a first sync), given the book's current
    /// member names (sorted) and an optional `limit`.
    pub fn select<V>(
        &self,
        instance: &str,
        since: Option<&SyncToken>,
        members: &BTreeMap<String, V>,
        limit: Option<usize>,
    ) -> Result<Selection, Invalid> {
        let limit = limit.map(|l| l.max(1));
        let Some(token) = since else {
            return Ok(self.listing(instance, members, None, Vec::new(), limit));
        };
        if token.instance != instance || token.rev < self.floor || token.rev > self.rev {
            return Err(Invalid);
        }
        if let Some(after) = &token.cursor {
            // Continuation of a first sync: changes since its revision to names already
            // sent, then the rest of the listing.
            let mut seen = HashSet::new();
            let head: Vec<String> = self
                .entries
                .range(token.rev + 1..)
                .map(|(_, e)| &e.name)
                .filter(|n| *n <= after && seen.insert(*n))
                .cloned()
                .collect();
            return Ok(self.listing(instance, members, Some(after), head, limit));
        }
        let mut seen = HashSet::new();
        let mut names = Vec::new();
        let mut last = self.rev;
        let mut truncated = false;
        for (&rev, e) in self.entries.range(token.rev + 1..) {
            if !seen.contains(&e.name) {
                if limit.is_some_and(|l| names.len() >= l) {
                    truncated = true;
                    break;
                }
                seen.insert(e.name.clone());
                names.push(e.name.clone());
            }
            last = rev;
        }
        Ok(Selection {
            names,
            next: SyncToken::new(instance, if truncated { last } else { self.rev }),
            truncated,
        })
    }

    /// Every member (after `after`, in name order), preceded by `head`.
    fn listing<V>(
        &self,
        instance: &str,
        members: &BTreeMap<String, V>,
        after: Option<&String>,
        mut head: Vec<String>,
        limit: Option<usize>,
    ) -> Selection {
        use std::ops::Bound;
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut rest = members.range::<String, _>((lower, Bound::Unbounded));
        let mut next = SyncToken::new(instance, self.rev);
        let mut truncated = false;
        for (taken, (name, _)) in rest.by_ref().enumerate() {
            if limit.is_some_and(|l| taken >= l) {
                truncated = true;
                break;
            }
            head.push(name.clone());
            next.cursor = Some(name.clone());
        }
        if !truncated {
            next.cursor = None;
        }
        Selection {
            names: head,
            next,
            truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(names: &[&str]) -> BTreeMap<String, ()> {
        names.iter().map(|s| (s.to_string(), ())).collect()
    }

    #[test]
    fn first_sync_lists_everything_and_later_syncs_only_changes() {
        let mut j = Journal::default();
        j.reset_floor();
        let m = members(&["a", "b", "c"]);
        let first = j.select("i", None, &m, None).unwrap();
        assert_eq!(first.names, ["a", "b", "c"]);
        assert!(!first.truncated);
        assert_eq!(first.next, SyncToken::new("i", 1));
        let none = j.select("i", Some(&first.next), &m, None).unwrap();
        assert!(none.names.is_empty());
        assert_eq!(none.next, first.next);

        j.push("b", false);
        j.push("d", false);
        j.push("b", true);
        let m = members(&["a", "c", "d"]);
        let s = j.select("i", Some(&first.next), &m, None).unwrap();
        assert_eq!(s.names, ["b", "d"], "each name once, in first-change order");
        assert_eq!(s.next.rev, 4);
    }

    #[test]
    fn foreign_future_and_expired_tokens_are_invalid() {
        let mut j = Journal::default();
        j.reset_floor();
        for i in 0..10 {
            j.push(&format!("n{i}"), false);
        }
        let m = members(&[]);
        assert_eq!(
            j.select("other", Some(&SyncToken::new("other2", 5)), &m, None),
            Err(Invalid)
        );
        assert_eq!(
            j.select("i", Some(&SyncToken::new("i", 12)), &m, None),
            Err(Invalid)
        );
        assert!(
            j.select("i", Some(&SyncToken::new("i", 1)), &m, None)
                .is_ok()
        );
        let pruned = j.prune(4);
        assert_eq!(pruned, (2..=7).collect::<Vec<_>>());
        assert_eq!(j.floor, 7);
        assert_eq!(
            j.select("i", Some(&SyncToken::new("i", 6)), &m, None),
            Err(Invalid)
        );
        let s = j
            .select("i", Some(&SyncToken::new("i", 7)), &m, None)
            .unwrap();
        assert_eq!(s.names, ["n6", "n7", "n8", "n9"], "revisions 8..=11");
        assert!(j.prune(4).is_empty(), "nothing more to prune");
        j.push("n10", false);
        assert!(j.prune(0).is_empty(), "0 keeps everything");
    }

    #[test]
    fn limited_incremental_answers_page_without_losing_changes() {
        let mut j = Journal::default();
        j.reset_floor();
        let start = SyncToken::new("i", j.rev);
        for n in ["a", "b", "a", "c", "d"] {
            j.push(n, false);
        }
        let m = members(&["a", "b", "c", "d"]);
        let p1 = j.select("i", Some(&start), &m, Some(2)).unwrap();
        assert_eq!(p1.names, ["a", "b"]);
        assert!(p1.truncated);
        let p2 = j.select("i", Some(&p1.next), &m, Some(2)).unwrap();
        assert_eq!(p2.names, ["c", "d"]);
        assert!(!p2.truncated);
        assert_eq!(p2.next.rev, j.rev);
    }

    #[test]
    fn limited_first_sync_continues_by_name_and_catches_changes_in_between() {
        let mut j = Journal::default();
        j.reset_floor();
        let m = members(&["a", "b", "c", "d", "e"]);
        let p1 = j.select("i", None, &m, Some(2)).unwrap();
        assert_eq!(p1.names, ["a", "b"]);
        assert!(p1.truncated);
        assert_eq!(p1.next.cursor.as_deref(), Some("b"));
        // "a" changes and "d" goes away before the client continues.
        j.push("a", false);
        j.push("d", true);
        let m = members(&["a", "b", "c", "e"]);
        let p2 = j.select("i", Some(&p1.next), &m, Some(2)).unwrap();
        assert_eq!(p2.names, ["a", "c", "e"]);
        assert!(!p2.truncated);
        assert_eq!(p2.next, SyncToken::new("i", j.rev));
    }
}
