//! `cargo xtask fuzz`: runs the fuzz targets under `fuzz/` (cargo-fuzz and libFuzzer, see
//! `RELIABILITY.md`), each for a set time, one after the other, and fails if any finds a
//! crash, a hang or a leak.
//!
//! cargo-fuzz is installed with `cargo install` when missing. The targets build with
//! AddressSanitizer (and so LeakSanitizer), which takes nightly flags: on a stable compiler
//! `RUSTC_BOOTSTRAP=1` lets them through. Each target starts from its seeds in
//! `fuzz/corpus/<target>/` and writes what it finds to `fuzz/target/corpus/<target>/`, so the
//! committed seeds stay as they are; a crashing input lands in `fuzz/artifacts/<target>/`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::{cargo, root, step};

/// Every target, in the order they run.
const TARGETS: [&str; 5] = ["http1", "h2", "routing", "extract", "websocket"];

/// How long each target runs when nothing says otherwise.
const DEFAULT_TIME: Duration = Duration::from_secs(20);

/// A single input running longer than this is a hang (libFuzzer's `-timeout`, in seconds); the
/// targets' own bound (5 s) comes first, with a clearer message.
const TIMEOUT_SECS: u32 = 10;

/// The memory a target may hold (libFuzzer's `-rss_limit_mb`): a leak that grows with every
/// input passes it within a run.
const RSS_LIMIT_MB: u32 = 2048;

/// What one target did.
struct Outcome {
    target: String,
    execs: u64,
    seconds: u64,
    corpus: usize,
    passed: bool,
}

/// Runs `cargo xtask fuzz [--minutes N | --seconds N] [TARGET...]`.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let (time, targets) = parse(args)?;
    ensure_cargo_fuzz()?;
    let fuzz = root().join("fuzz");
    // `cargo fuzz build` takes one target, or builds them all.
    let mut build = cargo();
    build
        .current_dir(&fuzz)
        .args(["fuzz", "build"])
        .env("RUSTC_BOOTSTRAP", "1");
    if let [one] = targets.as_slice() {
        build.arg(one);
    }
    step("cargo fuzz build", build)?;
    let targets: Vec<String> = if targets.is_empty() {
        TARGETS.iter().map(|t| (*t).to_owned()).collect()
    } else {
        targets
    };
    let mut outcomes = Vec::new();
    for target in &targets {
        outcomes.push(run_target(&fuzz, target, time)?);
    }
    println!(
        "\n{:<10} {:>12} {:>8} {:>10} {:>8}  result",
        "target", "execs", "secs", "execs/s", "corpus"
    );
    let mut total = 0;
    for o in &outcomes {
        total += o.execs;
        println!(
            "{:<10} {:>12} {:>8} {:>10} {:>8}  {}",
            o.target,
            o.execs,
            o.seconds,
            o.execs / o.seconds.max(1),
            o.corpus,
            if o.passed { "ok" } else { "FAILED" }
        );
    }
    println!("{:<10} {total:>12}", "total");
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.target.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found a crash, hang or leak in {}: see the inputs under fuzz/artifacts/",
            failed.join(", ")
        ))
    }
}

/// The time per target and the targets named (none: every one).
fn parse(args: &[&str]) -> Result<(Duration, Vec<String>), String> {
    let mut time = DEFAULT_TIME;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--minutes" | "--seconds" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                let n: f64 = value
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite() && *n > 0.0)
                    .ok_or_else(|| format!("{arg} {value}: not a positive number"))?;
                let unit = if *arg == "--minutes" { 60.0 } else { 1.0 };
                time = Duration::from_secs_f64(n * unit);
            }
            target if TARGETS.contains(&target) => targets.push(target.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz target or option {other:?}; targets: {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    Ok((time, targets))
}

/// Installs cargo-fuzz when `cargo fuzz` is missing.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let found = cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return Ok(());
    }
    let mut install = cargo();
    install.args(["install", "--locked", "cargo-fuzz"]);
    step("cargo install cargo-fuzz", install)
}

/// Runs one target for `time`, from its seeds.
fn run_target(fuzz: &Path, target: &str, time: Duration) -> Result<Outcome, String> {
    let found = fuzz.join("target/corpus").join(target);
    std::fs::create_dir_all(&found).map_err(|err| format!("{}: {err}", found.display()))?;
    let seeds = fuzz.join("corpus").join(target);
    let mut run = cargo();
    run.current_dir(fuzz)
        .args(["fuzz", "run", target])
        .arg(&found)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={}", time.as_secs().max(1)))
        .arg(format!("-timeout={TIMEOUT_SECS}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg("-detect_leaks=1")
        .arg("-print_final_stats=1")
        .env("RUSTC_BOOTSTRAP", "1");
    println!("==> fuzz {target} for {time:?}");
    let started = Instant::now();
    let out = run
        .output()
        .map_err(|err| format!("cargo fuzz run {target}: {err}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    let execs = log
        .lines()
        .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    if !out.status.success() {
        // What libFuzzer said about the crash, and the input it saved.
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        for line in tail.into_iter().rev() {
            eprintln!("    {line}");
        }
    }
    // libFuzzer's last line of progress: `#N DONE cov: .. ft: .. corp: FILES/SIZE ..`.
    let corpus = log
        .lines()
        .rev()
        .find_map(|line| line.split_once(" corp: "))
        .and_then(|(_, rest)| rest.split('/').next()?.parse().ok())
        .unwrap_or(0);
    Ok(Outcome {
        target: target.to_owned(),
        execs,
        seconds: started.elapsed().as_secs(),
        corpus,
        passed: out.status.success(),
    })
}
