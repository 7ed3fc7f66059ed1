//! Replays every checked-in fuzz seed and crash reproducer (`fuzz/seeds/<target>/`,
//! `fuzz/regressions/<target>/`) through the same checks the fuzz targets run
//! (`fuzz/checks.rs`), so a crash found once stays fixed under plain `cargo test`,
//! without nightly flags or a sanitizer build (issue 10 item 4; RELIABILITY.md).

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Every file under `fuzz/{seeds,regressions}/<target>/`, with its name for messages.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        for e in dir {
            let p = e.expect("dir entry").path();
            let name = format!(
                "{kind}/{target}/{}",
                p.file_name().unwrap().to_string_lossy()
            );
            out.push((name, std::fs::read(&p).expect("read input")));
        }
    }
    out.sort();
    out
}

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let all = inputs(target);
    for (name, data) in &all {
        let ok = std::panic::catch_unwind(|| check(data)).is_ok();
        assert!(ok, "{name} fails the {target} check again");
    }
    all.len()
}

#[test]
fn vcard_parse_inputs_pass() {
    assert!(replay("vcard_parse", checks::vcard_parse) >= 10);
}

#[test]
fn graph_json_inputs_pass() {
    assert!(replay("graph_json", checks::graph_json) >= 4);
}

#[test]
fn dav_xml_inputs_pass() {
    assert!(replay("dav_xml", checks::dav_xml) >= 7);
}

#[test]
fn dav_filter_inputs_pass() {
    assert!(replay("dav_filter", checks::dav_filter) >= 2);
}

#[test]
fn dav_request_inputs_pass() {
    assert!(replay("dav_request", checks::dav_request) >= 7);
}
