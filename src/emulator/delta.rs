//! Delta queries for contacts (per folder) and contact folders (reference/graph.md §4.8).
//!
//! A delta *chain* starts with a request without a token: its first round lists every
//! current item, later rounds (from the `@odata.deltaLink`) list items whose change
//! counter moved past the previous round, plus `@removed` tombstones for items deleted
//! from or moved out of the folder. Each served page is a new *generation*; only the
//! newest three survive (older tokens → 410 `SyncStateNotFound` with Graph's message),
//! a token that does not decode is 400 "Badly formed token", and an admin call can
//! expire every chain of a mailbox. Page size comes from `Prefer: odata.maxpagesize`;
//! `$top` caps the whole first round instead of paging (the trap Graph sets, §0 point 7);
//! `$select` is kept in the chain; `$expand` is refused.

use super::errors::{GraphErr, GraphResult};
use super::graph::{Ctx, contact_known};
use super::query::Query;
use super::request::Reply;
use super::world::{Mailbox, RenderOpts};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most chains kept per mailbox; the oldest is forgotten (→ 410) beyond it.
const MAX_CHAINS: usize = 2000;
/// Generations kept per chain (§4.8 "only the newest ~3").
const KEPT_GENERATIONS: u64 = 3;

/// One entry of a delta round.
#[derive(Debug, Clone)]
pub enum Entry {
    Contact(u64),
    Folder(u64),
    Removed {
        immutable_id: String,
        default_id: String,
    },
}

#[derive(Debug, Clone)]
enum GenState {
    /// Inside a round: the remaining entries from `offset`.
    Page {
        entries: Arc<Vec<Entry>>,
        offset: usize,
        until: u64,
    },
    /// A finished round: the next one reports changes after `since`.
    Since(u64),
}

/// One delta chain (a token lineage).
#[derive(Debug, Clone)]
pub struct Chain {
    /// Tracked folder; `None` for the folder hierarchy delta.
    pub folder: Option<u64>,
    select: Option<Vec<String>>,
    highest: u64,
    gens: BTreeMap<u64, GenState>,
}

fn encode_token(chain: u64, generation: u64) -> String {
    let mut b = Vec::with_capacity(18);
    b.extend_from_slice(b"Dt");
    b.extend_from_slice(&chain.to_be_bytes());
    b.extend_from_slice(&generation.to_be_bytes());
    URL_SAFE_NO_PAD.encode(b)
}

fn decode_token(t: &str) -> GraphResult<(u64, u64)> {
    let b = URL_SAFE_NO_PAD
        .decode(t.trim())
        .map_err(|_| GraphErr::badly_formed_token())?;
    if b.len() != 18 || &b[..2] != b"Dt" {
        return Err(GraphErr::badly_formed_token());
    }
    let mut c = [0u8; 8];
    let mut g = [0u8; 8];
    c.copy_from_slice(&b[2..10]);
    g.copy_from_slice(&b[10..18]);
    Ok((u64::from_be_bytes(c), u64::from_be_bytes(g)))
}

/// Forget every chain of the mailbox (admin "expire delta").
pub fn expire_all(mb: &mut Mailbox) {
    mb.chains.clear();
}

/// `GET …/contacts/delta` for folder `folder`.
pub fn contacts(ctx: &mut Ctx<'_>, folder: u64) -> GraphResult<Reply> {
    serve(ctx, Some(folder))
}

/// `GET /contactFolders/delta`: the whole folder tree below the default folder.
pub fn folders(ctx: &mut Ctx<'_>) -> GraphResult<Reply> {
    serve(ctx, None)
}

fn initial_entries(mb: &Mailbox, folder: Option<u64>) -> Vec<Entry> {
    match folder {
        Some(f) => mb.contacts_in(f).map(|c| Entry::Contact(c.key)).collect(),
        None => mb
            .folders
            .values()
            .filter(|f| f.key != mb.default_folder)
            .map(|f| Entry::Folder(f.key))
            .collect(),
    }
}

fn changes_since(mb: &Mailbox, folder: Option<u64>, since: u64) -> Vec<Entry> {
    let mut out: Vec<(u64, Entry)> = Vec::new();
    match folder {
        Some(f) => {
            out.extend(
                mb.contacts_in(f)
                    .filter(|c| c.change_seq > since)
                    .map(|c| (c.change_seq, Entry::Contact(c.key))),
            );
            out.extend(
                mb.tombstones
                    .iter()
                    .filter(|t| t.folder == f && t.seq > since)
                    .map(|t| {
                        (
                            t.seq,
                            Entry::Removed {
                                immutable_id: t.immutable_id.clone(),
                                default_id: t.default_id.clone(),
                            },
                        )
                    }),
            );
        }
        None => {
            out.extend(
                mb.folders
                    .values()
                    .filter(|f| f.key != mb.default_folder && f.change_seq > since)
                    .map(|f| (f.change_seq, Entry::Folder(f.key))),
            );
            out.extend(
                mb.folder_tombstones
                    .iter()
                    .filter(|(seq, _)| *seq > since)
                    .map(|(seq, id)| {
                        (
                            *seq,
                            Entry::Removed {
                                immutable_id: id.clone(),
                                default_id: id.clone(),
                            },
                        )
                    }),
            );
        }
    }
    out.sort_by_key(|(seq, _)| *seq);
    out.into_iter().map(|(_, e)| e).collect()
}

fn serve(ctx: &mut Ctx<'_>, folder: Option<u64>) -> GraphResult<Reply> {
    let q = Query::parse(&ctx.req.query, &contact_known)?;
    if !q.expand.is_empty() {
        return Err(GraphErr::new(
            400,
            "BadRequest",
            "The query option '$expand' is not supported on delta queries.",
        ));
    }
    if q.filter.is_some() || !q.orderby.is_empty() {
        return Err(GraphErr::new(
            400,
            "BadRequest",
            "Only $select is supported on delta queries of contacts.",
        ));
    }
    let token = q.skiptoken.as_deref().or(q.deltatoken.as_deref());
    let (chain_id, mut chain, state) = match token {
        Some(t) => {
            let (chain_id, generation) = decode_token(t)?;
            let Some(chain) = ctx.mb.chains.remove(&chain_id) else {
                return Err(GraphErr::sync_state_not_found(generation, generation));
            };
            let state = if generation + KEPT_GENERATIONS <= chain.highest {
                None
            } else {
                chain.gens.get(&generation).cloned()
            };
            let Some(state) = state else {
                let err = GraphErr::sync_state_not_found(generation, chain.highest);
                ctx.mb.chains.insert(chain_id, chain);
                return Err(err);
            };
            (chain_id, chain, state)
        }
        None => {
            *ctx.next_chain += 1;
            let mut entries = initial_entries(ctx.mb, folder);
            if let Some(top) = q.top {
                entries.truncate(top);
            }
            let chain = Chain {
                folder,
                select: q.select.clone(),
                highest: 0,
                gens: BTreeMap::new(),
            };
            let state = GenState::Page {
                entries: Arc::new(entries),
                offset: 0,
                until: ctx.mb.seq(),
            };
            (*ctx.next_chain, chain, state)
        }
    };
    let (entries, offset, until) = match state {
        GenState::Page {
            entries,
            offset,
            until,
        } => (entries, offset, until),
        GenState::Since(since) => (
            Arc::new(changes_since(ctx.mb, chain.folder, since)),
            0,
            ctx.mb.seq(),
        ),
    };
    let page = ctx
        .req
        .max_page_size()
        .unwrap_or(ctx.settings.delta_default_page_size)
        .clamp(1, ctx.settings.delta_max_page_size);
    let end = offset.saturating_add(page).min(entries.len());
    let opts = RenderOpts {
        immutable: ctx.immutable(),
        select: chain.select.clone(),
        schema_2026: ctx.settings.schema_2026,
        ..RenderOpts::default()
    };
    let value: Vec<Value> = entries[offset..end]
        .iter()
        .filter_map(|e| render(ctx.mb, e, &opts, chain.folder.is_some()))
        .collect();
    chain.highest += 1;
    let generation = chain.highest;
    let more = end < entries.len();
    let next_state = if more {
        GenState::Page {
            entries,
            offset: end,
            until,
        }
    } else {
        GenState::Since(until)
    };
    chain.gens.insert(generation, next_state);
    let keep_from = generation.saturating_sub(KEPT_GENERATIONS - 1);
    chain.gens.retain(|g, _| *g >= keep_from);
    let folder_for_chain = chain.folder;
    ctx.mb.chains.insert(chain_id, chain);
    if ctx.mb.chains.len() > MAX_CHAINS
        && let Some(oldest) = ctx.mb.chains.keys().min().copied()
    {
        ctx.mb.chains.remove(&oldest);
    }
    let token = encode_token(chain_id, generation);
    let link_key = if more {
        "@odata.nextLink"
    } else {
        "@odata.deltaLink"
    };
    let param = if more {
        "%24skiptoken"
    } else {
        "%24deltatoken"
    };
    let link = format!("{}{}?{param}={token}", ctx.req.origin, ctx.req.path);
    let entity = if folder_for_chain.is_some() {
        "contact"
    } else {
        "contactFolder"
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/$metadata#Collection({entity})",
            ctx.req.version_base()
        )),
    );
    body.insert(link_key.into(), Value::String(link));
    body.insert("value".into(), Value::Array(value));
    let mut reply = Reply::json(200, Value::Object(body));
    if ctx.req.max_page_size().is_some() {
        reply = reply.with_header("preference-applied", &format!("odata.maxpagesize={page}"));
    }
    Ok(reply)
}

fn render(mb: &Mailbox, e: &Entry, opts: &RenderOpts, contacts: bool) -> Option<Value> {
    let ty = if contacts {
        "#microsoft.graph.contact"
    } else {
        "#microsoft.graph.contactFolder"
    };
    let mut m = Map::new();
    m.insert("@odata.type".into(), json!(ty));
    match e {
        Entry::Contact(k) => {
            let c = mb.contacts.get(k)?;
            m.extend(mb.render_contact(c, opts));
        }
        Entry::Folder(k) => {
            let f = mb.folders.get(k)?;
            m.extend(mb.render_folder(f));
        }
        Entry::Removed {
            immutable_id,
            default_id,
        } => {
            let id = if opts.immutable {
                immutable_id
            } else {
                default_id
            };
            m.insert("id".into(), json!(id));
            m.insert("@removed".into(), json!({"reason": "deleted"}));
        }
    }
    Some(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_badly_formed() {
        let t = encode_token(42, 7);
        assert_eq!(decode_token(&t).unwrap(), (42, 7));
        assert_eq!(
            decode_token("not a token!").unwrap_err().message,
            "Badly formed token"
        );
        assert!(decode_token(&URL_SAFE_NO_PAD.encode(b"Xx0123456789abcdef")).is_err());
    }

    #[test]
    fn changes_since_orders_tombstones_and_updates_by_change() {
        use super::super::props::WriteMode;
        let w = WriteMode {
            create: true,
            allow_extended: true,
        };
        let mut mb = Mailbox::new(1, "a@b", "A");
        let d = mb.default_folder;
        let a = mb
            .create_contact(d, &serde_json::json!({"givenName":"A"}), w)
            .unwrap();
        let b = mb
            .create_contact(d, &serde_json::json!({"givenName":"B"}), w)
            .unwrap();
        let since = mb.seq();
        mb.delete_contact(a);
        mb.update_contact(
            b,
            &serde_json::json!({"jobTitle":"x"}),
            WriteMode {
                create: false,
                allow_extended: true,
            },
        )
        .unwrap();
        let ch = changes_since(&mb, Some(d), since);
        assert_eq!(ch.len(), 2);
        assert!(matches!(ch[0], Entry::Removed { .. }));
        assert!(matches!(ch[1], Entry::Contact(k) if k == b));
        assert_eq!(initial_entries(&mb, Some(d)).len(), 1);
    }
}
