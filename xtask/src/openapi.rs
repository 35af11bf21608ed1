//! The OpenAPI steps: `openapi EXAMPLE` prints an example's document, `openapi-validate`
//! checks every example's document and the conformance suite's against the OpenAPI 3.1 schema,
//! and `docs-browser` renders `/docs` and `/redoc` in headless Chromium without network.

use std::path::PathBuf;
use std::process::Command;

use super::{EXAMPLES, cargo, ensure_tool, root, start_todo, step};

/// The OpenAPI document of an example, as it prints it.
pub(crate) fn openapi(example: &str) -> Result<String, String> {
    if !EXAMPLES.contains(&example) {
        return Err(format!(
            "unknown example {example:?}; one of {}",
            EXAMPLES.join(", ")
        ));
    }
    let out = cargo()
        .args(["run", "--quiet", "--example", example, "--", "--openapi"])
        .output()
        .map_err(|err| format!("cargo run --example {example}: {err}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo run --example {example} -- --openapi failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|err| format!("the document is not UTF-8: {err}"))
}

/// Where the OpenAPI steps keep what they make.
fn openapi_dir() -> Result<PathBuf, String> {
    let dir = root().join("target/openapi");
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    Ok(dir)
}

pub(crate) fn openapi_validate() -> Result<(), String> {
    let dir = openapi_dir()?;
    let site = dir.join("python");
    if !site.join("openapi_spec_validator").exists() {
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
        .arg("openapi-spec-validator==0.9.0");
        step("pip install openapi-spec-validator", pip)?;
    }
    let mut files = Vec::new();
    for example in EXAMPLES {
        let doc = openapi(example)?;
        let file = dir.join(format!("{example}.json"));
        std::fs::write(&file, doc).map_err(|err| format!("{}: {err}", file.display()))?;
        files.push(file);
    }
    // The documents of FastAPI's tutorial apps as the conformance suite ports them: enum and
    // struct parameters, forms, files, security schemes, app-wide dependencies.
    let suite = dir.join("fastapi");
    let _ = std::fs::remove_dir_all(&suite);
    std::fs::create_dir_all(&suite).map_err(|err| format!("{}: {err}", suite.display()))?;
    let mut tests = cargo();
    tests
        .args([
            "test",
            "--quiet",
            "-p",
            "portico-tests",
            "--test",
            "fastapi",
        ])
        .args(["--", "openapi", "--test-threads", "1"])
        .env("PORTICO_OPENAPI_OUT", &suite);
    step("the conformance suite's documents", tests)?;
    let mut written: Vec<PathBuf> = std::fs::read_dir(&suite)
        .map_err(|err| format!("{}: {err}", suite.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    written.sort();
    if written.is_empty() {
        return Err("the conformance suite wrote no document".into());
    }
    files.extend(written);
    let mut validate = Command::new("python3");
    validate
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .args(&files)
        .env("PYTHONPATH", &site);
    step("openapi-spec-validator (OpenAPI 3.1)", validate)
}

pub(crate) fn docs_browser() -> Result<(), String> {
    ensure_tool("chromium", "chromium")?;
    let dir = openapi_dir()?;
    let (server, base) = start_todo(&dir, "docs-browser", &[])?;

    let chromium = |extra: &[&str], url: &str| -> Result<String, String> {
        let out = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // No network: every host name but the loopback address fails to resolve.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=15000",
            ])
            .args(extra)
            .arg(url)
            .output()
            .map_err(|err| format!("chromium: {err}"))?;
        if !out.status.success() {
            return Err(format!(
                "chromium failed on {url}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };

    let expect = |page: &str, dom: &str, needles: &[&str]| -> Result<(), String> {
        let missing: Vec<&&str> = needles.iter().filter(|n| !dom.contains(**n)).collect();
        if missing.is_empty() {
            println!(
                "    {page}: rendered, with {} expected texts",
                needles.len()
            );
            Ok(())
        } else {
            Err(format!(
                "{page} did not render {missing:?}; the page was:\n{}",
                &dom[..dom.len().min(4000)]
            ))
        }
    };
    let docs = chromium(&["--dump-dom"], &format!("{base}/docs"))?;
    expect(
        "/docs",
        &docs,
        &[
            "To-do API",
            "opblock-summary-path",
            "/todos/{id}",
            "/activity",
            // The summary, from the function's name as FastAPI makes it.
            "List Todos",
            "HTTPValidationError",
        ],
    )?;
    let redoc = chromium(&["--dump-dom"], &format!("{base}/redoc"))?;
    expect(
        "/redoc",
        &redoc,
        // The summary, and the description from the doc comment.
        &[
            "To-do API",
            "List Todos",
            "Lists the items, oldest first.",
            "/todos/{id}",
        ],
    )?;
    let shot = dir.join("docs.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1800",
            "--hide-scrollbars",
        ],
        &format!("{base}/docs"),
    )?;
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    if size < 10_000 {
        return Err(format!(
            "the screenshot {} is empty ({size} bytes)",
            shot.display()
        ));
    }
    println!("    screenshot of /docs: {} ({size} bytes)", shot.display());
    drop(server);
    Ok(())
}
