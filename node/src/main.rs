//! `jejak`: parses the command line and runs it.

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = jejak_node::cli::Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // arkworks opens a span per constraint-system operation; even disabled they cost proving time.
    let filter = if std::env::var("RUST_LOG").is_ok_and(|f| f.contains("gr1cs")) {
        filter
    } else {
        filter.add_directive("gr1cs=off".parse().expect("static directive"))
    };
    let json = std::env::var("JEJAK_LOG__FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    match jejak_node::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(target: "jejak", "{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
