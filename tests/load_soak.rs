//! Issue 10 item 6: load and soak. 100 simulated CardDAV clients work at once against the
//! real `cardbridge serve` binary (loopback, the Graph emulator behind it) for a bounded
//! time: sync-collection polls with their last token, Depth-1 PROPFINDs, multigets of 20
//! cards, GETs, and PUTs updating each client's two own cards (If-Match; the cards are
//! created before the load). Afterwards:
//!
//! - every answer was one the client expects (207/200/201/204); nothing else, not one
//!   transport error;
//! - the serve process's RSS after the run is within 10 % of its RSS after the warm-up
//!   (the working set is fixed: updates replace cards);
//! - Graph holds exactly the cards the clients were told exist, with their last content.
//!
//! Latency per window (p50 / p99) is printed, not asserted (no timed assertions in tests).
//! Default: 100 clients, 5 s warm-up, 20 s measured. The long run of RELIABILITY.md:
//! `SOAK_SECS=300 cargo test --release --test load_soak -- --nocapture`.

mod app_support;

use app_support::{free_port, http, method, serve, write_config_with};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "soak test password";
const CLIENTS: usize = 100;
const SEEDED: usize = 500;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

fn card(uid: &str, fn_: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{fn_}\r\nN:{fn_};;;;\r\nTEL;TYPE=cell:+1 555 0100\r\nEND:VCARD\r\n"
    )
}

/// Every request's outcome, by the window it finished in.
#[derive(Default)]
struct Record {
    /// (window, kind) → latencies in µs.
    latencies: BTreeMap<(u64, &'static str), Vec<u64>>,
    unexpected: Vec<String>,
    /// href → (uid, FN) of each card a client created or updated, as last acknowledged.
    written: HashMap<String, (String, String)>,
}

struct Shared {
    base: String,
    started: Instant,
    window: Duration,
    stop_at: Instant,
    record: Mutex<Record>,
    hrefs: Vec<String>,
}

impl Shared {
    fn note(&self, kind: &'static str, took: Duration, status: Option<u16>, ok: &[u16]) {
        let w = self.started.elapsed().as_secs() / self.window.as_secs().max(1);
        let mut r = self.record.lock().unwrap();
        match status {
            Some(s) if ok.contains(&s) => r
                .latencies
                .entry((w, kind))
                .or_default()
                .push(took.as_micros() as u64),
            Some(s) => r.unexpected.push(format!("{kind}: {s}")),
            None => r.unexpected.push(format!("{kind}: transport error")),
        }
    }
}

/// Creates client `id`'s two cards before the load starts; returns (href, uid, etag).
async fn create_cards(shared: Arc<Shared>, id: usize) -> Vec<(String, String, Option<String>)> {
    let c = http();
    let book = format!("{}/dav/addressbooks/{USER}/contacts/", shared.base);
    let mut mine = Vec::new();
    for k in 0..2 {
        let name = format!("soak-{id}-{k}");
        let (href, uid, fn_) = (
            format!("{book}{name}.vcf"),
            format!("uid-{name}"),
            format!("Soak {id} created {k}"),
        );
        let r = c
            .put(&href)
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", "text/vcard")
            .header("If-None-Match", "*")
            .body(card(&uid, &fn_))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "create {href}");
        let etag = app_support::etag(&r);
        shared
            .record
            .lock()
            .unwrap()
            .written
            .insert(href.clone(), (uid.clone(), fn_));
        mine.push((href, uid, etag));
    }
    mine
}

async fn client(shared: Arc<Shared>, id: usize, mut mine: Vec<(String, String, Option<String>)>) {
    let c = http();
    let book = format!("{}/dav/addressbooks/{USER}/contacts/", shared.base);
    let mut token = String::new();
    let mut n = 0usize;
    while Instant::now() < shared.stop_at {
        n += 1;
        let pick = (id * 7 + n * 13) % 20;
        let t = Instant::now();
        match pick {
            0..=8 => {
                let body = format!(
                    r#"<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
                );
                let r = c
                    .request(method("REPORT"), &book)
                    .basic_auth(USER, Some(PASSWORD))
                    .header("Content-Type", "application/xml")
                    .body(body)
                    .send()
                    .await;
                let status = r.as_ref().ok().map(|r| r.status().as_u16());
                if let Ok(r) = r
                    && let Ok(text) = r.text().await
                    && let Some(tk) = between(&text, "<d:sync-token>", "</d:sync-token>")
                {
                    token = tk.to_owned();
                }
                shared.note("sync-collection", t.elapsed(), status, &[207]);
            }
            9..=10 => {
                let r = c
                    .request(method("PROPFIND"), &book)
                    .basic_auth(USER, Some(PASSWORD))
                    .header("Depth", "1")
                    .body(r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"#)
                    .send()
                    .await;
                let status = r.as_ref().ok().map(|r| r.status().as_u16());
                if let Ok(r) = r {
                    let _ = r.bytes().await;
                }
                shared.note("propfind-depth-1", t.elapsed(), status, &[207]);
            }
            11..=14 => {
                let start = (id * 31 + n) % shared.hrefs.len();
                let hrefs: String = (0..20)
                    .map(|k| {
                        format!(
                            "<D:href>{}</D:href>",
                            shared.hrefs[(start + k) % shared.hrefs.len()]
                        )
                    })
                    .collect();
                let r = c
                    .request(method("REPORT"), &book)
                    .basic_auth(USER, Some(PASSWORD))
                    .header("Content-Type", "application/xml")
                    .body(format!(r#"<?xml version="1.0"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>{hrefs}</C:addressbook-multiget>"#))
                    .send()
                    .await;
                let status = r.as_ref().ok().map(|r| r.status().as_u16());
                if let Ok(r) = r {
                    let _ = r.bytes().await;
                }
                shared.note("multiget-20", t.elapsed(), status, &[207]);
            }
            15..=16 => {
                let href = &shared.hrefs[(id * 17 + n) % shared.hrefs.len()];
                let r = c
                    .get(format!("{}{href}", shared.base))
                    .basic_auth(USER, Some(PASSWORD))
                    .send()
                    .await;
                let status = r.as_ref().ok().map(|r| r.status().as_u16());
                if let Ok(r) = r {
                    let _ = r.bytes().await;
                }
                shared.note("get", t.elapsed(), status, &[200]);
            }
            _ => {
                // Updates of the client's own two cards.
                let (href, uid, etag) = mine[n % 2].clone();
                let fn_ = format!("Soak {id} {n}");
                let mut req = c
                    .put(&href)
                    .basic_auth(USER, Some(PASSWORD))
                    .header("Content-Type", "text/vcard")
                    .body(card(&uid, &fn_));
                if let Some(e) = &etag {
                    req = req.header("If-Match", e);
                }
                let r = req.send().await;
                let status = r.as_ref().ok().map(|r| r.status().as_u16());
                if let Ok(r) = &r
                    && r.status() == 204
                {
                    mine[n % 2].2 = app_support::etag(r);
                    shared
                        .record
                        .lock()
                        .unwrap()
                        .written
                        .insert(href, (uid, fn_));
                }
                shared.note("put-update", t.elapsed(), status, &[204]);
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_for_a_while_without_errors_or_growth() {
    let warmup = Duration::from_secs(app_support::env_or("SOAK_WARMUP_SECS", 5));
    let measured = Duration::from_secs(app_support::env_or("SOAK_SECS", 20));
    let emu = app_support::emulator().await;
    let mailbox = emu.default_user();
    emu.seed_sample(&mailbox, SEEDED, 11);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // One user with 100 devices: the per-user request limit is raised so that the test
    // measures the server, not the limiter (hostile_input covers the limiter).
    let config = write_config_with(
        dir.path(),
        port,
        &emu,
        "user_requests_per_sec = 100000.0\nuser_request_burst = 100000\nmax_connections = 1000",
        "freshness_secs = 5",
    );
    app_support::login_and_add_user(&config, USER, PASSWORD).await;
    let server = serve(&config, &base).await;
    let pid = server.0.id();

    // The default book's hrefs, for GETs and multigets.
    let book = format!("{base}/dav/addressbooks/{USER}/contacts/");
    let hrefs = app_support::card_hrefs(&book, USER, PASSWORD).await;
    assert!(
        hrefs.len() > 100,
        "{} cards in the default book",
        hrefs.len()
    );

    let window = Duration::from_secs(5);
    let mut shared = Arc::new(Shared {
        base: base.clone(),
        started: Instant::now(),
        window,
        stop_at: Instant::now(),
        record: Mutex::new(Record::default()),
        hrefs,
    });
    // Each client's two cards exist before the load: the working set is then fixed.
    let creates: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(create_cards(shared.clone(), id)))
        .collect();
    let mut cards = Vec::new();
    for c in creates {
        cards.push(c.await.unwrap());
    }
    let started = Instant::now();
    {
        let s = Arc::get_mut(&mut shared).unwrap();
        s.started = started;
        s.stop_at = started + warmup + measured;
    }
    let clients: Vec<_> = cards
        .into_iter()
        .enumerate()
        .map(|(id, mine)| tokio::spawn(client(shared.clone(), id, mine)))
        .collect();
    tokio::time::sleep(warmup).await;
    let rss_warm = rss_kib(pid);
    let mut rss_samples = vec![rss_warm];
    while Instant::now() < shared.stop_at {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_samples.push(rss_kib(pid));
    }
    for c in clients {
        c.await.unwrap();
    }
    let rss_end = rss_kib(pid);

    let record = std::mem::take(&mut *shared.record.lock().unwrap());
    let total: usize = record.latencies.values().map(Vec::len).sum();
    println!(
        "load_soak: {CLIENTS} clients, {} s warm-up + {} s, {total} requests ({:.0}/s), RSS after warm-up {} MiB, min {} MiB, max {} MiB, end {} MiB",
        warmup.as_secs(),
        measured.as_secs(),
        total as f64 / (warmup + measured).as_secs_f64(),
        rss_warm / 1024,
        rss_samples.iter().min().unwrap() / 1024,
        rss_samples.iter().max().unwrap() / 1024,
        rss_end / 1024
    );
    let kinds: std::collections::BTreeSet<&str> =
        record.latencies.keys().map(|(_, k)| *k).collect();
    for kind in kinds {
        let line: Vec<String> = record
            .latencies
            .iter()
            .filter(|((_, k), _)| *k == kind)
            .map(|((w, _), v)| {
                let mut v = v.clone();
                v.sort_unstable();
                format!(
                    "[{}s: n={} p50 {:.1} ms p99 {:.1} ms]",
                    w * window.as_secs(),
                    v.len(),
                    percentile(&v, 0.5) as f64 / 1000.0,
                    percentile(&v, 0.99) as f64 / 1000.0
                )
            })
            .collect();
        println!("load_soak: {kind:>16} {}", line.join(" "));
    }
    assert!(
        record.unexpected.is_empty(),
        "{} unexpected answers, first: {:?}",
        record.unexpected.len(),
        &record.unexpected[..record.unexpected.len().min(10)]
    );
    assert!(
        rss_end * 10 <= rss_warm * 11,
        "RSS grew from {rss_warm} KiB after warm-up to {rss_end} KiB"
    );

    // Graph holds each written card once, with its last acknowledged content.
    let graph = emu.all_contacts(&mailbox);
    let mut names: HashMap<&str, usize> = HashMap::new();
    for g in &graph {
        *names
            .entry(g["displayName"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    for (href, (_, fn_)) in &record.written {
        assert_eq!(names.get(fn_.as_str()), Some(&1), "{href}: {fn_} in Graph");
    }
    assert_eq!(graph.len(), SEEDED + record.written.len());
    drop(server);
    emu.shutdown().await;
}
