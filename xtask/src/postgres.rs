//! A throw-away PostgreSQL server for `cargo xtask cluster`: Debian's (the package `postgresql`,
//! installed with apt-get when missing), its data in a new temporary directory, listening on a
//! free loopback port and on a socket in that directory, nowhere else, with `trust`
//! authentication (only this machine can reach it). Stopped, and its directory removed, when
//! dropped, on success or failure.
//!
//! `initdb` refuses to run as root, so as root every server command runs as the `postgres`
//! user that Debian's package creates (`runuser -u postgres --`), and that user owns the
//! directory.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::{apt_install, is_root};
use crate::nginx::free_port;

/// A running server.
pub(crate) struct Postgres {
    /// Where its programs are, or `None` for the ones on `PATH`.
    bin: Option<PathBuf>,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    started: bool,
    /// What `pg_ctl --version` says.
    pub(crate) version: String,
}

/// Debian keeps each major version's server programs in `/usr/lib/postgresql/VERSION/bin`, off
/// `PATH`: the newest there, else `initdb` on `PATH` (another system's layout).
fn find_bin() -> Option<Option<PathBuf>> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(Some(bin));
    }
    let on_path = Command::new("initdb").arg("--version").output().is_ok();
    on_path.then_some(None)
}

impl Postgres {
    /// Installs the server if missing, makes a cluster and starts it.
    pub(crate) fn start() -> Result<Postgres, String> {
        let bin = match find_bin() {
            Some(bin) => bin,
            None => {
                println!("xtask: the PostgreSQL server is missing; installing it");
                apt_install("postgresql")?;
                find_bin().ok_or("no initdb after installing postgresql")?
            }
        };
        let dir = std::env::temp_dir().join(format!("portico-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        let mut server = Postgres {
            bin,
            dir,
            port: free_port()?,
            as_postgres: is_root(),
            started: false,
            version: String::new(),
        };
        server.version = String::from_utf8_lossy(&server.run("pg_ctl", &["--version"])?.stdout)
            .trim()
            .to_owned();
        if server.as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&server.dir);
            output(chown, "chown postgres:")?;
        }
        let data = server.dir.join("data");
        let data = data
            .to_str()
            .ok_or("the temporary directory is not UTF-8")?;
        // `--no-sync`: the new cluster's files are not flushed to disk one by one (the server
        // itself flushes its log at each commit, as configured by default).
        server.run(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let log = server.dir.join("postgres.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={}",
            server.port,
            server.dir.display()
        );
        let log = log.to_str().ok_or("the temporary directory is not UTF-8")?;
        server.started = true;
        server.run(
            "pg_ctl",
            &[
                "-D", data, "-l", log, "-w", "-t", "30", "-o", &options, "start",
            ],
        )?;
        Ok(server)
    }

    /// The URL of the database `name` on this server.
    pub(crate) fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Where it listens.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` with psql on the database `db`; returns what it printed, unaligned and
    /// without headers (`|` between columns, a line per row).
    pub(crate) fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut psql = Command::new(self.program("psql"));
        psql.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
        ])
        .args([
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ]);
        let out = output(psql, &format!("psql -c {sql:?}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn program(&self, name: &str) -> PathBuf {
        match &self.bin {
            Some(bin) => bin.join(name),
            None => PathBuf::from(name),
        }
    }

    /// Runs a server program, as the `postgres` user when this is root.
    fn run(&self, name: &str, args: &[&str]) -> Result<Output, String> {
        let mut cmd = if self.as_postgres {
            let mut runuser = Command::new("runuser");
            runuser
                .args(["-u", "postgres", "--"])
                .arg(self.program(name));
            runuser
        } else {
            Command::new(self.program(name))
        };
        // A directory the postgres user may read: it cannot always read the workspace.
        cmd.args(args).current_dir(&self.dir);
        output(cmd, name)
    }

    fn stop(&self) -> Result<(), String> {
        let data = self.dir.join("data");
        let data = data
            .to_str()
            .ok_or("the temporary directory is not UTF-8")?;
        self.run("pg_ctl", &["-D", data, "-m", "fast", "-w", "stop"])
            .map(drop)
    }

    /// The server's log, for a failure's report.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.started
            && let Err(err) = self.stop()
        {
            eprintln!("xtask: stopping PostgreSQL: {err}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd` to its end; fails with what it printed unless it succeeded.
fn output(mut cmd: Command, name: &str) -> Result<Output, String> {
    let out = cmd
        .output()
        .map_err(|err| format!("{name}: could not start: {err}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{name} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
