//! The onboarding page (issue 11 item 2) in a real headless Chromium, driven over
//! WebDriver (chromedriver + fantoccini), against `cardbridge serve` (the real binary,
//! from a config file with `[web]`) in front of the Graph emulator.
//!
//! Done when: sign-in through the emulator's authorize page, the app password shown
//! once, the `.mobileconfig` downloads and parses as a property list naming this server
//! and user, and a libdav client syncs the mailbox with that password. Also: revoking the
//! password in the browser makes the same password 401, a form without the session's
//! CSRF token is refused, and a user outside the allow list gets the refusal page and
//! nothing is stored for them.
//!
//! Screenshots (PNG) of each step are written under `CARGO_TARGET_TMPDIR/web-screenshots/`
//! and their paths printed.
//!
//! Without Chromium and chromedriver the test prints "SKIPPED: chromium not installed"
//! and returns, unless `CARDBRIDGE_REQUIRE_BROWSER=1` (CI), where it fails.

mod app_support;

use app_support::{Running, free_port, sigterm_and_wait};
use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use libdav::CardDavClient;
use libdav::carddav::{FindAddressBookHomeSet, FindAddressBooks};
use libdav::dav::{ListResources, WebDavClient};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ALLOWED: &str = "demo@cardbridge.test";
const OUTSIDER: &str = "outsider@cardbridge.test";
const CONTACTS: usize = 37;

/// `name` in `$PATH` (or the override in the environment variable `env`).
fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, or `None` after saying loudly that the test is skipped.
fn browser_programs() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = find_program("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            assert!(
                std::env::var("CARDBRIDGE_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "CARDBRIDGE_REQUIRE_BROWSER=1 but chromium / chromedriver are not installed \
                 (apt-get install -y chromium chromium-driver)"
            );
            // Straight to the process's stderr: libtest captures `eprintln!` of a
            // passing test, and this must be seen.
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(
                b"\n**********************************************************************\n\
                  SKIPPED: chromium not installed (apt-get install chromium chromium-driver);\n\
                  the onboarding page was NOT tested in a browser\n\
                  **********************************************************************\n",
            );
            None
        }
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Poll `url` until it answers 200 (a bounded wait for a process to start, not a
/// timing assertion).
async fn wait_up(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http().get(url).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{what} never came up at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_config(dir: &Path, port: u16, emu: &EmulatorHandle) -> PathBuf {
    let path = dir.join("cardbridge.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n\n\
         [graph]\nroot = \"{base}\"\nauthority = \"{base}\"\nclient_id = \"{client}\"\n\n\
         [bridge]\nfreshness_secs = 0\n\n\
         [state]\npath = \"{state}\"\n\n\
         [web]\nenabled = true\npublic_url = \"http://127.0.0.1:{port}\"\nallowed_users = [\"{ALLOWED}\"]\n",
        base = emu.base_url(),
        client = emu.client_id(),
        state = dir.join("state.redb").display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

struct Shots {
    dir: PathBuf,
    n: usize,
}

impl Shots {
    fn new() -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, n: 0 }
    }

    async fn take(&mut self, browser: &Client, name: &str) {
        self.n += 1;
        let png = browser.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = self.dir.join(format!("{:02}-{name}.png", self.n));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}

async fn start_browser(chromium: &Path, driver: &Path, profile: &Path) -> (Running, Client) {
    let port = free_port();
    let chromedriver = Running(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver"),
    );
    let url = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{url}/status"), "chromedriver").await;
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1100,1900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&url)
        .await
        .expect("WebDriver session with Chromium");
    (chromedriver, browser)
}

/// On the emulator's authorize page: sign in as `login` and accept.
async fn approve_at_emulator(
    browser: &Client,
    emu: &EmulatorHandle,
    login: &str,
    shots: &mut Shots,
) {
    let field = browser
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await
        .unwrap();
    let here = browser.current_url().await.unwrap();
    assert!(
        here.as_str()
            .starts_with(&format!("{}/common/oauth2/v2.0/authorize?", emu.base_url())),
        "{here}"
    );
    let q: std::collections::HashMap<_, _> = here.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(
        q["scope"].split(' ').any(|s| s == "openid"),
        "{}",
        q["scope"]
    );
    assert!(!q["nonce"].is_empty() && !q["state"].is_empty());
    field.send_keys(login).await.unwrap();
    shots
        .take(
            browser,
            &format!("authorize-{}", login.split('@').next().unwrap()),
        )
        .await;
    browser
        .find(Locator::Css("button[value=approve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Sync the whole address-book home with libdav: (books, cards).
async fn libdav_sync(port: u16, user: &str, password: &str) -> Result<(usize, usize), String> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<String>();
    let auth = tower_http::auth::AddAuthorization::basic(client, user, password);
    let base = format!("http://127.0.0.1:{port}/").parse().unwrap();
    let dav = CardDavClient::new(WebDavClient::new(base, auth));
    let principal = dav
        .find_current_user_principal()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no principal")?;
    let home = dav
        .request(FindAddressBookHomeSet::new(principal.path()))
        .await
        .map_err(|e| e.to_string())?
        .home_sets
        .remove(0);
    let books = dav
        .request(FindAddressBooks::new(home.path()))
        .await
        .map_err(|e| e.to_string())?
        .addressbooks;
    let mut cards = 0;
    for b in &books {
        let listed = dav
            .request(ListResources::new(&b.href))
            .await
            .map_err(|e| e.to_string())?
            .resources;
        assert!(listed.iter().all(|r| r.etag.is_some()));
        cards += listed.len();
    }
    Ok((books.len(), cards))
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_shows_a_password_that_syncs_profile_parses_revoke_works_outsider_refused() {
    let Some((chromium, driver)) = browser_programs() else {
        return;
    };
    let emu = cardbridge::emulator::start(EmulatorConfig {
        throttle: false,
        auto_approve: false,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let mailbox = emu.default_user();
    emu.seed_sample(&mailbox, CONTACTS, 5);
    emu.add_user(OUTSIDER);

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let config = write_config(dir.path(), port, &emu);
    let serve = app_support::serve(&config, &origin).await;

    let profile = tempfile::tempdir().unwrap();
    let (chromedriver, browser) = start_browser(&chromium, &driver, profile.path()).await;
    let mut shots = Shots::new();

    // A browser opening the server's root lands on the sign-in page.
    browser.goto(&format!("{origin}/")).await.unwrap();
    let sign_in = browser
        .wait()
        .for_element(Locator::Css("#sign-in"))
        .await
        .unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/web/");
    assert_eq!(sign_in.text().await.unwrap(), "Sign in with Microsoft");
    shots.take(&browser, "landing").await;

    // "Sign in with Microsoft" → the emulator's authorize page → back, signed in.
    sign_in.click().await.unwrap();
    approve_at_emulator(&browser, &emu, ALLOWED, &mut shots).await;
    let password = text_of(&browser, "#app-password").await;
    assert_eq!(password.len(), 27, "{password}");
    assert_eq!(
        browser.current_url().await.unwrap().as_str(),
        format!("{origin}/web/")
    );
    assert_eq!(text_of(&browser, "#user-name").await, ALLOWED);
    assert_eq!(text_of(&browser, "#server-url").await, format!("{origin}/"));
    let link = browser
        .find(Locator::Css("#davx5-link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap();
    assert_eq!(
        link.as_deref(),
        Some(format!("carddav://demo%40cardbridge.test@127.0.0.1:{port}/").as_str())
    );
    // The QR image loaded (an SVG from the page's own origin, allowed by its CSP).
    let qr = browser.find(Locator::Css("#qr")).await.unwrap();
    let qr_width = browser
        .execute(
            "return arguments[0].naturalWidth;",
            vec![serde_json::to_value(&qr).unwrap()],
        )
        .await
        .unwrap();
    assert!(qr_width.as_u64().is_some_and(|w| w >= 200), "{qr_width}");
    shots.take(&browser, "account-new-password").await;

    // Shown once: a reload no longer has it.
    browser.refresh().await.unwrap();
    browser
        .wait()
        .for_element(Locator::Css("#app-passwords"))
        .await
        .unwrap();
    assert!(browser.find(Locator::Css("#app-password")).await.is_err());

    // The profile, fetched with the browser's session cookie and the page's CSRF token.
    let session = browser
        .get_named_cookie("cardbridge_session")
        .await
        .unwrap()
        .value()
        .to_owned();
    let csrf = browser
        .find(Locator::Css("#apple input[name=csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let cookie = format!("cardbridge_session={session}");
    let post_profile = |form: Vec<(&'static str, String)>| {
        http()
            .post(format!("{origin}/web/profile.mobileconfig"))
            .header("Cookie", &cookie)
            .header("Origin", &origin)
            .form(&form)
            .send()
    };
    let r = post_profile(vec![
        ("csrf", csrf.clone()),
        ("include_password", "1".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"cardbridge-127.0.0.1.mobileconfig\"")
    );
    let bytes = r.bytes().await.unwrap();
    let root = plist::Value::from_reader_xml(&bytes[..])
        .expect("the profile is an XML property list")
        .into_dictionary()
        .unwrap();
    assert_eq!(root["PayloadType"].as_string(), Some("Configuration"));
    let account = root["PayloadContent"].as_array().unwrap()[0]
        .as_dictionary()
        .unwrap();
    assert_eq!(
        account["PayloadType"].as_string(),
        Some("com.apple.carddav.account")
    );
    assert_eq!(account["CardDAVHostName"].as_string(), Some("127.0.0.1"));
    assert_eq!(
        account["CardDAVPort"].as_signed_integer(),
        Some(i64::from(port))
    );
    assert_eq!(account["CardDAVUseSSL"].as_boolean(), Some(false));
    assert_eq!(account["CardDAVUsername"].as_string(), Some(ALLOWED));
    assert_eq!(
        account["CardDAVPrincipalURL"].as_string(),
        Some(format!("{origin}/dav/principals/{ALLOWED}/").as_str())
    );
    assert_eq!(
        account["CardDAVPassword"].as_string(),
        Some(password.as_str())
    );
    // Without the box ticked (or by GET) the profile holds no password.
    let plain = post_profile(vec![("csrf", csrf.clone())])
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let plain = plist::Value::from_reader_xml(&plain[..]).unwrap();
    let plain_account = plain.as_dictionary().unwrap()["PayloadContent"]
        .as_array()
        .unwrap()[0]
        .as_dictionary()
        .unwrap();
    assert!(!plain_account.contains_key("CardDAVPassword"));
    assert_eq!(plain_account["CardDAVUsername"].as_string(), Some(ALLOWED));
    // A form without this session's CSRF token, or from another origin, is refused.
    let forged = post_profile(vec![
        ("csrf", "forged".into()),
        ("include_password", "1".into()),
    ])
    .await
    .unwrap();
    assert_eq!(forged.status(), 403);
    let foreign = http()
        .post(format!("{origin}/web/profile.mobileconfig"))
        .header("Cookie", &cookie)
        .header("Origin", "http://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);

    // A CardDAV client syncs the mailbox with the shown password.
    let (books, cards) = libdav_sync(port, ALLOWED, &password).await.unwrap();
    assert_eq!(books, emu.folders(&mailbox).len());
    assert_eq!(cards, CONTACTS);
    assert_eq!(cards, emu.contact_count(&mailbox));

    // The status section shows the synced mailbox, per book.
    browser.refresh().await.unwrap();
    assert_eq!(
        text_of(&browser, "#total-contacts").await,
        CONTACTS.to_string()
    );
    let rows = browser
        .find_all(Locator::Css("#books tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), books);
    let mut per_book = 0;
    for row in &rows {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        per_book += cells[1].text().await.unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(per_book, CONTACTS);
    shots.take(&browser, "status").await;

    // Revoke the password in the browser: the same password is refused from then on.
    let revoke = browser
        .find_all(Locator::Css("button[id^=revoke-]"))
        .await
        .unwrap();
    assert_eq!(
        revoke.len(),
        1,
        "a new user has exactly the password just made"
    );
    revoke[0].click().await.unwrap();
    let notice = text_of(&browser, "#notice").await;
    assert!(notice.contains("revoked"), "{notice}");
    assert!(
        browser
            .find_all(Locator::Css("button[id^=revoke-]"))
            .await
            .unwrap()
            .is_empty()
    );
    shots.take(&browser, "revoked").await;
    let refused = http()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{origin}/dav/addressbooks/{ALLOWED}/"),
        )
        .basic_auth(ALLOWED, Some(&password))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(libdav_sync(port, ALLOWED, &password).await.is_err());

    // Sign out; someone outside the allow list signs in and is refused.
    browser
        .find(Locator::Css("#sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Css("#sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    approve_at_emulator(&browser, &emu, OUTSIDER, &mut shots).await;
    let refusal = text_of(&browser, "#refused").await;
    assert!(refusal.contains(OUTSIDER), "{refusal}");
    assert!(browser.find(Locator::Css("#app-password")).await.is_err());
    assert!(
        browser
            .get_named_cookie("cardbridge_session")
            .await
            .is_err()
    );
    shots.take(&browser, "refused").await;

    browser.close().await.unwrap();
    drop(chromedriver);
    sigterm_and_wait(serve);

    // Nothing was stored for the outsider; the allowed user's sign-in and user are.
    let store: cardbridge::state::SharedStore = std::sync::Arc::new(
        cardbridge::state::RedbStore::open(&dir.path().join("state.redb")).unwrap(),
    );
    let users = cardbridge::server::UserStore::new(store.clone());
    assert_eq!(users.list().unwrap(), vec![ALLOWED.to_owned()]);
    let tokens = cardbridge::graph::token_store::TokenStore::new(store, None);
    assert_eq!(tokens.accounts().unwrap(), vec![ALLOWED.to_owned()]);
    let stored = tokens.load(ALLOWED).unwrap().unwrap();
    assert_eq!(stored.user.as_deref(), Some(ALLOWED));
    emu.shutdown().await;
}

/// `Set-Cookie` value of `name` in a response.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The sign-in round trip at the HTTP level (runs without a browser): the OAuth state
/// is bound to the browser that started it and single-use, a refused consent stores
/// nothing, only a browser's visit of `/` is redirected, and pages carry the headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_state_is_bound_to_the_browser_and_single_use_without_a_browser() {
    let emu = cardbridge::emulator::start(EmulatorConfig {
        throttle: false,
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    emu.seed_sample(&emu.default_user(), 5, 1);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let config = write_config(dir.path(), port, &emu);
    let serve = app_support::serve(&config, &origin).await;
    let c = http();

    // Only a plain browser visit of / is redirected; CardDAV clients reach dav.
    let r = c
        .get(format!("{origin}/"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/web/".into()));
    let r = c
        .request(reqwest::Method::OPTIONS, format!("{origin}/"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["dav"].to_str().unwrap().contains("addressbook"));
    let r = c
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{origin}/"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The landing page and its headers.
    let r = c.get(format!("{origin}/web/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("Sign in with Microsoft"));
    // A POST without a session goes back to the start.
    let r = c
        .post(format!("{origin}/web/passwords/new"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/web/".into()));

    // Browser A starts a sign-in; the emulator approves at once and redirects back.
    let start = c.get(format!("{origin}/web/login")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let login_a = set_cookie(&start, "cardbridge_login").unwrap();
    let authorize = location(&start);
    let callback = location(&c.get(&authorize).send().await.unwrap());
    assert!(
        callback.starts_with(&format!("{origin}/web/callback?code=")),
        "{callback}"
    );
    // The same callback URL opened in browser B (another login cookie, or none): refused.
    for cookie in ["cardbridge_login=someone-else", ""] {
        let r = c
            .get(&callback)
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "cookie {cookie:?}");
        assert!(set_cookie(&r, "cardbridge_session").is_none());
    }
    // …and the attempt used the state up: browser A's own callback now fails too.
    let r = c
        .get(&callback)
        .header("Cookie", format!("cardbridge_login={login_a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Sign-in expired"));

    // A fresh sign-in in browser A completes, once.
    let start = c.get(format!("{origin}/web/login")).send().await.unwrap();
    let login_a = set_cookie(&start, "cardbridge_login").unwrap();
    let callback = location(&c.get(location(&start)).send().await.unwrap());
    let with_cookie = |url: &str| {
        c.get(url)
            .header("Cookie", format!("cardbridge_login={login_a}"))
            .send()
    };
    let done = with_cookie(&callback).await.unwrap();
    assert_eq!(
        (done.status().as_u16(), location(&done)),
        (303, "/web/".into())
    );
    let session = set_cookie(&done, "cardbridge_session").unwrap();
    assert_eq!(
        set_cookie(&done, "cardbridge_login").as_deref(),
        Some(""),
        "login cookie cleared"
    );
    let replay = with_cookie(&callback).await.unwrap();
    assert_eq!(replay.status(), 400, "a callback is single-use");
    let page = c
        .get(format!("{origin}/web/"))
        .header("Cookie", format!("cardbridge_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"app-password\""), "{page}");

    // A refused consent at Microsoft ends on a page, with nothing stored.
    let start = c.get(format!("{origin}/web/login")).send().await.unwrap();
    let login = set_cookie(&start, "cardbridge_login").unwrap();
    let state = url::Url::parse(&location(&start))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let r = c
        .get(format!(
            "{origin}/web/callback?error=access_denied&error_description=AADSTS65004%3A+User+declined&state={state}"
        ))
        .header("Cookie", format!("cardbridge_login={login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "cardbridge_session").is_none());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("AADSTS65004: User declined")
    );

    sigterm_and_wait(serve);
    let store: cardbridge::state::SharedStore = std::sync::Arc::new(
        cardbridge::state::RedbStore::open(&dir.path().join("state.redb")).unwrap(),
    );
    let users = cardbridge::server::UserStore::new(store.clone());
    assert_eq!(users.list().unwrap(), vec![ALLOWED.to_owned()]);
    assert_eq!(
        users.app_passwords(ALLOWED).unwrap().len(),
        1,
        "one completed sign-in"
    );
    emu.shutdown().await;
}
