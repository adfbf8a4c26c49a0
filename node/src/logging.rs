//! Logs: the `[log]` section of the configuration takes effect (`filter`, a tracing filter such
//! as `info,jejak::indexer=debug`; `format`, `text` or `json`), `RUST_LOG` overriding the filter
//! when set and `JEJAK_LOG__*` the file as for any key. Colour escapes only on a terminal: a log
//! written to a file or a pipe is plain text (`NO_COLOR` turns colour off everywhere).

use std::io::IsTerminal as _;
use std::path::Path;

use tracing_subscriber::EnvFilter;

use crate::config::{Config, Preset};

/// What the logs are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSetup {
    /// The tracing filter in force.
    pub filter: String,
    /// JSON lines rather than text.
    pub json: bool,
    /// Colour escapes.
    pub ansi: bool,
}

impl LogSetup {
    /// The setup for the configuration at `file` (or the environment alone), given `RUST_LOG`
    /// and whether stderr is a terminal. A configuration that does not load falls back to the
    /// defaults here: the command itself reports why.
    pub fn resolve(
        file: Option<&Path>,
        rust_log: Option<&str>,
        terminal: bool,
        no_color: bool,
    ) -> Result<Self, String> {
        let log = Config::load(file).map(|c| c.log).unwrap_or_else(|_| Config::preset(Preset::Local).log);
        let filter = match rust_log.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => f.to_owned(),
            None => log.filter,
        };
        let json = match log.format.as_str() {
            "json" => true,
            "text" => false,
            other => return Err(format!("configuration: log.format `{other}`: text or json")),
        };
        EnvFilter::try_new(&filter).map_err(|e| format!("configuration: log filter `{filter}`: {e}"))?;
        Ok(Self { filter, json, ansi: terminal && !no_color && !json })
    }

    /// Installs the global subscriber, writing to stderr.
    pub fn install(&self) {
        let filter = EnvFilter::try_new(&self.filter).unwrap_or_else(|_| EnvFilter::new("info"));
        // arkworks opens a span per constraint-system operation; even disabled they cost
        // proving time.
        let filter = if self.filter.contains("gr1cs") {
            filter
        } else {
            filter.add_directive("gr1cs=off".parse().expect("static directive"))
        };
        let builder =
            tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(self.ansi);
        if self.json {
            builder.json().init();
        } else {
            builder.init();
        }
    }
}

/// Sets up logs for a command whose configuration file is `file`. On a bad `[log]` section the
/// defaults are installed and the reason returned, for the caller to report and stop.
pub fn init(file: Option<&Path>) -> Result<(), String> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let terminal = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match LogSetup::resolve(file, rust_log.as_deref(), terminal, no_color) {
        Ok(setup) => {
            setup.install();
            Ok(())
        }
        Err(e) => {
            LogSetup { filter: "info".into(), json: false, ansi: terminal && !no_color }.install();
            Err(e)
        }
    }
}

#[cfg(test)]
// figment's Jail closures return its large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sets_filter_and_format_and_rust_log_wins() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("jejak.toml", "[log]\nfilter = \"warn,jejak::node=info\"\nformat = \"json\"\n")?;
            let file = Some(Path::new("jejak.toml"));
            let s = LogSetup::resolve(file, None, true, false).unwrap();
            assert_eq!(s, LogSetup { filter: "warn,jejak::node=info".into(), json: true, ansi: false });
            let s = LogSetup::resolve(file, Some("debug"), false, false).unwrap();
            assert_eq!(s.filter, "debug", "RUST_LOG wins");
            jail.set_env("JEJAK_LOG__FORMAT", "text");
            let s = LogSetup::resolve(file, None, true, false).unwrap();
            assert!(!s.json && s.ansi, "the environment overrides the file; colour on a terminal");
            assert!(!LogSetup::resolve(file, None, false, false).unwrap().ansi, "no colour in a file or pipe");
            assert!(!LogSetup::resolve(file, None, true, true).unwrap().ansi, "NO_COLOR");
            Ok(())
        });
    }

    #[test]
    fn a_bad_log_section_is_refused_with_its_reason() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad-format.toml", "[log]\nformat = \"xml\"\n")?;
            let e = LogSetup::resolve(Some(Path::new("bad-format.toml")), None, false, false).unwrap_err();
            assert!(e.contains("log.format `xml`"), "{e}");
            jail.create_file("bad-filter.toml", "[log]\nfilter = \"jejak=loud\"\n")?;
            let e = LogSetup::resolve(Some(Path::new("bad-filter.toml")), None, false, false).unwrap_err();
            assert!(e.contains("log filter `jejak=loud`"), "{e}");
            Ok(())
        });
    }
}
