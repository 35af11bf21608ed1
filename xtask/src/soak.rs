//! `cargo xtask soak [--minutes N] [--runtime tokio|smol]`: `examples/soak` under a steady
//! mixed load for a while, watched from outside through `/proc`.
//!
//! For each runtime it builds the example in release mode and starts it on a free loopback
//! port, then runs the example's own load driver (`soak_server --drive`, always on tokio, so
//! that both servers meet the same client) in four phases:
//!
//! 1. **probe**: as many requests of the mix as 64 clients can send for `PROBE`: the capacity;
//! 2. **warm-up**: the mix at 80% of that rate for a tenth of the soak (15 s to 1 min), so
//!    that pools and caches reach their size; then, once the server has settled, its open
//!    files (`/proc/PID/fd`) and threads (`/proc/PID/task`) are counted;
//! 3. **soak**: the same rate for N minutes (10 by default), the server's RSS (from
//!    `/proc/PID/status`), open files and threads read every `SAMPLE_EVERY` (written to
//!    `target/soak/samples-RUNTIME.tsv`);
//! 4. **after**: the load stopped and its connections closed, files and threads counted again.
//!
//! The goals, each a failure when missed: no unexpected answer or connection error in any
//! phase; RSS within 10% of its value right after the warm-up, both under load (the lowest
//! samples of the last and first fifths of the soak) and settled (after the soak against after
//! the warm-up; `RSS_GROWTH` says why not the highest samples); and as many open files and
//! threads at the end as right after the warm-up, once the server has settled. The server's output goes to
//! `target/soak/server-RUNTIME.log`. Linux only (it reads `/proc`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Child, cargo, root, step, target_dir};

/// How long the capacity probe runs. Ten seconds is long enough for a stable figure on a small
/// machine, and short beside the soak.
const PROBE: Duration = Duration::from_secs(10);

/// The share of the measured capacity the soak runs at: loaded, with headroom for the noise
/// of a shared machine.
const LOAD_SHARE: f64 = 0.8;

/// How often the server's RSS is read during the soak.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// How far the RSS may rise over the soak, in two readings: the lowest sample of the last fifth
/// of the soak against the lowest of the first fifth, and the settled RSS after the soak against
/// the settled RSS after the warm-up. Not the highest samples, nor medians: under load the RSS
/// follows what the requests in flight hold (a client that falls behind and catches up opens
/// more connections at once, and the RSS rises with them, then falls back), while a leak
/// raises the floor and stays once the load is gone.
const RSS_GROWTH: f64 = 0.10;

/// How long the server's files and threads must stay unchanged to count as settled: just past
/// tokio's blocking-pool threads' 10-second idle time, so that a baseline does not count
/// threads about to leave.
const SETTLED_FOR: Duration = Duration::from_secs(11);

/// The longest wait for the server to settle.
const SETTLE_AT_MOST: Duration = Duration::from_secs(45);

/// What the driver reported on its `result` line.
#[derive(Debug, Default, Clone)]
struct Driven {
    requests: u64,
    errors: u64,
    late: u64,
    rate: f64,
    /// The lines naming unexpected answers.
    error_lines: Vec<String>,
}

/// The server's resources at one moment.
#[derive(Debug, Clone, Default)]
struct Usage {
    rss_kib: u64,
    fds: usize,
    threads: usize,
}

impl Usage {
    /// RSS, open files and threads, in words.
    fn describe(&self) -> String {
        format!(
            "RSS {} KiB, {} open files, {} threads",
            self.rss_kib, self.fds, self.threads
        )
    }
}

/// One runtime's figures.
#[derive(Debug, Default)]
struct Figures {
    runtime: &'static str,
    capacity: f64,
    target: f64,
    probe: Driven,
    warm_up: Driven,
    soak: Driven,
    /// Settled, after the warm-up.
    before: Usage,
    /// Settled, after the soak.
    after: Usage,
    /// Seconds into the soak, and the usage then.
    samples: Vec<(f64, Usage)>,
}

impl Figures {
    fn errors(&self) -> u64 {
        self.probe.errors + self.warm_up.errors + self.soak.errors
    }

    /// The lowest RSS of the first fifth of the samples (taken right after the warm-up), and
    /// of the last fifth.
    fn rss_floors(&self) -> (u64, u64) {
        let fifth = self.samples.len().div_ceil(5);
        let lowest = |part: &[(f64, Usage)]| {
            let kib = part.iter().map(|(_, usage)| usage.rss_kib).min();
            kib.unwrap_or(0)
        };
        (
            lowest(&self.samples[..fifth]),
            lowest(&self.samples[self.samples.len() - fifth..]),
        )
    }

    /// The highest RSS sample, and the open files then.
    fn rss_max(&self) -> (u64, usize) {
        let max = self.samples.iter().max_by_key(|(_, usage)| usage.rss_kib);
        max.map_or((0, 0), |(_, usage)| (usage.rss_kib, usage.fds))
    }

    /// The fewest and most open files under load.
    fn fds_under_load(&self) -> (usize, usize) {
        let fds = self.samples.iter().map(|(_, usage)| usage.fds);
        (fds.clone().min().unwrap_or(0), fds.max().unwrap_or(0))
    }

    /// The goals missed, in words.
    fn missed(&self) -> Vec<String> {
        let mut missed = Vec::new();
        if self.errors() > 0 {
            missed.push(format!(
                "{}: {} unexpected errors",
                self.runtime,
                self.errors()
            ));
        }
        let grew = |from: u64, to: u64| to as f64 > from as f64 * (1.0 + RSS_GROWTH);
        let (first, last) = self.rss_floors();
        if self.samples.is_empty() || grew(first, last) {
            missed.push(format!(
                "{}: the RSS under load rose from {first} KiB to {last} KiB (lowest samples of \
                 the first and last fifths; more than {:.0}%)",
                self.runtime,
                RSS_GROWTH * 100.0
            ));
        }
        if grew(self.before.rss_kib, self.after.rss_kib) {
            missed.push(format!(
                "{}: the settled RSS rose from {} KiB after the warm-up to {} KiB after the soak \
                 (more than {:.0}%)",
                self.runtime,
                self.before.rss_kib,
                self.after.rss_kib,
                RSS_GROWTH * 100.0
            ));
        }
        if self.after.fds > self.before.fds {
            missed.push(format!(
                "{}: {} open files after the soak, {} before",
                self.runtime, self.after.fds, self.before.fds
            ));
        }
        if self.after.threads > self.before.threads {
            missed.push(format!(
                "{}: {} threads after the soak, {} before",
                self.runtime, self.after.threads, self.before.threads
            ));
        }
        missed
    }
}

pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let mut minutes = 10.0;
    let mut runtimes = vec!["tokio", "smol"];
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--minutes" => {
                minutes = rest
                    .next()
                    .and_then(|value| value.parse::<f64>().ok())
                    .filter(|value| *value > 0.0 && value.is_finite())
                    .ok_or("--minutes takes a positive number")?;
            }
            "--runtime" => {
                runtimes = match rest.next().copied() {
                    Some("tokio") => vec!["tokio"],
                    Some("smol") => vec!["smol"],
                    _ => return Err("--runtime takes tokio or smol".into()),
                };
            }
            other => return Err(format!("soak: unknown argument {other:?}")),
        }
    }
    if !Path::new("/proc/self/status").exists() {
        return Err("soak reads the server's /proc entries: Linux only".into());
    }
    let mut build = cargo();
    build.args(["build", "--release", "--quiet", "--example", "soak_server"]);
    step("build examples/soak (release)", build)?;
    let logs = root().join("target/soak");
    std::fs::create_dir_all(&logs).map_err(|err| format!("{}: {err}", logs.display()))?;
    let mut all = Vec::new();
    for runtime in runtimes {
        all.push(soak(runtime, minutes, &logs)?);
    }
    print_table(&all, minutes);
    let missed: Vec<String> = all.iter().flat_map(Figures::missed).collect();
    if missed.is_empty() {
        println!("soak: every goal met");
        Ok(())
    } else {
        Err(format!("soak goals missed:\n  {}", missed.join("\n  ")))
    }
}

fn binary() -> PathBuf {
    target_dir().join("release/examples/soak_server")
}

/// One runtime's soak, from the server's start to its end.
fn soak(runtime: &'static str, minutes: f64, logs: &Path) -> Result<Figures, String> {
    let log = logs.join(format!("server-{runtime}.log"));
    let stderr = std::fs::File::create(&log).map_err(|err| format!("{}: {err}", log.display()))?;
    let mut server = Child(
        Command::new(binary())
            .args(["--port", "0"])
            .env("PORTICO_RUNTIME", runtime)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|err| format!("starting examples/soak: {err}"))?,
    );
    let pid = server.0.id();
    let stdout = server.0.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|err| format!("reading the soak server's address: {err}"))?;
    let addr = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .ok_or_else(|| format!("no address in {line:?}"))?
        .to_owned();
    println!("==> soak on {runtime}: server pid {pid} at {addr}");

    let mut figures = Figures {
        runtime,
        ..Figures::default()
    };
    let probe = PROBE.as_secs_f64().to_string();
    figures.probe = drive(&addr, &["--probe", &probe], "probe", || {})?;
    figures.capacity = figures.probe.rate;
    figures.target = (figures.capacity * LOAD_SHARE).round().max(1.0);
    let rate = figures.target.to_string();
    println!(
        "    capacity {:.0} requests/s; the soak runs at {rate}/s",
        figures.capacity
    );

    let soak_seconds = minutes * 60.0;
    let warm_up = (soak_seconds / 10.0).clamp(15.0, 60.0).to_string();
    figures.warm_up = drive(
        &addr,
        &["--rate", &rate, "--seconds", &warm_up],
        "warm-up",
        || {},
    )?;
    figures.before = settle(pid, |_| false)?;
    println!(
        "    settled after the warm-up: {}; threads by name: {}",
        figures.before.describe(),
        thread_names(pid)
    );

    let started = Instant::now();
    let mut samples = Vec::new();
    let seconds = soak_seconds.to_string();
    // The first sample is taken under load, one period in.
    figures.soak = drive(
        &addr,
        &["--rate", &rate, "--seconds", &seconds],
        "soak",
        || {
            let due = SAMPLE_EVERY * (samples.len() as u32 + 1);
            if started.elapsed() >= due
                && let Ok(usage) = usage(pid)
            {
                samples.push((started.elapsed().as_secs_f64(), usage));
            }
        },
    )?;
    figures.samples = samples;
    write_samples(&figures, logs)?;
    let before = figures.before.clone();
    figures.after = settle(pid, |now| {
        now.fds <= before.fds && now.threads <= before.threads
    })?;
    println!(
        "    settled after the soak: {}; threads by name: {}",
        figures.after.describe(),
        thread_names(pid)
    );
    let stderr_lines = std::fs::read_to_string(&log).map_or(0, |text| text.lines().count());
    if stderr_lines > 0 {
        println!(
            "    the server wrote {stderr_lines} lines to {}",
            log.display()
        );
    }
    drop(server);
    Ok(figures)
}

/// Writes a runtime's samples to `LOGS/samples-RUNTIME.tsv`, for a closer look or a plot.
fn write_samples(figures: &Figures, logs: &Path) -> Result<(), String> {
    let path = logs.join(format!("samples-{}.tsv", figures.runtime));
    let mut text = String::from("seconds\trss_kib\topen_files\tthreads\n");
    for (at, usage) in &figures.samples {
        text.push_str(&format!(
            "{at:.1}\t{}\t{}\t{}\n",
            usage.rss_kib, usage.fds, usage.threads
        ));
    }
    std::fs::write(&path, text).map_err(|err| format!("{}: {err}", path.display()))?;
    println!("    samples: {}", path.display());
    Ok(())
}

/// Runs the driver with `args` and waits for it, calling `tick` about every 100 ms meanwhile,
/// and returns what its `result` line says.
fn drive(addr: &str, args: &[&str], phase: &str, mut tick: impl FnMut()) -> Result<Driven, String> {
    let started = Instant::now();
    let mut driver = Child(
        Command::new(binary())
            .args(["--drive", addr])
            .args(args)
            .env("PORTICO_RUNTIME", "tokio")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| format!("starting the driver: {err}"))?,
    );
    let mut stdout = driver.0.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    loop {
        tick();
        match driver.0.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(err) => return Err(format!("waiting for the driver: {err}")),
        }
    }
    let text = reader.join().unwrap_or_default();
    let driven = parse_result(&text)
        .ok_or_else(|| format!("the driver's {phase} gave no result line:\n{text}"))?;
    println!(
        "    {phase}: {} requests in {:.1?}, {:.0}/s, {} unexpected, {} late",
        driven.requests,
        started.elapsed(),
        driven.rate,
        driven.errors,
        driven.late
    );
    for line in &driven.error_lines {
        println!("      {line}");
    }
    Ok(driven)
}

fn parse_result(text: &str) -> Option<Driven> {
    let result = text.lines().find(|line| line.starts_with("result "))?;
    let value = |key: &str| {
        result
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .and_then(|value| value.parse::<f64>().ok())
    };
    Some(Driven {
        requests: value("requests")? as u64,
        errors: value("errors")? as u64,
        late: value("late")? as u64,
        rate: value("rate")?,
        error_lines: text
            .lines()
            .filter(|line| line.starts_with("error "))
            .map(str::to_owned)
            .collect(),
    })
}

/// The server's RSS, open files and threads now.
fn usage(pid: u32) -> Result<Usage, String> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let status = std::fs::read_to_string(proc.join("status"))
        .map_err(|err| format!("the server's /proc status: {err}"))?;
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .ok_or("no VmRSS in the server's status")?;
    let count = |dir: &str| {
        std::fs::read_dir(proc.join(dir))
            .map(Iterator::count)
            .map_err(|err| format!("the server's /proc {dir}: {err}"))
    };
    Ok(Usage {
        rss_kib,
        fds: count("fd")?,
        threads: count("task")?,
    })
}

/// The server's threads grouped by name, digits left out: `blocking 9, portico-smol 2, ...`.
fn thread_names(pid: u32) -> String {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .map(|name| {
                    let name = name.trim().trim_end_matches(|c: char| c.is_ascii_digit());
                    name.trim_end_matches(['-', '_']).to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for name in names {
        match groups.last_mut() {
            Some((last, count)) if *last == name => *count += 1,
            _ => groups.push((name, 1)),
        }
    }
    let groups: Vec<String> = groups
        .iter()
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    groups.join(", ")
}

/// Waits until the server's open files and threads have not changed for `SETTLED_FOR`, or
/// until `enough` holds, at most `SETTLE_AT_MOST`; returns the usage then.
fn settle(pid: u32, enough: impl Fn(&Usage) -> bool) -> Result<Usage, String> {
    let started = Instant::now();
    let mut last = usage(pid)?;
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = usage(pid)?;
        if (now.fds, now.threads) != (last.fds, last.threads) {
            since = Instant::now();
        }
        last = now.clone();
        if enough(&now) || since.elapsed() >= SETTLED_FOR || started.elapsed() >= SETTLE_AT_MOST {
            return Ok(now);
        }
    }
}

fn print_table(all: &[Figures], minutes: f64) {
    println!(
        "\nsoak: {minutes} min per runtime at {:.0}% of the measured capacity\n",
        LOAD_SHARE * 100.0
    );
    let mut header = String::from("| |");
    let mut rule = String::from("| --- |");
    for figures in all {
        header.push_str(&format!(" {} |", figures.runtime));
        rule.push_str(" --- |");
    }
    println!("{header}\n{rule}");
    let row = |name: &str, cell: &dyn Fn(&Figures) -> String| {
        let mut line = format!("| {name} |");
        for figures in all {
            line.push_str(&format!(" {} |", cell(figures)));
        }
        println!("{line}");
    };
    row("capacity (probe, requests/s)", &|f| {
        format!("{:.0}", f.capacity)
    });
    row("soak rate: target / achieved", &|f| {
        format!("{:.0} / {:.0}", f.target, f.soak.rate)
    });
    row("requests (probe + warm-up + soak)", &|f| {
        format!(
            "{} + {} + {}",
            f.probe.requests, f.warm_up.requests, f.soak.requests
        )
    });
    row("late (skipped) requests", &|f| {
        (f.warm_up.late + f.soak.late).to_string()
    });
    row("unexpected errors", &|f| f.errors().to_string());
    row("samples under load (every 5 s)", &|f| {
        f.samples.len().to_string()
    });
    let change =
        |from: u64, to: u64| format!("{:+.1}%", (to as f64 / from.max(1) as f64 - 1.0) * 100.0);
    row("RSS under load, lowest in first / last fifth (KiB)", &|f| {
        let (first, last) = f.rss_floors();
        format!("{first} / {last} ({})", change(first, last))
    });
    row("RSS under load, highest (KiB; open files then)", &|f| {
        let (kib, fds) = f.rss_max();
        format!("{kib} ({fds})")
    });
    row("RSS settled, after warm-up / after soak (KiB)", &|f| {
        let (before, after) = (f.before.rss_kib, f.after.rss_kib);
        format!("{before} / {after} ({})", change(before, after))
    });
    row("open files under load, fewest / most", &|f| {
        let (fewest, most) = f.fds_under_load();
        format!("{fewest} / {most}")
    });
    row("open files: after warm-up / after soak", &|f| {
        format!("{} / {}", f.before.fds, f.after.fds)
    });
    row("threads: after warm-up / after soak", &|f| {
        format!("{} / {}", f.before.threads, f.after.threads)
    });
    row("goals", &|f| {
        if f.missed().is_empty() {
            "met".into()
        } else {
            "MISSED".into()
        }
    });
    println!();
    for figures in all {
        // The first sample of each minute.
        let mut minute = None;
        let per_minute: Vec<String> = figures
            .samples
            .iter()
            .filter(|(at, _)| {
                let this = (*at / 60.0).floor() as u64;
                minute.replace(this) != Some(this)
            })
            .map(|(at, usage)| format!("{at:.0} s: {}", usage.rss_kib))
            .collect();
        println!(
            "RSS (KiB) on {}, the first sample of each minute: {}",
            figures.runtime,
            per_minute.join(", ")
        );
    }
}
