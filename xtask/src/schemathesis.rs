//! `cargo xtask schemathesis`: schemathesis, which generates requests from an API's OpenAPI
//! document and checks the answers against it, run against every example application
//! (`todo`, `hello`, `chat` and `bench_server`) served on loopback. It is installed with pip
//! under `target/`.
//!
//! Every check runs but one: `negative_data_rejection`, which expects a request the schema
//! forbids to be refused. Portico validates as Pydantic does in its default (lax) mode, as
//! FastAPI does: `0` and `1` are accepted for a boolean, `"5"` for an integer. schemathesis
//! counts such a request, accepted, as a failure, and FastAPI's own applications fail it the
//! same way.
//!
//! `examples/hello`'s `/slow` and `/primes` are left out too: they are slow on purpose (a sleep
//! of up to 30 s, a prime count up to ten million, to show graceful shutdown and the thread
//! pool), and schemathesis reports an answer after 10 s as a failure.

use std::process::Command;

use crate::{root, start_example, start_todo, step};

/// The schemathesis release, pinned so that a new one cannot change what the step finds.
const VERSION: &str = "4.32.5";

/// Examples per operation: enough to reach every parameter, small enough for CI.
const MAX_EXAMPLES: &str = "25";

pub(crate) fn check() -> Result<(), String> {
    let dir = root().join("target/schemathesis");
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let site = dir.join("python");
    if !site.join("schemathesis").exists() {
        let mut pip = Command::new("python3");
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&site)
        .arg(format!("schemathesis=={VERSION}"));
        step("pip install schemathesis", pip)?;
    }
    let servers = [
        (start_todo(&dir, "schemathesis", &[])?, &[][..]),
        (start_example("hello", &[])?, &["/slow", "/primes"][..]),
        (start_example("chat", &[])?, &[][..]),
        (start_example("bench_server", &[])?, &[][..]),
    ];
    for ((_server, base), slow) in &servers {
        let mut run = Command::new("python3");
        run.args(["-m", "schemathesis.cli", "run"])
            .arg(format!("{base}/openapi.json"))
            .args(["--checks", "all"])
            .args(["--exclude-checks", "negative_data_rejection"])
            .args(["--max-examples", MAX_EXAMPLES, "--seed", "1"])
            .current_dir(&dir)
            .env("PYTHONPATH", &site);
        for path in *slow {
            run.args(["--exclude-path", path]);
        }
        step(&format!("schemathesis against {base}"), run)?;
    }
    Ok(())
}
