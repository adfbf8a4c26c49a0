//! Writes (`--write`) or checks (`--check`) the committed OpenAPI document `api/openapi.json`
//! against the one the code generates. `make gen` and `make check-gen` call it.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let generated = jejak_api::openapi::document_json();
    let mut err = std::io::stderr().lock();
    match std::env::args().nth(1).as_deref() {
        Some("--write") => match std::fs::write(&path, generated) {
            Ok(()) => {
                let _ = writeln!(err, "wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                let _ = writeln!(err, "writing {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        Some("--check") => match std::fs::read_to_string(&path) {
            Ok(committed) if committed == generated => {
                let _ = writeln!(err, "{} is up to date", path.display());
                ExitCode::SUCCESS
            }
            Ok(_) => {
                let _ = writeln!(err, "{} differs from the code: run `make gen` and commit it", path.display());
                ExitCode::FAILURE
            }
            Err(e) => {
                let _ = writeln!(err, "reading {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        _ => {
            let _ = std::io::stdout().lock().write_all(generated.as_bytes());
            ExitCode::SUCCESS
        }
    }
}
