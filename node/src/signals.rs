//! Stopping on SIGTERM (what systemd and Kubernetes send) exactly as on Ctrl-C (SIGINT): stop
//! accepting requests, drain those in flight, let every task finish its current commit, close
//! the database, exit 0. A second signal during the drain exits at once.

use tokio_util::sync::CancellationToken;

/// Waits for SIGTERM or SIGINT; returns the signal's name.
pub async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(t), Ok(i)) => (t, i),
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                return "SIGINT";
            }
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Spawns the task that cancels `shutdown` on the first signal and exits the process on the
/// second.
pub fn stop_on_signal(shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let first = signal().await;
        tracing::info!(target: "jejak::node", signal = first,
            "shutting down: no new requests; finishing those in flight and the current commits");
        shutdown.cancel();
        let second = signal().await;
        tracing::warn!(target: "jejak::node", signal = second, "second signal: exiting without waiting");
        std::process::exit(130);
    })
}
