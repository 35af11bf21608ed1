//! `cargo xtask bench http --baseline-rev REV`: builds `examples/bench_server` at another git
//! revision, to be measured against this tree's build in the same interleaved run.
//!
//! The revision is checked out in a temporary worktree, `target/bench-baseline/<commit>`, and
//! built there with the target directory `target/bench-baseline/target`. Not the workspace's own
//! target directory: its `release/examples/bench_server` is the build being measured, and cargo
//! would take one tree's outputs as fresh for the other. The baseline target directory is shared
//! by every baseline build, so the dependencies compile once; Portico's own crates always
//! rebuild, because a fresh checkout's files are newer than anything built before. The binary is
//! copied to `target/bench-baseline/bench_server-<commit>` and the worktree is removed, also
//! when the build fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{cargo, root, step};

/// Builds `examples/bench_server` as it is at `commit` (a full hash, from [`commit_of`]);
/// returns the binary's path.
pub(crate) fn build(commit: &str) -> Result<PathBuf, String> {
    // Twelve hex digits name a commit unambiguously in any repository of this size.
    let short = commit.get(..12).unwrap_or(commit);
    let dir = root().join("target/bench-baseline");
    let tree = dir.join(short);
    // A worktree left by a run that was interrupted; `--force` below also takes the place of
    // one whose directory is gone but that git still lists.
    remove_worktree(&tree);

    let mut add = git();
    add.args(["worktree", "add", "--detach", "--force", "--quiet"])
        .arg(&tree)
        .arg(commit);
    step(&format!("git worktree add {short}"), add)?;
    let worktree = Worktree(tree);

    let mut build = cargo();
    build
        .current_dir(&worktree.0)
        .args(["build", "--release", "--quiet", "--example", "bench_server"])
        .arg("--target-dir")
        .arg(dir.join("target"));
    step(&format!("build examples/bench_server at {short}"), build)?;

    let built = dir.join("target/release/examples/bench_server");
    let binary = binary(commit);
    std::fs::copy(&built, &binary)
        .map_err(|err| format!("copying {} to {}: {err}", built.display(), binary.display()))?;
    println!("    baseline: {}", binary.display());
    Ok(binary)
}

/// Where [`build`] leaves the binary built at `commit`.
pub(crate) fn binary(commit: &str) -> PathBuf {
    let short = commit.get(..12).unwrap_or(commit);
    root()
        .join("target/bench-baseline")
        .join(format!("bench_server-{short}"))
}

/// The full hash of the commit `rev` names.
pub(crate) fn commit_of(rev: &str) -> Result<String, String> {
    let out = git()
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .map_err(|err| format!("git rev-parse: {err}"))?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || commit.len() < 12 {
        return Err(format!(
            "--baseline-rev {rev}: not a commit of this repository"
        ));
    }
    Ok(commit)
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(root());
    cmd
}

/// A worktree of the baseline revision, removed when dropped.
struct Worktree(PathBuf);

impl Drop for Worktree {
    fn drop(&mut self) {
        remove_worktree(&self.0);
    }
}

/// Removes the worktree at `path`, if there is one. No `git worktree prune`: that would touch
/// every other worktree of the repository as well.
fn remove_worktree(path: &Path) {
    if !path.exists() {
        return;
    }
    let removed = git()
        .args(["worktree", "remove", "--force"])
        .arg(path)
        .output()
        .is_ok_and(|out| out.status.success());
    if !removed {
        let _ = std::fs::remove_dir_all(path);
    }
}
