//! The FastAPI peer: `bench/fastapi/app.py` served by uvicorn (uvloop, httptools, one worker
//! process), from a virtual environment made on first use beside the bench's binaries, with the
//! versions `bench/fastapi/requirements.txt` pins.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::endpoints::{Refusals, Served};
use super::servers::{FASTAPI, Server};

/// The app and its requirements, in the bench workspace.
fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fastapi")
}

/// Whether `python3` runs here: without it the peer is left out.
pub fn python_found() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The peer, to be run by the interpreter of the environment in `venv` (see [`prepare`]).
pub fn server(venv: &Path) -> Server {
    Server {
        name: FASTAPI,
        program: venv.join("bin/python"),
        args: vec![sources().join("serve.py").into()],
        env: vec![("PYTHONDONTWRITEBYTECODE", "1")],
        serves: Served::Frameworks,
        counted: false,
        refusals: Refusals::SameAsReference,
    }
}

/// Makes the environment in `venv` and installs the pinned requirements, unless it holds them
/// already (a copy of the requirements it was made from is kept inside it).
pub fn prepare(venv: &Path) -> Result<(), String> {
    let requirements = sources().join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|err| format!("{}: {err}", requirements.display()))?;
    let stamp = venv.join("portico-requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|made| made == wanted) {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(venv);
    eprintln!("making {} for the FastAPI peer", venv.display());
    run(Command::new("python3").args(["-m", "venv"]).arg(venv)).map_err(|err| {
        format!("{err} (on Debian, `apt-get install python3-venv` brings the venv module)")
    })?;
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted).map_err(|err| format!("{}: {err}", stamp.display()))
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|err| format!("{command:?}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}
