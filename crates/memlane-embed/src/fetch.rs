//! Fetching the model: the `scripts/fetch-model.sh` script of the repository, also compiled into this crate so
//! that an installed binary (`memlane model fetch`) can run it without a source checkout.

use std::path::{Path, PathBuf};
use std::process::Command;

use memlane_core::{Error, Result};

/// The command that fetches the model, relative to the repository root; error messages name it.
pub const FETCH_COMMAND: &str = "scripts/fetch-model.sh";

/// The text of `scripts/fetch-model.sh`, as built into this crate. It takes the target directory as its one
/// argument and needs only bash and python3 with pip.
pub const FETCH_SCRIPT: &str = include_str!("../../../scripts/fetch-model.sh");

/// The path of `scripts/fetch-model.sh` in the source checkout this crate was built from, if it is still there.
pub fn fetch_script_path() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fetch-model.sh");
    path.is_file().then_some(path)
}

/// Fetches all-MiniLM-L6-v2 into `dir` by running the built-in copy of [`FETCH_SCRIPT`] with bash (its progress
/// goes to this process's stderr, so that stdout stays free for the caller's own output). Does nothing when `dir` already holds the verified model.
///
/// Errors are [`memlane_core::ErrorKind::Unavailable`]: bash or python3 missing, the package index unreachable,
/// or a download that fails verification.
pub fn fetch_model(dir: &Path) -> Result<()> {
    let status = Command::new("bash")
        .arg("-c")
        .arg(FETCH_SCRIPT)
        .arg("fetch-model.sh")
        .arg(dir)
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| {
            Error::unavailable(
                "embed",
                format!("cannot run bash to fetch the model ({FETCH_COMMAND})"),
                Some(Box::new(e)),
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::unavailable(
            "embed",
            format!(
                "{FETCH_COMMAND} {} failed ({status}); see its messages above",
                dir.display()
            ),
            None,
        ))
    }
}
