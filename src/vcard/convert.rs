//! `cardbridge convert`: what does this card become in Graph, and back?
//!
//! Reads one or several vCards, or Graph contact JSON (an object or an array; also the
//! Outlook REST v2.0 and Live Connect v5.0 dialects), on stdin and writes the other form
//! on stdout. The Graph form is exactly the body the bridge would POST / PATCH, with the
//! stash and UID extended properties. Admins use it to check a mapping; tests use it too.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, ValueEnum};

use super::legacy::{LiveV5Contact, OutlookV2Contact};
use super::{Limits, VCardVersion, card_to_contact, contact_to_card, split_cards};
use crate::graph::model::{Contact, Photo};

/// Non-Graph annotation carrying a card's photo in JSON output with `--with-photo`
/// (Graph takes photos in a separate request, graph.md §4.6).
pub const PHOTO_ANNOTATION: &str = "@cardbridge.photo";

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// vCard when the input starts with BEGIN:VCARD, Graph JSON when it starts with `{` or `[`.
    Auto,
    Vcard,
    Graph,
    #[value(name = "outlook-v2")]
    OutlookV2,
    #[value(name = "live-v5")]
    LiveV5,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Graph,
    Vcard3,
    Vcard4,
}

/// `cardbridge convert` arguments.
#[derive(Debug, Clone, Args)]
pub struct ConvertArgs {
    /// What stdin holds.
    #[arg(long, value_enum, default_value = "auto")]
    pub from: InputFormat,
    /// What to write on stdout.
    #[arg(long, value_enum)]
    pub to: OutputFormat,
    /// With `--to graph`, include an inline photo as a `@cardbridge.photo` annotation
    /// (not part of the Graph request; the bridge uploads photos separately).
    #[arg(long)]
    pub with_photo: bool,
}

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("card {index}: {source}")]
    Card {
        index: usize,
        source: super::VCardError,
    },
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no vCard found in the input")]
    Empty,
}

/// One contact in flight between the two forms.
struct Item {
    contact: Contact,
    photo: Option<Photo>,
}

/// Convert `input` as the command does (stdin → returned text).
pub fn convert(input: &[u8], args: &ConvertArgs) -> Result<String, ConvertError> {
    let items = read(input, args.from)?;
    write(items, args)
}

fn read(input: &[u8], from: InputFormat) -> Result<Vec<Item>, ConvertError> {
    let from = match from {
        InputFormat::Auto => {
            let start = input
                .iter()
                .find(|b| !b.is_ascii_whitespace() && **b != 0xef);
            if matches!(start, Some(b'{' | b'[')) {
                InputFormat::Graph
            } else {
                InputFormat::Vcard
            }
        }
        other => other,
    };
    match from {
        InputFormat::Vcard | InputFormat::Auto => {
            let text = std::str::from_utf8(input).map_err(|e| ConvertError::Card {
                index: 1,
                source: super::VCardError::Invalid(format!(
                    "invalid UTF-8 at byte {}",
                    e.valid_up_to()
                )),
            })?;
            let cards = split_cards(text);
            if cards.is_empty() {
                // Let the parser name what is wrong with the input.
                let source = card_to_contact(input, &Limits::default())
                    .err()
                    .ok_or(ConvertError::Empty)?;
                return Err(ConvertError::Card { index: 1, source });
            }
            cards
                .into_iter()
                .enumerate()
                .map(|(i, card)| {
                    card_to_contact(card.as_bytes(), &Limits::default())
                        .map(|p| Item {
                            contact: p.contact,
                            photo: p.photo,
                        })
                        .map_err(|source| ConvertError::Card {
                            index: i + 1,
                            source,
                        })
                })
                .collect()
        }
        InputFormat::Graph => Ok(json_items::<Contact>(input)?
            .into_iter()
            .map(|mut contact| {
                let photo = take_photo_annotation(&mut contact);
                Item { contact, photo }
            })
            .collect()),
        InputFormat::OutlookV2 => Ok(json_items::<OutlookV2Contact>(input)?
            .into_iter()
            .map(|c| Item {
                contact: c.into(),
                photo: None,
            })
            .collect()),
        InputFormat::LiveV5 => Ok(json_items::<LiveV5Contact>(input)?
            .into_iter()
            .map(|c| Item {
                contact: c.into(),
                photo: None,
            })
            .collect()),
    }
}

/// An object, an array, or a Graph / Live collection (`{"value": […]}`, `{"data": […]}`).
fn json_items<T: serde::de::DeserializeOwned>(input: &[u8]) -> Result<Vec<T>, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(input)?;
    let list = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => {
            match map.remove("value").or_else(|| map.remove("data")) {
                Some(serde_json::Value::Array(items)) => items,
                Some(other) => {
                    map.insert("value".into(), other);
                    vec![serde_json::Value::Object(map)]
                }
                None => vec![serde_json::Value::Object(map)],
            }
        }
        other => vec![other],
    };
    list.into_iter().map(serde_json::from_value).collect()
}

fn take_photo_annotation(contact: &mut Contact) -> Option<Photo> {
    let value = contact.extra.remove(PHOTO_ANNOTATION)?;
    let content_type = value.get("contentType")?.as_str()?.to_owned();
    let bytes = STANDARD.decode(value.get("data")?.as_str()?).ok()?;
    Some(Photo {
        content_type,
        bytes: bytes.into(),
    })
}

fn write(items: Vec<Item>, args: &ConvertArgs) -> Result<String, ConvertError> {
    let version = match args.to {
        OutputFormat::Graph => {
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                let mut v = serde_json::to_value(&item.contact)?;
                if let (true, Some(p), Some(map)) =
                    (args.with_photo, &item.photo, v.as_object_mut())
                {
                    map.insert(
                        PHOTO_ANNOTATION.into(),
                        serde_json::json!({
                            "contentType": p.content_type,
                            "data": STANDARD.encode(&p.bytes),
                        }),
                    );
                }
                values.push(v);
            }
            let out = if values.len() == 1 {
                serde_json::to_string_pretty(&values[0])?
            } else {
                serde_json::to_string_pretty(&values)?
            };
            return Ok(out + "\n");
        }
        OutputFormat::Vcard3 => VCardVersion::V3,
        OutputFormat::Vcard4 => VCardVersion::V4,
    };
    Ok(items
        .iter()
        .map(|i| contact_to_card(&i.contact, i.photo.as_ref(), version))
        .collect())
}

/// Run the command: stdin → stdout.
pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input)?;
    let out = convert(&input, &args)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(from: InputFormat, to: OutputFormat) -> ConvertArgs {
        ConvertArgs {
            from,
            to,
            with_photo: true,
        }
    }

    #[test]
    fn vcard_to_graph_and_back() {
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann@x\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nX-FOO:bar\r\nEND:VCARD\r\n";
        let json = convert(
            card.as_bytes(),
            &args(InputFormat::Auto, OutputFormat::Graph),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["displayName"], "Ann Lee");
        assert_eq!(
            v["singleValueExtendedProperties"][0]["id"],
            super::super::STASH_PROPERTY_ID
        );
        let back = convert(
            json.as_bytes(),
            &args(InputFormat::Auto, OutputFormat::Vcard3),
        )
        .unwrap();
        assert_eq!(back, card);
    }

    #[test]
    fn several_cards_give_an_array() {
        let cards = "BEGIN:VCARD\nVERSION:3.0\nFN:a\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:b\nEND:VCARD\n";
        let json = convert(
            cards.as_bytes(),
            &args(InputFormat::Vcard, OutputFormat::Graph),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn graph_collection_to_vcard4() {
        let json = r#"{"value":[{"id":"AAMk1","displayName":"Alex Wilber","givenName":"Alex","surname":"Wilber",
            "emailAddresses":[{"name":"a@x.org","address":"a@x.org"}],"birthday":"1990-05-01T11:59:00Z"}]}"#;
        let card = convert(
            json.as_bytes(),
            &args(InputFormat::Graph, OutputFormat::Vcard4),
        )
        .unwrap();
        assert!(card.contains("VERSION:4.0\r\n"));
        assert!(card.contains("FN:Alex Wilber\r\n"));
        assert!(card.contains("BDAY:19900501\r\n"));
        assert!(card.contains(&format!(
            "UID:{}\r\n",
            super::super::uid_for_graph_id("AAMk1")
        )));
    }

    #[test]
    fn bad_card_names_its_index() {
        let cards = "BEGIN:VCARD\nFN:a\nEND:VCARD\nBEGIN:VCARD\nNOTE:x\nEND:VCARD\n";
        let err = convert(
            cards.as_bytes(),
            &args(InputFormat::Vcard, OutputFormat::Graph),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("card 2:"), "{err}");
    }
}
