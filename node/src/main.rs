//! `jejak`: parses the command line, sets up logs and runs it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = jejak_node::cli::Cli::parse_args();
    if let Err(e) = jejak_node::logging::init(cli.config_file()) {
        tracing::error!(target: "jejak", "{e}");
        return std::process::ExitCode::FAILURE;
    }
    match jejak_node::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(target: "jejak", "{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
