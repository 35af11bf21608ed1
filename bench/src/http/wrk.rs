//! One timed run: `wrk` against a server, and the server's CPU time over the run.

use std::path::Path;
use std::process::Command;

use super::endpoints::Endpoint;
use super::servers::Running;

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub rps: f64,
    pub p99_ms: f64,
    pub cpu_us: f64,
}

/// CPU time used so far by a process and all its threads, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server is running");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, so 11 and 12 after the name.
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .expect("getconf");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(100.0)
    })
}

/// Runs `wrk -t1 -cCONNECTIONS` for `seconds` on `cpu`; `script` sets the body of a POST.
pub fn run(
    cpu: &str,
    connections: usize,
    running: &Running,
    endpoint: &Endpoint,
    seconds: u64,
    script: &Path,
) -> Sample {
    let url = format!("http://{}{}", running.addr, endpoint.path);
    let mut command = Command::new("taskset");
    command.args([
        "-c",
        cpu,
        "wrk",
        "-t1",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if endpoint.body.is_some() {
        command.arg("-s").arg(script);
    }
    for header in endpoint.headers {
        command.args(["-H", header]);
    }
    command.arg(&url);
    let before = cpu_seconds(running.child.id());
    let out = command
        .output()
        .expect("wrk runs (install it: apt-get install wrk)");
    let after = cpu_seconds(running.child.id());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains("Non-2xx"),
        "{url}: wrk saw error responses:\n{text}"
    );
    let number = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(prefix)
                    .map(|rest| rest.trim().to_owned())
            })
            .map(|v| {
                let v = v.split_whitespace().next().unwrap_or("0");
                v.parse().unwrap_or(0.0)
            })
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{url}: no request count in wrk's output:\n{text}"));
    let rps = number("Requests/sec:").unwrap_or(0.0);
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%").map(|v| v.trim().to_owned()))
        .map(|v| duration_ms(&v))
        .unwrap_or(f64::NAN);
    Sample {
        rps,
        p99_ms: p99,
        cpu_us: (after - before) / requests * 1e6,
    }
}

/// wrk's durations: `1.23ms`, `456.00us`, `1.02s`.
fn duration_ms(text: &str) -> f64 {
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}

/// The Lua script that makes wrk send `/echo`'s body.
pub fn echo_script(body: &str) -> std::path::PathBuf {
    let script =
        std::env::temp_dir().join(format!("portico-bench-echo-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!("wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"),
    )
    .expect("writes the wrk script");
    script
}
