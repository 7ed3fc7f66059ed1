//! `cardbridge emulator`: run the Graph emulator until Ctrl-C.

use super::{EmulatorConfig, start};

/// Arguments of `cardbridge emulator`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5233")]
    pub listen: String,
    /// Number of sample contacts to seed for the default user.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seed of the sample generator.
    #[arg(long, default_value_t = 1)]
    pub rng_seed: u64,
    /// JSON seed file (users, folders, contacts).
    #[arg(long)]
    pub seed_file: Option<std::path::PathBuf>,
    /// Turn per-mailbox throttling off.
    #[arg(long)]
    pub no_throttle: bool,
    /// Approve device codes and authorize requests at once for the default user.
    #[arg(long)]
    pub auto_approve: bool,
    /// Behave like an outlook.com account (contact photo PUT refused).
    #[arg(long)]
    pub personal: bool,
}

/// Run the emulator until Ctrl-C.
pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let listen = args
        .listen
        .parse()
        .map_err(|e| anyhow::anyhow!("--listen {}: {e}", args.listen))?;
    let emu = start(EmulatorConfig {
        listen,
        throttle: !args.no_throttle,
        auto_approve: args.auto_approve,
        personal: args.personal,
        ..EmulatorConfig::default()
    })
    .await?;
    if let Some(path) = &args.seed_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        emu.seed_json(&text)?;
    }
    let user = emu.default_user();
    if let Some(n) = args.seed {
        emu.seed_sample(&user, n as usize, args.rng_seed);
    }
    println!("Graph emulator listening");
    println!("  graph root / authority: {}", emu.base_url());
    println!("  graph:                  {}", emu.graph_url());
    println!(
        "  admin API:              {}/_emulator/info",
        emu.base_url()
    );
    println!(
        "  default user:           {user} ({} contacts)",
        emu.contact_count(&user)
    );
    println!("  client id:              {}", emu.client_id());
    println!("  access token:           {}", emu.default_token());
    tokio::signal::ctrl_c().await?;
    emu.shutdown().await;
    Ok(())
}
