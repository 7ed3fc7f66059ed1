//! `cardbridge demo`: the Graph emulator seeded with sample contacts plus the bridge in
//! front of it, on loopback, printing what to paste into a CardDAV client.
//!
//! Everything but Microsoft's service is real: the bridge signs in to the emulator's
//! identity endpoints with the device-code flow (auto-approved), talks Graph over HTTP,
//! keeps its mirror in a real state store (in memory, or a redb file with `--state`),
//! and serves CardDAV through the same server as `serve`. The onboarding page is on at
//! `/web/`: "Sign in with Microsoft" goes through the emulator's authorize endpoint
//! (approved at once) and makes a CardDAV user named after the emulator's UPN.

use super::accounts::{DelegatedAccounts, FirstOf};
use super::stack::{StackParts, start_stack};
use super::web::WebSetup;
use crate::bridge::{Account, AccountDirectory, BridgeConfig, StaticAccounts};
use crate::emulator::{EmulatorConfig, EmulatorHandle};
use crate::graph::config::GraphConfig;
use crate::graph::token_store::TokenStore;
use crate::graph::tokens::DelegatedTokens;
use crate::graph::{GraphClient, Mailbox};
use crate::server::{LogFormat, ServerOptions, UserStore, init_logging};
use crate::state::MemoryStore;
use crate::state::RedbStore;
use crate::state::SharedStore;
use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `cardbridge demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address the CardDAV server listens on (loopback only).
    #[arg(long, default_value = "127.0.0.1:5232")]
    pub listen: SocketAddr,
    /// Address the Graph emulator listens on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub emulator_listen: SocketAddr,
    /// Number of sample contacts, spread over several contact folders.
    #[arg(long, default_value_t = 200)]
    pub contacts: usize,
    /// Seed of the sample data (the same seed gives the same contacts).
    #[arg(long, default_value_t = 42)]
    pub rng_seed: u64,
    /// CardDAV user name.
    #[arg(long, default_value = "demo")]
    pub user: String,
    /// CardDAV password (default: a new random app password, printed).
    #[arg(long, env = "CARDBRIDGE_DEMO_PASSWORD")]
    pub password: Option<String>,
    /// Keep the emulator's Graph throttling (4 concurrent requests per mailbox) on.
    #[arg(long)]
    pub throttle: bool,
    /// Keep the bridge's state in this redb file instead of in memory.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Seconds a mirror read stays fresh before the bridge asks Graph for changes.
    #[arg(long, default_value_t = 5)]
    pub freshness_secs: u64,
    /// Sustained CardDAV requests per second per user (0 turns the per-user throttle
    /// off; default: the server's default). Test suites that fire hundreds of requests
    /// a second and do not retry on 503 (vdirsyncer's) need 0.
    #[arg(long)]
    pub user_requests_per_sec: Option<f64>,
}

/// Start the emulator and the bridge, print how to connect, serve until Ctrl-C.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    init_logging(LogFormat::Text, "info");
    if !args.listen.ip().is_loopback() {
        anyhow::bail!("the demo serves plain HTTP and listens on loopback only");
    }
    // The onboarding page's redirect URI names the port, so pick it before starting.
    let listen = concrete_port(args.listen)?;
    let emulator = crate::emulator::start(EmulatorConfig {
        listen: args.emulator_listen,
        throttle: args.throttle,
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await
    .context("starting the Graph emulator")?;
    let mailbox_user = emulator.default_user();
    emulator.seed_sample(&mailbox_user, args.contacts, args.rng_seed);

    let graph = emulator_graph(&emulator);
    let client = sign_in(&graph).await?;
    let profile = client.user_profile(&Mailbox::Me).await?;
    let upn = profile
        .user_principal_name
        .clone()
        .unwrap_or_else(|| mailbox_user.clone());

    let store: SharedStore = match &args.state {
        Some(path) => Arc::new(RedbStore::open(path)?),
        None => Arc::new(MemoryStore::new()),
    };
    let users = UserStore::new(store.clone());
    let password = match &args.password {
        Some(p) => SecretString::from(p.clone()),
        None => UserStore::generate_password(),
    };
    if users.exists(&args.user)? {
        users.set_password(&args.user, &password)?;
    } else {
        users.add_user(&args.user, &password)?;
    }
    let demo_account = StaticAccounts::new().with(
        &args.user,
        Account {
            key: format!("demo/{upn}"),
            client,
            mailbox: Mailbox::Me,
            display_name: profile.display_name.clone().unwrap_or(upn.clone()),
        },
    );
    // Sign-ins made on the onboarding page serve the users they create.
    let tokens = TokenStore::new(store.clone(), None);
    let oauth = crate::graph::setup::oauth_client(&graph)?;
    let options = crate::graph::setup::client_options(&graph);
    let delegated = Arc::new(DelegatedAccounts::new(
        tokens.clone(),
        oauth.clone(),
        options.clone(),
    ));
    let accounts: Vec<Arc<dyn AccountDirectory>> = vec![Arc::new(demo_account), delegated.clone()];
    let web = WebSetup {
        settings: crate::web::WebConfig {
            enabled: true,
            public_url: Some(format!("http://{listen}")),
            // The demo's identity platform is its own emulator on loopback.
            allow_anyone: true,
            ..crate::web::WebConfig::default()
        }
        .settings(&graph.tenant)?
        .context("the demo's onboarding page")?,
        oauth,
        graph: options,
        tokens,
        delegated,
    };
    let mut server = ServerOptions {
        listen,
        ..ServerOptions::default()
    };
    if let Some(rate) = args.user_requests_per_sec {
        server.user_requests_per_sec = rate;
    }
    let stack = start_stack(StackParts {
        store,
        bridge: BridgeConfig {
            freshness_secs: args.freshness_secs,
            ..BridgeConfig::default()
        },
        accounts: Arc::new(FirstOf(accounts)),
        server,
        users,
        max_resource_size: 4 * 1024 * 1024,
        web: Some(web),
    })
    .await?;
    // Load the mirror before announcing, so a client's first sync is served at once.
    if let Err(e) = stack.bridge.warm_up(&args.user).await {
        tracing::warn!("initial sync failed: {e}");
    }
    stack.readiness.set_ready(true);
    print_banner(&stack.server.base_url(), &args, &password, &emulator);
    stack.run_until_signal().await;
    emulator.shutdown().await;
    Ok(())
}

/// `listen`, with port 0 replaced by a free port.
fn concrete_port(listen: SocketAddr) -> anyhow::Result<SocketAddr> {
    if listen.port() != 0 {
        return Ok(listen);
    }
    let probe = std::net::TcpListener::bind(listen).context("finding a free port")?;
    Ok(probe.local_addr()?)
}

/// `[graph]` pointing at the emulator.
fn emulator_graph(emulator: &EmulatorHandle) -> GraphConfig {
    GraphConfig {
        root: emulator.base_url(),
        authority: emulator.base_url(),
        client_id: emulator.client_id(),
        ..GraphConfig::default()
    }
}

/// Sign in to the emulator's identity endpoints as a person would with `login`
/// (device code; the emulator approves it at once).
async fn sign_in(graph: &GraphConfig) -> anyhow::Result<GraphClient> {
    let oauth = crate::graph::setup::oauth_client(graph)?;
    let code = oauth.start_device_code().await?;
    let tokens = oauth.poll_device_code(&code).await?;
    let source = DelegatedTokens::new(oauth, &tokens, None)?.with_label("demo");
    Ok(GraphClient::new(
        crate::graph::setup::client_options(graph),
        Arc::new(source),
    )?)
}

fn print_banner(url: &str, args: &DemoArgs, password: &SecretString, emulator: &EmulatorHandle) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let url = url.trim_end_matches('/');
    let mut out = String::new();
    out.push('\n');
    let _ = writeln!(
        out,
        "cardbridge demo is running: {} sample contacts in the Graph emulator",
        args.contacts
    );
    out.push('\n');
    let _ = writeln!(out, "  CardDAV server   {url}/");
    let _ = writeln!(out, "  user             {}", args.user);
    let _ = writeln!(out, "  password         {}", password.expose_secret());
    out.push('\n');
    let _ = writeln!(
        out,
        "  Thunderbird      New Address Book > Add CardDAV Address Book: user name as above, location {url}/"
    );
    let _ = writeln!(
        out,
        "  DAVx5            Login with URL and user name: base URL {url}/ (http:// works for loopback)"
    );
    let _ = writeln!(
        out,
        "  vdirsyncer       type = \"carddav\", url = \"{url}/\""
    );
    let _ = writeln!(
        out,
        "  curl             curl -u {}:PASSWORD -X PROPFIND -H 'Depth: 1' {url}/dav/addressbooks/{}/",
        args.user, args.user
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "  Onboarding page  {url}/web/ (sign in through the emulator, get your own app password)"
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "  Graph emulator   {} (admin API: {}/_emulator/stats)",
        emulator.graph_url(),
        emulator.base_url()
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "Edits made in a client go through Graph to the emulator; Ctrl-C stops both."
    );
    // A closed stdout (the caller stopped reading) must not stop the demo.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
