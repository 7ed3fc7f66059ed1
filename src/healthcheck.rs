//! `cardbridge healthcheck`: a probe for container HEALTHCHECKs and service monitors that
//! have no curl. It asks the running server's `/healthz` (or `/readyz`) and exits 0 only
//! on a 2xx answer within the timeout.

use std::time::Duration;

/// Arguments of `cardbridge healthcheck`.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// URL to probe (`/healthz`: process alive; `/readyz`: ready to serve).
    #[arg(long, default_value = "http://127.0.0.1:5232/healthz")]
    pub url: String,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
    /// Accept self-signed certificates (probing a TLS listener on loopback).
    #[arg(long)]
    pub insecure: bool,
}

/// Probe once; an error (and so a non-zero exit) unless the answer is 2xx.
pub async fn run(args: HealthcheckArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        .danger_accept_invalid_certs(args.insecure)
        .build()?;
    let status = client.get(&args.url).send().await?.status();
    if status.is_success() {
        println!("{} {}", args.url, status);
        Ok(())
    } else {
        anyhow::bail!("{} answered {status}", args.url)
    }
}
