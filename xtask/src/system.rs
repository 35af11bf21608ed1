//! What the steps need from the system: Debian's packages, installed when missing.

use std::process::Command;

use super::step;

/// Installs `tool` from Debian's packages when it is missing (as root, or through sudo).
pub(crate) fn ensure_tool(tool: &str, package: &str) -> Result<(), String> {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if found {
        return Ok(());
    }
    println!("xtask: {tool} is missing; installing the Debian package {package}");
    apt_install(package)?;
    if Command::new(tool).arg("--version").output().is_err() {
        return Err(format!(
            "{tool} is still missing after installing {package}"
        ));
    }
    Ok(())
}

/// Whether this process runs as root.
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

/// Installs a Debian package with apt-get (as root, or through sudo).
pub(crate) fn apt_install(package: &str) -> Result<(), String> {
    let as_root = is_root();
    let apt = |args: &[&str]| {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    step("apt-get update", apt(&["update", "-q"]))?;
    step(
        &format!("apt-get install {package}"),
        apt(&["install", "-y", "-q", package]),
    )
}
