//! `cardbridge convert` as a user runs it: the built binary, stdin → stdout, on every
//! fixture in both directions.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Run `cardbridge convert <args>` with `input` on stdin: (status ok, stdout, stderr).
fn convert(args: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cardbridge"))
        .arg("convert")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn vcard_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures_dir().join("vcards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vcf"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_converts_to_graph_and_back() {
    for (name, bytes) in vcard_fixtures() {
        let (ok, json, err) = convert(&["--to", "graph", "--with-photo"], &bytes);
        assert!(ok, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let props = v["singleValueExtendedProperties"].as_array().unwrap();
        assert!(
            props
                .iter()
                .any(|p| p["id"] == cardbridge::vcard::STASH_PROPERTY_ID),
            "{name}"
        );
        assert!(
            v.get("displayName").is_some_and(|d| d.is_string()),
            "{name}"
        );
        for to in ["vcard3", "vcard4"] {
            let (ok, card, err) = convert(&["--from", "graph", "--to", to], json.as_bytes());
            assert!(ok, "{name} → {to}: {err}");
            assert!(card.starts_with("BEGIN:VCARD\r\n"), "{name}");
            // What came back maps to the same Graph body (the stash included).
            let (ok, again, err) = convert(&["--to", "graph", "--with-photo"], card.as_bytes());
            assert!(ok, "{name}: {err}");
            let again: serde_json::Value = serde_json::from_str(&again).unwrap();
            for key in [
                "displayName",
                "givenName",
                "surname",
                "emailAddresses",
                "businessPhones",
                "homePhones",
                "mobilePhone",
                "birthday",
                "categories",
                "homeAddress",
                "@cardbridge.photo",
            ] {
                assert_eq!(again.get(key), v.get(key), "{name} {to} {key}");
            }
        }
    }
}

#[test]
fn same_version_fixture_comes_back_unchanged_through_the_cli() {
    let bytes = std::fs::read(fixtures_dir().join("vcards/apple-contacts-3.0.vcf")).unwrap();
    let (_, json, _) = convert(&["--to", "graph", "--with-photo"], &bytes);
    let (ok, card, err) = convert(&["--to", "vcard3"], json.as_bytes());
    assert!(ok, "{err}");
    assert_eq!(card, String::from_utf8(bytes).unwrap());
}

#[test]
fn several_cards_on_stdin() {
    let mut all = Vec::new();
    for (_, bytes) in vcard_fixtures() {
        all.extend_from_slice(&bytes);
    }
    let (ok, json, err) = convert(&["--to", "graph"], &all);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(vcard_fixtures().len()));
    let (ok, cards, err) = convert(&["--to", "vcard4"], json.as_bytes());
    assert!(ok, "{err}");
    assert_eq!(
        cards.matches("BEGIN:VCARD\r\nVERSION:4.0\r\n").count(),
        vcard_fixtures().len()
    );
}

#[test]
fn graph_and_legacy_json_convert_to_vcards() {
    let graph = std::fs::read(fixtures_dir().join("graph/alex-wilber.json")).unwrap();
    let (ok, card, err) = convert(&["--to", "vcard3"], &graph);
    assert!(ok, "{err}");
    assert!(card.contains("FN:Alex Wilber\r\n"), "{card}");
    assert!(card.contains("BDAY:1815-12-10\r\n"), "{card}");

    let v2 = br#"{"Id":"AAMk2","DisplayName":"Pavel Bansky","GivenName":"Pavel","Surname":"Bansky","MobilePhone1":"+1 732 555 0102","EmailAddresses":[{"Name":"Pavel","Address":"pavelb@contoso.example"}]}"#;
    let (ok, card, err) = convert(&["--from", "outlook-v2", "--to", "vcard4"], v2);
    assert!(ok, "{err}");
    assert!(card.contains("TEL;TYPE=cell:+1 732 555 0102\r\n"), "{card}");
    assert!(
        card.contains("EMAIL;TYPE=internet:pavelb@contoso.example\r\n"),
        "{card}"
    );

    let live = br#"{"data":[{"id":"contact.1","first_name":"Roberto","last_name":"Tamburello","name":"Roberto Tamburello","emails":{"preferred":"r@x.example"}}]}"#;
    let (ok, card, err) = convert(&["--from", "live-v5", "--to", "vcard3"], live);
    assert!(ok, "{err}");
    assert!(card.contains("N:Tamburello;Roberto;;;\r\n"), "{card}");
}

#[test]
fn bad_input_fails_with_a_reason() {
    let (ok, _, err) = convert(&["--to", "graph"], b"hello world\n");
    assert!(!ok);
    assert!(err.contains("line 1"), "{err}");
    let (ok, _, err) = convert(
        &["--to", "graph"],
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n",
    );
    assert!(!ok);
    assert!(err.contains("END:VCARD"), "{err}");
    let (ok, _, err) = convert(&["--from", "graph", "--to", "vcard3"], b"{not json");
    assert!(!ok);
    assert!(err.contains("JSON"), "{err}");
}
