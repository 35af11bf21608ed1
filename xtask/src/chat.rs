//! `cargo xtask chat-browser`: two tabs of Debian's Chromium chat through `examples/chat`.
//!
//! Chromium is driven by playwright-core (from the npm registry, installed under `target/`),
//! with every host but the loopback address unresolvable.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::{Child, cargo, ensure_tool, root, step};

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
    let mut build = cargo();
    build.args(["build", "--quiet", "--example", "chat"]);
    step("build examples/chat", build)?;
    for runtime in ["tokio", "smol"] {
        let mut server = Child(
            Command::new(crate::target_dir().join("debug/examples/chat"))
                .args(["--port", "0"])
                .env("PORTICO_RUNTIME", runtime)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|err| format!("starting examples/chat: {err}"))?,
        );
        let stdout = server.0.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|err| format!("reading the chat example's address: {err}"))?;
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .ok_or_else(|| format!("no address in {line:?}"))?
            .trim_end_matches([',', ';'])
            .to_owned();
        println!("==> examples/chat on {runtime} at {base}");
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
