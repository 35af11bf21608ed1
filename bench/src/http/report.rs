//! The tables: one per connection count for the timed runs, one for instructions per request,
//! and Portico against its baseline build for both.

use std::collections::BTreeMap;

use super::endpoints::Endpoint;
use super::instructions::Counts;
use super::servers::{HYPER, Server};
use super::stats;
use super::wrk::Sample;

/// Timed samples, one per round, by (server, endpoint, connection count) index.
pub type Samples = BTreeMap<(usize, usize, usize), Vec<Sample>>;

fn pick(f: fn(&Sample) -> f64, of: &[Sample]) -> Vec<f64> {
    of.iter().map(f).collect()
}

/// The index of the figures an endpoint's ratio is taken against: raw hyper's on the same
/// endpoint, or for an `against` endpoint the same server's on that other endpoint.
fn reference(
    servers: &[Server],
    endpoints: &[&Endpoint],
    s: usize,
    e: usize,
) -> Option<(usize, usize)> {
    match endpoints[e].against {
        None => Some((servers.iter().position(|x| x.name == HYPER)?, e)),
        Some(other) => Some((s, endpoints.iter().position(|x| x.name == other)?)),
    }
}

fn label(endpoint: &Endpoint) -> String {
    match endpoint.against {
        None => endpoint.name.to_owned(),
        Some(other) => format!("{} [vs {other}]", endpoint.name),
    }
}

/// The timed table for the connection count of index `c`, with the instruction counts beside
/// it when there are any.
pub fn timed(
    servers: &[Server],
    endpoints: &[&Endpoint],
    samples: &Samples,
    c: usize,
    counts: &Counts,
) {
    let with_counts = !counts.is_empty();
    print!(
        "| endpoint | server | req/s | p99 ms | CPU µs/req | req/s ratio | p99 ratio | CPU/req ratio |"
    );
    println!(
        "{}",
        if with_counts {
            " instr/req | instr ratio |"
        } else {
            ""
        }
    );
    print!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    println!("{}", if with_counts { " --- | --- |" } else { "" });
    for (e, endpoint) in endpoints.iter().enumerate() {
        for (s, server) in servers.iter().enumerate() {
            let Some(mine) = samples.get(&(s, e, c)) else {
                continue;
            };
            let base =
                reference(servers, endpoints, s, e).and_then(|(bs, be)| samples.get(&(bs, be, c)));
            let Some(base) = base else {
                println!(
                    "| {} | {} | (run it with `{}` and hyper to compare) |",
                    endpoint.name,
                    server.name,
                    endpoint.against.unwrap_or("hyper")
                );
                continue;
            };
            let rps = pick(|x| x.rps, mine);
            let p99 = pick(|x| x.p99_ms, mine);
            let cpu = pick(|x| x.cpu_us, mine);
            print!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.3} | {:.3} | {:.3} |",
                label(endpoint),
                server.name,
                stats::median(&rps),
                stats::median(&p99),
                stats::median(&cpu),
                stats::paired_ratio(&rps, &pick(|x| x.rps, base)),
                stats::paired_ratio(&p99, &pick(|x| x.p99_ms, base)),
                stats::paired_ratio(&cpu, &pick(|x| x.cpu_us, base)),
            );
            if with_counts {
                match instruction_cells(servers, endpoints, counts, s, e) {
                    Some((mine, ratio)) => print!(" {mine:.0} | {ratio} |"),
                    None => print!(" | |"),
                }
            }
            println!();
        }
    }
}

/// A server's median instructions per request on an endpoint, and its ratio to the reference's
/// median (as text: empty when there is no reference).
fn instruction_cells(
    servers: &[Server],
    endpoints: &[&Endpoint],
    counts: &Counts,
    s: usize,
    e: usize,
) -> Option<(f64, String)> {
    let mine = stats::median(counts.get(&(s, e))?);
    let ratio = reference(servers, endpoints, s, e)
        .and_then(|r| counts.get(&r))
        .map(|base| format!("{:.3}", mine / stats::median(base)))
        .unwrap_or_default();
    Some((mine, ratio))
}

/// The instruction table: median, spread over the runs, ratio to the reference.
pub fn instructions(servers: &[Server], endpoints: &[&Endpoint], counts: &Counts) {
    println!("| endpoint | server | instructions/req | spread | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for (e, endpoint) in endpoints.iter().enumerate() {
        for (s, server) in servers.iter().enumerate() {
            let Some(runs) = counts.get(&(s, e)) else {
                continue;
            };
            let (mine, ratio) =
                instruction_cells(servers, endpoints, counts, s, e).unwrap_or_default();
            println!(
                "| {} | {} | {:.0} | {:.2}% | {} |",
                label(endpoint),
                server.name,
                mine,
                spread(runs) * 100.0,
                ratio
            );
        }
    }
}

/// (max - min) / median.
fn spread(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / stats::median(values)
}

/// The pairs (runtime, Portico's index, the baseline's index) that both ran.
fn baseline_pairs(servers: &[Server]) -> Vec<(&'static str, usize, usize)> {
    let find = |name: &str| servers.iter().position(|s| s.name == name);
    [
        ("tokio", "portico (tokio)", "portico-base (tokio)"),
        ("smol", "portico (smol)", "portico-base (smol)"),
    ]
    .into_iter()
    .filter_map(|(runtime, mine, base)| Some((runtime, find(mine)?, find(base)?)))
    .collect()
}

/// Portico's CPU per request over the baseline build's on the same runtime, at the
/// connection count of index `c`.
pub fn timed_baseline(servers: &[Server], endpoints: &[&Endpoint], samples: &Samples, c: usize) {
    let pairs = baseline_pairs(servers);
    if pairs.is_empty() {
        return;
    }
    println!(
        "| endpoint | runtime | portico CPU µs/req | baseline CPU µs/req | CPU/req ratio | req/s ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (e, endpoint) in endpoints.iter().enumerate() {
        for &(runtime, m, b) in &pairs {
            let (Some(mine), Some(base)) = (samples.get(&(m, e, c)), samples.get(&(b, e, c)))
            else {
                continue;
            };
            let cpu = pick(|x| x.cpu_us, mine);
            let base_cpu = pick(|x| x.cpu_us, base);
            println!(
                "| {} | {runtime} | {:.2} | {:.2} | {:.3} | {:.3} |",
                endpoint.name,
                stats::median(&cpu),
                stats::median(&base_cpu),
                stats::paired_ratio(&cpu, &base_cpu),
                stats::paired_ratio(&pick(|x| x.rps, mine), &pick(|x| x.rps, base)),
            );
        }
    }
}

/// Portico's instructions per request over the baseline build's on the same runtime.
pub fn instructions_baseline(servers: &[Server], endpoints: &[&Endpoint], counts: &Counts) {
    let pairs = baseline_pairs(servers);
    if pairs.is_empty() || counts.is_empty() {
        return;
    }
    println!(
        "| endpoint | runtime | portico instr/req | spread | baseline instr/req | spread | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (e, endpoint) in endpoints.iter().enumerate() {
        for &(runtime, m, b) in &pairs {
            let (Some(mine), Some(base)) = (counts.get(&(m, e)), counts.get(&(b, e))) else {
                continue;
            };
            println!(
                "| {} | {runtime} | {:.0} | {:.2}% | {:.0} | {:.2}% | {:.4} |",
                endpoint.name,
                stats::median(mine),
                spread(mine) * 100.0,
                stats::median(base),
                spread(base) * 100.0,
                stats::median(mine) / stats::median(base),
            );
        }
    }
}
