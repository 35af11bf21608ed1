//! `cargo xtask chat-browser`: two tabs of Debian's Chromium chat through `examples/chat`.
//!
//! Chromium is driven by playwright-core (from the npm registry, installed under `target/`),
//! with every host but the loopback address unresolvable.

use std::process::Command;

use super::{ensure_tool, root, start_example_with, step};

/// The playwright-core release the script is written against.
const PLAYWRIGHT: &str = "playwright-core@1.49.1";

pub(crate) fn check() -> Result<(), String> {
    ensure_tool("chromium", "chromium")?;
    ensure_tool("npm", "npm")?;
    let dir = root().join("target/chat-browser");
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    if !dir.join("node_modules/playwright-core").is_dir() {
        let mut npm = Command::new("npm");
        npm.args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg(PLAYWRIGHT);
        step(&format!("npm install {PLAYWRIGHT}"), npm)?;
    }
    for runtime in ["tokio", "smol"] {
        println!("==> examples/chat on {runtime}");
        let (server, base) = start_example_with("chat", &[], &[("PORTICO_RUNTIME", runtime)])?;
        let shot = dir.join(format!("chat-{runtime}.png"));
        let mut node = Command::new("node");
        node.arg(root().join("xtask/browser/chat.js"))
            .arg(&base)
            .arg(&shot)
            .env("NODE_PATH", dir.join("node_modules"))
            .env("CHROMIUM", "/usr/bin/chromium");
        step("two Chromium tabs chat", node)?;
        println!("    screenshot: {}", shot.display());
        drop(server);
    }
    Ok(())
}
