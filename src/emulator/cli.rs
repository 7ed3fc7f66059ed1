//! `cardbridge emulator` (in progress).

/// Arguments of `cardbridge emulator`.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5233")]
    pub listen: String,
    /// Number of sample contacts to seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Run the emulator until Ctrl-C.
pub async fn run(_args: EmulatorArgs) -> anyhow::Result<()> {
    anyhow::bail!("the emulator is not built yet")
}
