//! Graph URL parsing (reference/graph.md §1.2, §3).
//!
//! Turns `/v1.0|beta/{me|users/{id}}/…` into a [`Route`]: segment names are matched
//! case-insensitively (`contactFolders` = `contactfolders`), ids are percent-decoded and
//! kept case-sensitive, and folder item paths nest through `childFolders/{id}` to any
//! depth. An unknown segment is `400 RequestBroker--ParseUri`, as Graph answers.

use super::errors::{GraphErr, GraphResult};

/// Whose mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Me,
    User(String),
}

/// One Graph operation target (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Profile,
    /// `contacts` (folder `None` = default folder) — list / create.
    Contacts(Option<String>),
    ContactsDelta(Option<String>),
    Contact(String),
    ContactPermanentDelete(String),
    Photo(String),
    PhotoValue(String),
    Extensions(String),
    Extension(String, String),
    /// `contactFolders` — top-level list / create.
    Folders,
    FoldersDelta,
    Folder(String),
    FolderPermanentDelete(String),
    ChildFolders(String),
}

impl Route {
    /// Route template for statistics (`GET /contacts/{id}` …).
    pub fn class(&self) -> &'static str {
        match self {
            Route::Profile => "/{u}",
            Route::Contacts(None) => "/{u}/contacts",
            Route::Contacts(Some(_)) => "/{u}/contactFolders/{f}/contacts",
            Route::ContactsDelta(None) => "/{u}/contacts/delta",
            Route::ContactsDelta(Some(_)) => "/{u}/contactFolders/{f}/contacts/delta",
            Route::Contact(_) => "/{u}/contacts/{id}",
            Route::ContactPermanentDelete(_) => "/{u}/contacts/{id}/permanentDelete",
            Route::Photo(_) => "/{u}/contacts/{id}/photo",
            Route::PhotoValue(_) => "/{u}/contacts/{id}/photo/$value",
            Route::Extensions(_) => "/{u}/contacts/{id}/extensions",
            Route::Extension(..) => "/{u}/contacts/{id}/extensions/{name}",
            Route::Folders => "/{u}/contactFolders",
            Route::FoldersDelta => "/{u}/contactFolders/delta",
            Route::Folder(_) => "/{u}/contactFolders/{f}",
            Route::FolderPermanentDelete(_) => "/{u}/contactFolders/{f}/permanentDelete",
            Route::ChildFolders(_) => "/{u}/contactFolders/{f}/childFolders",
        }
    }
}

/// A parsed Graph path after the version segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Batch,
    Mailbox(Target, Route),
}

/// Split a raw path into percent-decoded segments.
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

fn is(seg: &str, name: &str) -> bool {
    seg.eq_ignore_ascii_case(name)
}

/// `contactFolders('id')` key syntax → the id.
fn key_syntax<'a>(seg: &'a str, name: &str) -> Option<&'a str> {
    let n = name.len();
    if seg.len() > n + 4 && seg[..n].eq_ignore_ascii_case(name) {
        let rest = &seg[n..];
        return rest.strip_prefix("('").and_then(|r| r.strip_suffix("')"));
    }
    None
}

/// Parse the segments after `/v1.0` or `/beta`.
pub fn parse(segs: &[String]) -> GraphResult<Parsed> {
    let Some(first) = segs.first() else {
        return Err(GraphErr::parse_uri(""));
    };
    if is(first, "$batch") && segs.len() == 1 {
        return Ok(Parsed::Batch);
    }
    let (target, rest) = if is(first, "me") {
        (Target::Me, &segs[1..])
    } else if is(first, "users") {
        let Some(id) = segs.get(1) else {
            return Err(GraphErr::parse_uri("users"));
        };
        (Target::User(id.clone()), &segs[2..])
    } else if let Some(id) = key_syntax(first, "users") {
        (Target::User(id.to_owned()), &segs[1..])
    } else {
        return Err(GraphErr::parse_uri(first));
    };
    Ok(Parsed::Mailbox(target, parse_mailbox(rest)?))
}

fn parse_mailbox(rest: &[String]) -> GraphResult<Route> {
    let Some(head) = rest.first() else {
        return Ok(Route::Profile);
    };
    if is(head, "contacts") {
        return match rest.get(1) {
            None => Ok(Route::Contacts(None)),
            Some(s) if is(s, "delta") && rest.len() == 2 => Ok(Route::ContactsDelta(None)),
            Some(id) => contact_tail(id, &rest[2..]),
        };
    }
    if is(head, "contactFolders") {
        return match rest.get(1) {
            None => Ok(Route::Folders),
            Some(s) if is(s, "delta") && rest.len() == 2 => Ok(Route::FoldersDelta),
            Some(f) => folder_tail(f, &rest[2..]),
        };
    }
    if let Some(f) = key_syntax(head, "contactFolders") {
        return folder_tail(f, &rest[1..]);
    }
    Err(GraphErr::parse_uri(head))
}

fn folder_tail(f: &str, tail: &[String]) -> GraphResult<Route> {
    let f = f.to_owned();
    let Some(head) = tail.first() else {
        return Ok(Route::Folder(f));
    };
    if is(head, "permanentDelete") && tail.len() == 1 {
        return Ok(Route::FolderPermanentDelete(f));
    }
    if is(head, "childFolders") {
        return match tail.get(1) {
            None => Ok(Route::ChildFolders(f)),
            Some(g) => folder_tail(g, &tail[2..]),
        };
    }
    if let Some(g) = key_syntax(head, "childFolders") {
        return folder_tail(g, &tail[1..]);
    }
    if is(head, "contacts") {
        return match tail.get(1) {
            None => Ok(Route::Contacts(Some(f))),
            Some(s) if is(s, "delta") && tail.len() == 2 => Ok(Route::ContactsDelta(Some(f))),
            Some(id) => contact_tail(id, &tail[2..]),
        };
    }
    Err(GraphErr::parse_uri(head))
}

fn contact_tail(id: &str, tail: &[String]) -> GraphResult<Route> {
    let id = id.to_owned();
    match tail {
        [] => Ok(Route::Contact(id)),
        [p] if is(p, "permanentDelete") => Ok(Route::ContactPermanentDelete(id)),
        [p] if is(p, "photo") => Ok(Route::Photo(id)),
        [p, v] if is(p, "photo") && is(v, "$value") => Ok(Route::PhotoValue(id)),
        [e] if is(e, "extensions") => Ok(Route::Extensions(id)),
        [e, n] if is(e, "extensions") => Ok(Route::Extension(id, n.clone())),
        [s, ..] => Err(GraphErr::parse_uri(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> GraphResult<Parsed> {
        parse(&segments(path))
    }

    #[test]
    fn segment_names_are_case_insensitive_ids_decoded() {
        assert_eq!(
            p("/me/CONTACTFOLDERS/AbC%2Fd%3D/Contacts/Delta").unwrap(),
            Parsed::Mailbox(Target::Me, Route::ContactsDelta(Some("AbC/d=".into())))
        );
        assert_eq!(
            p("/users/u%40x.com/contacts/ID1/photo/$value").unwrap(),
            Parsed::Mailbox(
                Target::User("u@x.com".into()),
                Route::PhotoValue("ID1".into())
            )
        );
    }

    #[test]
    fn nested_child_folders_resolve_to_the_innermost_folder() {
        assert_eq!(
            p("/me/contactFolders/A/childFolders/B/childFolders/C/contacts/X").unwrap(),
            Parsed::Mailbox(Target::Me, Route::Contact("X".into()))
        );
        assert_eq!(
            p("/me/contactFolders('A')/childFolders").unwrap(),
            Parsed::Mailbox(Target::Me, Route::ChildFolders("A".into()))
        );
    }

    #[test]
    fn unknown_segments_and_photo_sizes_are_parse_uri_errors() {
        let e = p("/me/contacts/X/photos/48x48/$value").unwrap_err();
        assert_eq!(e.code, "RequestBroker--ParseUri");
        assert_eq!(e.message, "Resource not found for the segment 'photos'.");
        assert!(p("/me/messages").is_err());
        assert_eq!(p("/$batch").unwrap(), Parsed::Batch);
    }
}
